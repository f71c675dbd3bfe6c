"""Bybit: derivatives closed P&L and the derivatives transaction log (funding, fees, P&L).

Two exports, told apart by header (``docs/importers.md``):

- **Closed P&L** (Orders → Derivatives → Closed P&L → Export):
  ``Contracts,Closing Direction,Qty,Entry Price,Exit Price,Closed P&L,Exit Type,Trade Time(UTC+0)``.
  Bybit defines Closed P&L = position P&L − opening fee − closing fee − funding fees, so each row
  is one ``realized_pnl`` *net* of fees and funding, in the contract's settlement asset.
- **Transaction log** (Assets → Unified Trading → Transaction Log → Export):
  ``Uid,Currency,Contract,Type,Direction,Quantity,Position,Filled Price,Funding,Fee Paid,Cash
  Flow,Change,Wallet Balance,Action,Time(UTC)``. ``TRADE``/``DELIVERY``/``LIQUIDATION`` rows → the
  closing P&L (``Cash Flow``) as ``realized_pnl`` with ``Fee Paid`` as its fee (an opening fill
  is a ``fee`` alone); ``SETTLEMENT`` → ``funding`` (signed by ``Change``); ``INTEREST`` →
  ``interest``; transfers between the user's own Bybit accounts → nothing.

The two overlap: import one of them for a period, not both (the closed P&L already contains the
funding that the transaction log books separately). Times are UTC.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.domain.numbers import decimal_context
from marginbook.importers._csvrows import (
    CellError,
    Draft,
    ProblemLog,
    Row,
    assign_ids,
    decimal_cell,
    draft,
    has_columns,
    optional_decimal,
    read_table,
    time_cell,
)

FORMAT_NAME = "bybit"
DESCRIPTION = "Bybit derivatives closed P&L export or derivatives transaction log"

CLOSED_PNL = "Bybit closed P&L export"
CLOSED_PNL_PLAIN_TIME = "Bybit closed P&L export (Trade Time)"
TRANSACTION_LOG = "Bybit transaction log"
_CLOSED_BASE = (
    "Contracts", "Closing Direction", "Qty", "Entry Price", "Exit Price", "Closed P&L", "Exit Type",
)
LAYOUTS: dict[str, tuple[str, ...]] = {
    CLOSED_PNL: (*_CLOSED_BASE, "Trade Time(UTC+0)"),
    CLOSED_PNL_PLAIN_TIME: (*_CLOSED_BASE, "Trade Time"),
    TRANSACTION_LOG: ("Currency", "Contract", "Type", "Direction", "Quantity", "Funding", "Fee Paid",
                      "Cash Flow", "Change", "Time(UTC)"),
}

_POSITION_TYPES = frozenset({"trade", "delivery", "liquidation"})
_INTERNAL_TYPES = frozenset({"transfer_in", "transfer_out", "transfer in", "transfer out"})


def matches(header: list[str]) -> bool:
    """True for the header of Bybit's closed P&L export or transaction log."""
    return any(has_columns(header, columns) for columns in LAYOUTS.values())


