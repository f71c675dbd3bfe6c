"""Coinbase: the transaction history report (Statements → Transaction history → CSV).

The report starts with a short title block (``Transactions``, the user's name and id), then
the header. Since 2024 it has an ``ID`` column and names the price columns ``Price Currency`` /
``Price at Transaction``; older reports have no ``ID`` and say ``Spot Price …``. Both are read.
Times are UTC (``2024-03-02 14:05:00 UTC``); money cells carry a currency sign (``$30,000.00``);
``Subtotal`` is the value before fees, ``Fees and/or Spread`` the fee, both in the price
currency. Sells and sends may carry a negative quantity: the sign is dropped, the type says
the direction.

Row mapping (``docs/importers.md``): Buy / Advanced Trade Buy → ``buy``; Sell / Advanced Trade
Sell → ``sell``; Convert → one trade read from its note (``Converted 1 ETH to 0.05 BTC``);
Send / Withdrawal → ``withdrawal``; Receive / Deposit → ``deposit``; staking, rewards,
learning and inflation rewards, interest → ``income`` valued at the report's USD subtotal;
moves between Coinbase's own staking balances → nothing. Other types are reported.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.domain.numbers import decimal_context
from marginbook.importers._assets import USD_STABLECOINS, trade_kind_and_sides
from marginbook.importers._csvrows import (
    CellError,
    Draft,
    ProblemLog,
    Row,
    assign_ids,
    decimal_cell,
    decimal_of,
    draft,
    has_columns,
    optional_decimal,
    read_table,
    time_cell,
)

FORMAT_NAME = "coinbase"
DESCRIPTION = "Coinbase transaction history report (CSV, 2021 and 2024+ layouts)"

REPORT_2024 = "Coinbase transaction history report"
REPORT_2021 = "Coinbase transaction history report (before 2024)"
COLUMNS_2024 = (
    "ID", "Timestamp", "Transaction Type", "Asset", "Quantity Transacted", "Price Currency",
    "Price at Transaction", "Subtotal", "Total (inclusive of fees and/or spread)", "Fees and/or Spread",
    "Notes",
)
COLUMNS_2021 = (
    "Timestamp", "Transaction Type", "Asset", "Quantity Transacted", "Spot Price Currency",
    "Spot Price at Transaction", "Subtotal", "Total (inclusive of fees and/or spread)",
    "Fees and/or Spread", "Notes",
)

#: "Advance Trade …" (sic) is a spelling BittyTax's Coinbase parser meets in real reports.
_BUYS = frozenset({"buy", "advanced trade buy", "advance trade buy"})
_SELLS = frozenset({"sell", "advanced trade sell", "advance trade sell"})
_INCOME = frozenset({
    "staking income", "rewards income", "learning reward", "inflation reward", "coinbase earn",
    "interest", "reward income",
})
_INTERNAL = frozenset({"retail staking transfer", "retail unstaking transfer", "retail eth2 deprecation"})

_CONVERTED = re.compile(r"Converted\s+([\d.,]+)\s+(\w+)\s+to\s+([\d.,]+)\s+(\w+)", re.IGNORECASE)
_ADVANCED = re.compile(r"\bon\s+(\w+)-(\w+)\s+at\s+([\d.,]+)\s+\w+/\w+", re.IGNORECASE)


def _looks_like_header(cells: list[str]) -> bool:
    return "Timestamp" in cells and "Transaction Type" in cells


def matches(header: list[str]) -> bool:
    """True for the report's header, or for the first line of its title block.

    The registry hands over the first non-blank row, which in a Coinbase report is the title
    ``Transactions`` (2024+) or the tax notice ``You can use this transaction report …``.
    """
    if has_columns(header, COLUMNS_2024) or has_columns(header, COLUMNS_2021):
        return True
    first = [cell.strip() for cell in header if cell.strip()]
    if not first:
        return False
    return first == ["Transactions"] or first[0].startswith("You can use this transaction report")


def read(path: Path, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Every event of a Coinbase transaction history report.

    Args:
        path: the report.
        wallet: the wallet to book into; default ``coinbase``.

    Raises:
        InputError: naming every row that is malformed or not understood; nothing is returned.
    """
    table = read_table(
        path, {REPORT_2024: COLUMNS_2024, REPORT_2021: COLUMNS_2021},
        is_header=_looks_like_header, max_preamble=8,
    )
    price_column = "Price Currency" if table.layout == REPORT_2024 else "Spot Price Currency"
    log = ProblemLog(table.source)
    drafts: list[Draft] = []
    for row in table.rows:
        with log.row(row):
            drafts.extend(_row_drafts(row, wallet or FORMAT_NAME, price_column))
    events = assign_ids(drafts, prefix=FORMAT_NAME, log=log)
    log.raise_if_any()
    return events


