"""Gemini: the transaction history (Account → Statements & history → Transaction history, CSV).

The export has fixed columns (``Date``, ``Time (UTC)``, ``Type``, ``Symbol``, ``Specification``
…) and, for every asset the account ever held, three columns ``BTC Amount BTC``, ``Fee (BTC)
BTC`` and ``BTC Balance BTC``. Amounts are signed (negatives in parentheses, with a ``$`` or the
asset's code: ``($1,234.56)``, ``0.5 BTC``) and before the fee, which the fee column debits
separately (the balance column shows it). Gemini offers no margin to US customers; its
derivatives platform is not for US persons, so this export is spot, transfers and earn.

Row mapping (``docs/importers.md``): Buy/Sell → one ``buy``/``sell`` from the two amount cells
that moved; Credit → ``deposit``, or ``income`` when its specification names interest, a
reward, staking or a referral; Debit → ``withdrawal``; moves to and from Gemini's own earn and
staking balances → nothing. Trades carry Gemini's ``Trade ID`` (``gemini:trade:ID``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.importers._csvrows import (
    CellError,
    Draft,
    ProblemLog,
    Row,
    assign_ids,
    decimal_of,
    draft,
    has_columns,
    read_table,
    utc_time,
)

FORMAT_NAME = "gemini"
DESCRIPTION = "Gemini transaction history (spot trades, transfers, earn and staking credits)"

LAYOUT = "Gemini transaction history"
COLUMNS = ("Date", "Time (UTC)", "Type", "Symbol", "Specification", "Trade ID")

_AMOUNT_COLUMN = re.compile(r"^(?P<asset>[A-Za-z0-9]+) Amount (?P=asset)$")
_INCOME_WORDS = ("interest", "reward", "staking", "referral", "earn payout", "cashback")
_INTERNAL_WORDS = ("earn transfer", "staking transfer", "earn redemption", "staking redemption")


def matches(header: list[str]) -> bool:
    """True for a Gemini transaction history header (its fixed columns and one amount column)."""
    return has_columns(header, COLUMNS) and any(
        isinstance(cell, str) and _AMOUNT_COLUMN.match(cell.strip()) for cell in header
    )


def read(path: Path, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Every event of a Gemini transaction history export.

    Args:
        path: the export, saved as CSV.
        wallet: the wallet to book into; default ``gemini``.

    Raises:
        InputError: naming every row that is malformed or not understood.
    """
    table = read_table(path, {LAYOUT: COLUMNS})
    assets = [m.group("asset") for m in map(_AMOUNT_COLUMN.match, table.header) if m]
    log = ProblemLog(table.source)
    if not assets:
        log.add(table.header_row, "", "no 'ASSET Amount ASSET' column: the export lists no asset")
        log.raise_if_any()
    drafts: list[Draft] = []
    for row in table.rows:
        with log.row(row):
            drafts.extend(_row_drafts(row, assets, wallet or FORMAT_NAME))
    events = assign_ids(drafts, prefix=FORMAT_NAME, log=log)
    log.raise_if_any()
    return events


def _money(row: Row, column: str, asset: str) -> Decimal | None:
    """A Gemini money cell: ``($1,234.56)``, ``0.5 BTC``, ``(0.5 BTC)``, or empty."""
    text = row.text(column)
    upper = text.upper()
    for suffix in (f" {asset.upper()})", f" {asset.upper()}"):
        if upper.endswith(suffix):
            text = text[: -len(suffix)] + (")" if suffix.endswith(")") else "")
            break
    return decimal_of(text, column, allow_empty=True)


def _moves(row: Row, assets: list[str]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    amounts: dict[str, Decimal] = {}
    fees: dict[str, Decimal] = {}
    for asset in assets:
        amount = _money(row, f"{asset} Amount {asset}", asset)
        if amount:
            amounts[asset.upper()] = amount
        fee = _money(row, f"Fee ({asset}) {asset}", asset)
        if fee:
            fees[asset.upper()] = abs(fee)
    return amounts, fees


def _row_drafts(row: Row, assets: list[str], wallet: str) -> list[Draft]:
    kind = row.required("Type").lower()
    timestamp = utc_time(f"{row.required('Date')} {row.required('Time (UTC)')}", "Time (UTC)")
    trade_id = row.text("Trade ID") or None
    origin = Origin(row.source, row.number, trade_id)
    amounts, fees = _moves(row, assets)
    specification = row.text("Specification")
    if kind in ("buy", "sell"):
        received = [(asset, amount) for asset, amount in amounts.items() if amount > 0]
        given = [(asset, -amount) for asset, amount in amounts.items() if amount < 0]
        if len(received) != 1 or len(given) != 1:
            raise CellError("Type", f"a {row.text('Type')} row must move exactly two assets, one in and one "
                            f"out; it moves {', '.join(amounts) or 'none'}")
        if len(fees) > 1:
            several = ", ".join(fees)
            raise CellError("Type", f"fees in several assets ({several}) on one trade are not understood")
        side, counter = (received[0], given[0]) if kind == "buy" else (given[0], received[0])
        fee_asset, fee_amount = next(iter(fees.items())) if fees else (None, None)
        event = draft(timestamp=timestamp, kind=EventKind(kind), wallet=wallet, asset=side[0], amount=side[1],
                      counter_asset=counter[0], counter_amount=counter[1], fee_asset=fee_asset,
                      fee_amount=fee_amount, origin=origin)
        return [Draft(event, f"trade:{trade_id}" if trade_id else None)]
    if kind not in ("credit", "debit"):
        raise CellError("Type", f"{row.text('Type')!r} is not understood; expected Buy, Sell, Credit, Debit")
    if any(word in specification.lower() for word in _INTERNAL_WORDS):
        return []
    if len(amounts) != 1:
        raise CellError("Type", f"a {row.text('Type')} row must move one asset; it moves "
                        f"{', '.join(amounts) or 'none'}")
    asset, amount = next(iter(amounts.items()))
    fee_asset, fee_amount = next(iter(fees.items())) if len(fees) == 1 else (None, None)
    if len(fees) > 1:
        raise CellError("Type", "fees in several assets on one transfer are not understood")
    common = {"timestamp": timestamp, "wallet": wallet, "asset": asset, "fee_asset": fee_asset,
              "fee_amount": fee_amount, "origin": origin}
    if kind == "credit" and amount > 0:
        if any(word in specification.lower() for word in _INCOME_WORDS):
            note = f"Gemini {specification}"
            return [Draft(draft(kind=EventKind.INCOME, amount=amount, note=note, **common))]
        return [Draft(draft(kind=EventKind.DEPOSIT, amount=amount, note=specification or None, **common))]
    if kind == "debit" and amount < 0:
        return [Draft(draft(kind=EventKind.WITHDRAWAL, amount=-amount, note=specification or None, **common))]
    column = f"{asset} Amount {asset}"
    raise CellError(column, f"a {row.text('Type')} with amount {amount} has the wrong sign")
