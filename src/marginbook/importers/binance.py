"""Binance and Binance.US: trade history, the transaction history statement, USDⓈ-M futures history.

One format, several export layouts told apart by header (see ``docs/importers.md``):

- **Trade history** (Orders → Trade History → Export; spot and margin alike, also Binance.US):
  ``Date(UTC),Pair,Side,Price,Executed,Amount,Fee`` with units inside the cells
  (``0.5BTC``, ``30000USDT``, ``0.0005BNB``), or the older
  ``Date(UTC),Market,Type,Price,Amount,Total,Fee,Fee Coin``. Each row → ``buy``/``sell``.
- **Transaction history statement** (Wallet → Transaction History → Generate all
  statements): ``User_ID,UTC_Time,Account,Operation,Coin,Change,Remark`` covers spot, cross and
  isolated margin (loans, repayments, interest) and USDⓈ-M futures (realized P&L, funding,
  commission); read by :mod:`marginbook.importers._binance_statement`.
- **Binance.US transaction history** (``User ID,Time,Category,Operation,…``): deposits,
  withdrawals, distributions and trades; read by :mod:`marginbook.importers._binance_us`.
- **USDⓈ-M futures transaction history** (Futures → Transaction History → Export):
  ``Date(UTC),type,Amount,Asset,Symbol,Transaction ID`` with Binance's income types
  (``REALIZED_PNL``, ``COMMISSION``, ``FUNDING_FEE``, ``TRANSFER`` …), the layout BittyTax's
  parser reads; the older ``Time,Type,Amount,Asset,Symbol`` (or ``Time(UTC)``) is still read but
  is not confirmed by any public source.

Times are UTC. Binance gives no unique id in most of these exports, so ids are content hashes;
Binance.US rows carry their ``Transaction ID``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.importers import _binance_statement, _binance_us
from marginbook.importers._assets import split_symbol
from marginbook.importers._csvrows import (
    CellError,
    Draft,
    ProblemLog,
    Row,
    Table,
    assign_ids,
    decimal_cell,
    decimal_of,
    draft,
    has_columns,
    read_table,
    time_cell,
)

FORMAT_NAME = "binance"
DESCRIPTION = "Binance / Binance.US trade history, transaction history statement, USDⓈ-M futures history"

TRADE_HISTORY = "Binance trade history export"
TRADE_HISTORY_LEGACY = "Binance trade history export (legacy layout)"
STATEMENT = "Binance transaction history statement"
STATEMENT_NO_USER = "Binance transaction history statement (without User_ID)"
FUTURES_INCOME = "Binance USDⓈ-M futures transaction history (Date(UTC), Transaction ID)"
FUTURES = "Binance USDⓈ-M futures transaction history"
FUTURES_UTC = "Binance USDⓈ-M futures transaction history (Time(UTC))"
BINANCE_US = "Binance.US transaction history"
BINANCE_US_UNDERSCORE = "Binance.US transaction history (User_Id … spelling)"

LAYOUTS: dict[str, tuple[str, ...]] = {
    TRADE_HISTORY: ("Date(UTC)", "Pair", "Side", "Price", "Executed", "Amount", "Fee"),
    TRADE_HISTORY_LEGACY: ("Date(UTC)", "Market", "Type", "Price", "Amount", "Total", "Fee", "Fee Coin"),
    STATEMENT: _binance_statement.COLUMNS,
    STATEMENT_NO_USER: _binance_statement.COLUMNS[1:],
    FUTURES_INCOME: ("Date(UTC)", "type", "Amount", "Asset", "Symbol", "Transaction ID"),
    FUTURES: ("Time", "Type", "Amount", "Asset", "Symbol"),
    FUTURES_UTC: ("Time(UTC)", "Type", "Amount", "Asset", "Symbol"),
    BINANCE_US: _binance_us.COLUMNS,
    BINANCE_US_UNDERSCORE: _binance_us.COLUMNS_UNDERSCORE,
}

_LEGACY_QUOTES = (
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "USD", "EUR", "GBP", "TRY", "BRL",
    "BTC", "ETH", "BNB",
)
_UNIT = re.compile(r"^\s*([-+]?[\d.,]+(?:[eE][-+]?\d+)?)\s*([A-Za-z0-9]+)\s*$")

_FUTURES_KINDS = {
    "realized_pnl": EventKind.REALIZED_PNL, "realized pnl": EventKind.REALIZED_PNL,
    "realized profit and loss": EventKind.REALIZED_PNL,
    "funding_fee": EventKind.FUNDING, "funding fee": EventKind.FUNDING,
    "commission": EventKind.FEE, "fee": EventKind.FEE, "transaction fee": EventKind.FEE,
}
_FUTURES_INTERNAL = frozenset({"transfer", "transfer_in", "transfer_out"})


def matches(header: list[str]) -> bool:
    """True for the header of any Binance layout listed in the module docs."""
    return any(has_columns(header, columns) for columns in LAYOUTS.values())


def read(path: Path, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Every event of a Binance export.

    Args:
        path: the exported CSV.
        wallet: the wallet to book into; default ``binance``.

    Raises:
        InputError: naming every row that is malformed, ambiguous or not understood.
    """
    wallet_name = wallet or FORMAT_NAME
    table = read_table(path, LAYOUTS)
    log = ProblemLog(table.source)
    if table.layout in (STATEMENT, STATEMENT_NO_USER):
        drafts = _binance_statement.drafts(table, wallet_name, log)
    else:
        drafts = _row_by_row(table, wallet_name, log)
    events = assign_ids(drafts, prefix=FORMAT_NAME, log=log)
    log.raise_if_any()
    return events