def _row_drafts(row: Row, wallet: str, price_column: str) -> list[Draft]:
    kind = row.required("Transaction Type").lower()
    venue_id = row.text("ID") or None
    asset = row.required("Asset").upper()
    quantity = abs(decimal_cell(row, "Quantity Transacted"))
    currency = row.required(price_column).upper()
    subtotal = optional_decimal(row, "Subtotal")
    fee = optional_decimal(row, "Fees and/or Spread")
    fee = abs(fee) if fee else None
    common = {
        "timestamp": time_cell(row, "Timestamp"), "wallet": wallet,
        "origin": Origin(source=row.source, row=row.number, ref=venue_id),
    }
    if kind in _INTERNAL:
        return []
    if kind in _BUYS or kind in _SELLS:
        side = EventKind.BUY if kind in _BUYS else EventKind.SELL
        counter_asset, counter_amount, fee_asset = _trade_counter(row, quantity, currency, subtotal)
        event = draft(kind=side, asset=asset, amount=quantity, counter_asset=counter_asset,
                      counter_amount=counter_amount, fee_asset=fee_asset if fee else None,
                      fee_amount=fee, **common)
        return [Draft(event, venue_id)]
    if kind == "convert":
        match = _CONVERTED.search(row.text("Notes"))
        if match is None:
            raise CellError("Notes", "a Convert row needs a note 'Converted X ASSET to Y ASSET' to tell what "
                            "was received")
        given_qty = decimal_of(match.group(1), "Notes")
        received_qty = decimal_of(match.group(3), "Notes")
        if given_qty is None or received_qty is None or given_qty <= 0 or received_qty <= 0:
            raise CellError("Notes", "the converted quantities must be positive")
        given_asset, received_asset = match.group(2).upper(), match.group(4).upper()
        if given_asset != asset or given_qty != quantity:
            raise CellError("Notes", f"the note converts {match.group(1)} {given_asset}, but the row says "
                            f"{row.text('Quantity Transacted')} {asset}")
        trade_kind, side_leg, counter_leg = trade_kind_and_sides(
            (given_asset, given_qty), (received_asset, received_qty)
        )
        event = draft(kind=trade_kind, asset=side_leg[0], amount=side_leg[1], counter_asset=counter_leg[0],
                      counter_amount=counter_leg[1], note="Coinbase convert (spread included in the rate)",
                      **common)
        return [Draft(event, venue_id)]
    if kind in ("send", "withdrawal"):
        return [Draft(draft(kind=EventKind.WITHDRAWAL, asset=asset, amount=quantity, **common), venue_id)]
    if kind in ("receive", "deposit"):
        return [Draft(draft(kind=EventKind.DEPOSIT, asset=asset, amount=quantity, **common), venue_id)]
    if kind in _INCOME:
        usd_value = abs(subtotal) if subtotal is not None and currency == "USD" else None
        event = draft(kind=EventKind.INCOME, asset=asset, amount=quantity, usd_value=usd_value,
                      note=f"Coinbase {row.text('Transaction Type')}", **common)
        return [Draft(event, venue_id)]
    raise CellError("Transaction Type", f"{row.text('Transaction Type')!r} is not understood; enter it in a "
                    "marginbook ledger CSV instead")


def _trade_counter(
    row: Row, quantity: Decimal, currency: str, subtotal: Decimal | None
) -> tuple[str, Decimal, str]:
    """(counter asset, counter amount, fee asset) of a buy or sell row.

    An Advanced Trade on a pair not quoted in the report's currency (``BTC-USDC``) is paid in
    the pair's quote, at the note's price; its fee column is then in the report's currency,
    which only a USD stablecoin quote against a USD report can carry 1:1.
    """
    advanced = _ADVANCED.search(row.text("Notes"))
    quote = advanced.group(2).upper() if advanced else currency
    if quote == currency:
        if subtotal is None:
            raise CellError("Subtotal", "is empty")
        return currency, abs(subtotal), currency
    price = decimal_of(advanced.group(3), "Notes") if advanced else None
    if price is None or price <= 0:
        raise CellError("Notes", "the trade price in the note must be positive")
    if not (currency == "USD" and quote in USD_STABLECOINS):
        raise CellError("Fees and/or Spread", f"the fee is in {currency} but the trade was paid in {quote}; "
                        "which amount of which asset was charged is ambiguous")
    with decimal_context():
        counter_amount = quantity * price
    return quote, counter_amount, quote
