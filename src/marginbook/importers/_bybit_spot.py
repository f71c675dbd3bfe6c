"""Bybit unified trading account: the spot order history export, one fill per row.

Two spellings of one export are known from public parsers (none from Bybit's help pages):

- ``Spot Pairs,Order Type,Direction,Filled Value,Filled Price,Filled Quantity,Fees,Transaction
  ID,Order No.,Timestamp (UTC)``, time written ``HH:MM YYYY-MM-DD`` (no seconds), as documented
  with sample rows by a fifo-calc converter's "Exchange Data Files" page;
- ``Uid,Spot Pairs,…,Timestamp (UTC+0)`` below a one-line preamble ``UID: …,Company Name:
  ,Country:``, time ``YYYY-MM-DD HH:MM:SS`` (the "Trade History Statement Spot" a trade journal's
  parser reads, with its real-file fixture).

``Filled Quantity`` is the base, ``Filled Value`` the quote (``Filled Quantity × Filled Price``).
The samples' ``Fees`` are 0.1 % of what the fill *received*: base on a ``BUY`` (10 ICP bought,
fee 0.01), quote on a ``SELL`` (49.97 USDT received, fee 0.0499): Bybit charges spot fees in the
received asset, so the fee asset is read that way. A fill whose value is not quantity × price
(to the precision of the cells) is rejected, since its columns would then not be what this
module assumes. The ``Transaction ID`` is the fill's id: ``bybit:spot:ID``.
"""

from __future__ import annotations

import re
from datetime import datetime

from marginbook.domain.events import EventKind, Origin
from marginbook.domain.numbers import decimal_context
from marginbook.importers._assets import split_symbol
from marginbook.importers._csvrows import (
    CellError,
    Draft,
    Row,
    decimal_cell,
    draft,
    has_columns,
    utc_time,
)

_FILL = (
    "Spot Pairs", "Order Type", "Direction", "Filled Value", "Filled Price", "Filled Quantity", "Fees",
    "Transaction ID", "Order No.",
)
SPOT_ORDERS = "Bybit unified account spot order history"
SPOT_STATEMENT = "Bybit unified account spot trade history statement"
LAYOUTS: dict[str, tuple[str, ...]] = {
    SPOT_ORDERS: (*_FILL, "Timestamp (UTC)"),
    SPOT_STATEMENT: ("Uid", *_FILL, "Timestamp (UTC+0)"),
}

#: Quote codes tried in order when a pair is written without separator (``ICPUSDT``).
_QUOTES = ("USDT", "USDC", "USDE", "DAI", "EUR", "BRL", "TRY", "BTC", "ETH", "MNT")
_MINUTE_FIRST = re.compile(r"^(\d{1,2}):(\d{2}) (\d{4}-\d{2}-\d{2})$")
_PREAMBLE = re.compile(r"^UID:\s*\S*$", re.IGNORECASE)


def is_preamble(header: list[str]) -> bool:
    """True for the ``UID: 123,Company Name: ,Country:`` line above the statement's header."""
    return bool(header) and _PREAMBLE.match(header[0]) is not None and any(
        cell.lower().startswith("company name:") for cell in header[1:]
    )


def is_header(cells: list[str]) -> bool:
    """True for the header row of either spot layout."""
    return any(has_columns(cells, columns) for columns in LAYOUTS.values())


def _fill_time(row: Row, column: str) -> datetime:
    text = row.text(column)
    minute_first = _MINUTE_FIRST.match(text)
    if minute_first is not None:
        hour, minute, day = minute_first.groups()
        text = f"{day} {int(hour):02d}:{minute}:00"
    return utc_time(text, column)


def fill(row: Row, wallet: str) -> list[Draft]:
    """One spot fill → a ``buy``/``sell`` with its fee in the received asset."""
    pair = split_symbol(row.required("Spot Pairs"), _QUOTES)
    if pair is None:
        raise CellError("Spot Pairs", f"cannot tell base and quote of pair {row.text('Spot Pairs')!r}")
    base, quote = pair
    direction = row.text("Direction").upper()
    if direction not in ("BUY", "SELL"):
        raise CellError("Direction", f"expected BUY or SELL, got {row.text('Direction')!r}")
    quantity = decimal_cell(row, "Filled Quantity")
    value = decimal_cell(row, "Filled Value")
    price = decimal_cell(row, "Filled Price")
    fee = decimal_cell(row, "Fees")
    for column, number in (("Filled Quantity", quantity), ("Filled Value", value), ("Fees", fee)):
        if number < 0:
            raise CellError(column, "must not be negative")
    if quantity == 0:
        return []
    with decimal_context():
        implied = quantity * price
    # The venue rounds the value to its own precision; a difference beyond one part in 10^6 means
    # the columns are not quantity, price and value.
    if abs(implied - value) > abs(value) / 1_000_000:
        raise CellError("Filled Value", f"{value} is not Filled Quantity × Filled Price ({implied}); "
                        "the export's columns are not as marginbook knows them")
    kind = EventKind.BUY if direction == "BUY" else EventKind.SELL
    fee_asset = base if kind is EventKind.BUY else quote
    time_column = "Timestamp (UTC)" if "Timestamp (UTC)" in row.cells else "Timestamp (UTC+0)"
    fill_id = row.required("Transaction ID")
    event = draft(
        timestamp=_fill_time(row, time_column), kind=kind, wallet=wallet, asset=base, amount=quantity,
        counter_asset=quote, counter_amount=value,
        fee_asset=fee_asset if fee else None, fee_amount=fee if fee else None,
        note=f"Bybit spot {row.text('Order Type')} order {row.text('Order No.')}".strip(),
        origin=Origin(row.source, row.number, fill_id),
    )
    return [Draft(event, venue_id=f"spot:{fill_id}")]