def _row_by_row(table: Table, wallet: str, log: ProblemLog) -> list[Draft]:
    parse = {
        TRADE_HISTORY: _trade_row, TRADE_HISTORY_LEGACY: _legacy_trade_row,
        FUTURES: _futures_row, FUTURES_UTC: _futures_row, FUTURES_INCOME: _futures_row,
        BINANCE_US: _binance_us.row_events, BINANCE_US_UNDERSCORE: _binance_us.row_events,
    }[table.layout]
    drafts: list[Draft] = []
    for row in table.rows:
        with log.row(row):
            drafts.extend(parse(row, wallet))
    return drafts


def _with_unit(row: Row, column: str) -> tuple[Decimal, str]:
    """A cell like ``0.00150000BTC``: (quantity, asset)."""
    match = _UNIT.match(row.text(column))
    if match is None:
        got = row.text(column)[:40]
        raise CellError(column, f"expected a quantity followed by its asset, like 0.5BTC, got {got!r}")
    value = decimal_of(match.group(1), column)
    if value is None or value < 0:
        raise CellError(column, "must not be negative")
    return value, match.group(2).upper()


def _side(row: Row, column: str) -> EventKind:
    side = row.text(column).upper()
    if side not in ("BUY", "SELL"):
        raise CellError(column, f"expected BUY or SELL, got {row.text(column)!r}")
    return EventKind.BUY if side == "BUY" else EventKind.SELL


def _trade_row(row: Row, wallet: str) -> list[Draft]:
    kind = _side(row, "Side")
    base_qty, base = _with_unit(row, "Executed")
    quote_qty, quote = _with_unit(row, "Amount")
    fee, fee_asset = _with_unit(row, "Fee")
    event = draft(
        timestamp=time_cell(row, "Date(UTC)"), kind=kind, wallet=wallet, asset=base, amount=base_qty,
        counter_asset=quote, counter_amount=quote_qty,
        fee_asset=fee_asset if fee else None, fee_amount=fee if fee else None,
        origin=Origin(row.source, row.number),
    )
    return [Draft(event)]


def _legacy_trade_row(row: Row, wallet: str) -> list[Draft]:
    kind = _side(row, "Type")
    parts = split_symbol(row.required("Market"), _LEGACY_QUOTES)
    if parts is None:
        raise CellError("Market", f"cannot tell base and quote of market {row.text('Market')!r}")
    fee = decimal_cell(row, "Fee")
    if fee < 0:
        raise CellError("Fee", "must not be negative")
    event = draft(
        timestamp=time_cell(row, "Date(UTC)"), kind=kind, wallet=wallet, asset=parts[0],
        amount=decimal_cell(row, "Amount"), counter_asset=parts[1], counter_amount=decimal_cell(row, "Total"),
        fee_asset=row.required("Fee Coin").upper() if fee else None, fee_amount=fee if fee else None,
        origin=Origin(row.source, row.number),
    )
    return [Draft(event)]


def _futures_row(row: Row, wallet: str) -> list[Draft]:
    type_column = "type" if "type" in row.cells else "Type"
    income_type = row.required(type_column).strip().lower()
    amount = decimal_cell(row, "Amount")
    asset = row.required("Asset").upper()
    symbol = row.text("Symbol")
    if income_type in _FUTURES_INTERNAL:
        return []  # a move between the user's own Binance accounts
    time_column = next(column for column in ("Date(UTC)", "Time", "Time(UTC)") if column in row.cells)
    common = {"timestamp": time_cell(row, time_column), "wallet": wallet, "asset": asset,
              "origin": Origin(row.source, row.number, row.text("Transaction ID") or None)}
    kind = _FUTURES_KINDS.get(income_type)
    if kind is None:
        raise CellError(type_column, f"futures income type {row.text(type_column)!r} is not understood "
                        "(e.g. a coin swap or an insurance-fund clearance); enter it in a marginbook "
                        "ledger CSV instead")
    if amount == 0:
        return []
    if kind is EventKind.FEE:
        if amount > 0:
            raise CellError("Amount", "a positive commission (a rebate) is not understood")
        return [Draft(draft(kind=kind, amount=-amount, note=f"USDⓈ-M commission {symbol}".strip(), **common))]
    note = f"USDⓈ-M {symbol}" if symbol else None
    return [Draft(draft(kind=kind, amount=amount, note=note, **common))]