def read(path: Path, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Every event of a Bybit closed P&L export or transaction log.

    Args:
        path: the export.
        wallet: the wallet to book into; default ``bybit``.

    Raises:
        InputError: naming every row that is malformed or not understood.
    """
    table = read_table(path, LAYOUTS)
    parse = _transaction_log_row if table.layout == TRANSACTION_LOG else _closed_pnl_row
    log = ProblemLog(table.source)
    drafts: list[Draft] = []
    for row in table.rows:
        with log.row(row):
            drafts.extend(parse(row, wallet or FORMAT_NAME))
    events = assign_ids(drafts, prefix=FORMAT_NAME, log=log)
    log.raise_if_any()
    return events


def settlement_asset(contract: str) -> str:
    """The asset a Bybit contract settles in: ``BTCUSDT`` → USDT, ``BTCPERP`` → USDC, ``BTCUSD`` → BTC.

    Dated futures carry a suffix (``BTCUSDT-27DEC24``, ``BTCUSDH25``) that does not change it.

    Raises:
        CellError: for a contract name none of these rules fits.
    """
    name = contract.strip().upper().split("-", 1)[0]
    if name.endswith("USDT"):
        return "USDT"
    if name.endswith(("PERP", "USDC")):
        return "USDC"
    for index in range(len(name) - 3, 0, -1):
        if name[index:index + 3] == "USD" and (index + 3 == len(name) or len(name) - index - 3 <= 3):
            return name[:index]
    raise CellError("Contracts", f"cannot tell the settlement asset of contract {contract!r}")


def _closed_pnl_row(row: Row, wallet: str) -> list[Draft]:
    contract = row.required("Contracts")
    pnl = decimal_cell(row, "Closed P&L")
    time_column = "Trade Time(UTC+0)" if "Trade Time(UTC+0)" in row.cells else "Trade Time"
    closing = f"{row.text('Closing Direction')} {row.text('Qty')} closed ({row.text('Exit Type')})"
    note = f"Bybit {contract} {closing}; net of fees and funding"
    if pnl == 0:
        return []
    event = draft(timestamp=time_cell(row, time_column), kind=EventKind.REALIZED_PNL, wallet=wallet,
                  asset=settlement_asset(contract), amount=pnl, note=note,
                  origin=Origin(row.source, row.number))
    return [Draft(event)]


def _transaction_log_row(row: Row, wallet: str) -> list[Draft]:
    kind = row.required("Type").lower()
    currency = row.required("Currency").upper()
    change = decimal_cell(row, "Change")
    contract = row.text("Contract")
    common = {"timestamp": time_cell(row, "Time(UTC)"), "wallet": wallet, "asset": currency,
              "origin": Origin(row.source, row.number)}
    if kind in _INTERNAL_TYPES:
        return []
    if kind == "settlement":
        funding = optional_decimal(row, "Funding")
        if funding is not None and funding != -change:
            raise CellError("Change", f"a funding settlement should change the wallet by -Funding "
                            f"({-funding}), not {change}")
        if change == 0:
            return []
        note = f"Bybit {contract}".strip()
        return [Draft(draft(kind=EventKind.FUNDING, amount=change, note=note, **common))]
    if kind == "interest":
        if change >= 0:
            raise CellError("Change", "an interest row should debit the wallet")
        return [Draft(draft(kind=EventKind.INTEREST, amount=-change, **common))]
    if kind in _POSITION_TYPES:
        return _position_row(row, contract, change, common)
    raise CellError("Type", f"transaction type {row.text('Type')!r} is not understood; enter it in a "
                    "marginbook ledger CSV instead")


def _position_row(row: Row, contract: str, change: Decimal, common: dict[str, object]) -> list[Draft]:
    cash_flow = decimal_cell(row, "Cash Flow")
    fee = optional_decimal(row, "Fee Paid") or Decimal(0)
    with decimal_context():
        if cash_flow - fee != change:
            raise CellError("Change", f"expected Cash Flow - Fee Paid = Change, got {cash_flow} - {fee} "
                            f"!= {change}")
    label = f"Bybit {contract} {row.text('Type')}".strip()
    if cash_flow != 0:
        fee_fields = {"fee_asset": common["asset"], "fee_amount": fee} if fee > 0 else {}
        pnl = draft(kind=EventKind.REALIZED_PNL, amount=cash_flow, note=label, **fee_fields, **common)
        events = [Draft(pnl)]
    elif fee > 0:
        events = [Draft(draft(kind=EventKind.FEE, amount=fee, note=label, **common))]
    else:
        events = []
    if fee < 0:
        rebate = draft(kind=EventKind.INCOME, amount=-fee, note=f"{label} maker rebate", **common)
        events.append(Draft(rebate))
    return events
