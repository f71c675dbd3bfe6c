"""Bybit: derivatives closed P&L, the transaction logs (funding, fees, P&L), unified spot fills.

Exports told apart by header (``docs/importers.md`` names the source of each layout):

- **Closed P&L** (Orders → Derivatives → Closed P&L → Export):
  ``Contracts,Closing Direction,Qty,Entry Price,Exit Price,Closed P&L,Exit Type,Trade Time(UTC+0)``.
  Bybit's help centre defines Closed P&L = position P&L − opening fee − closing fee − funding
  fee, so each row is one ``realized_pnl`` *net* of fees and funding, in the contract's
  settlement asset. The header itself is unconfirmed.
- **Unified transaction log** (Assets → Unified Trading → Transaction Log → Export):
  ``Uid,Currency,Contract,Type,Direction,Quantity,Position,Filled Price,Funding,Fee Paid,Cash
  Flow,Change,Wallet Balance,Action,Time(UTC)`` (header unconfirmed). The types and the
  relation Change = Cash Flow + Funding − Fee Paid (Funding positive = received, Fee Paid
  positive = paid) are those of Bybit's v5 transaction-log API, which the export lists.
  ``TRADE``/``DELIVERY``/``LIQUIDATION`` → the closing P&L (``Cash Flow``) as ``realized_pnl``
  with ``Fee Paid`` as its fee (an opening fill is a ``fee`` alone); ``SETTLEMENT`` →
  ``funding``; ``INTEREST`` → ``interest``; transfers between own accounts → nothing.
- **Classic derivatives transaction log** (pre-unified accounts): ``Time,Currency,Contract,Type,
  Direction,Quantity,Position,Filled Price,Funding,Fee Paid,Cash Flow,Change,Wallet Balance,Fee
  Rate,Trade ID,Order ID`` with types ``trade``, ``funding``, ``liquidation``, ``transferIn``,
  ``transferOut``, as BittyTax's Bybit parser reads it; there a positive ``Funding`` is paid and
  Change = Cash Flow − Funding − Fee Paid (Bybit's v5 contract transaction-log API).
- **Unified spot fills**: see :mod:`marginbook.importers._bybit_spot`.

The closed P&L and a transaction log overlap: import one of them for a period, not both (the
closed P&L already contains the funding that the log books separately). Times are UTC.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.domain.numbers import decimal_context
from marginbook.importers import _bybit_spot
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
DESCRIPTION = "Bybit derivatives closed P&L, transaction log (unified or classic), unified spot fills"

CLOSED_PNL = "Bybit closed P&L export"
CLOSED_PNL_PLAIN_TIME = "Bybit closed P&L export (Trade Time)"
TRANSACTION_LOG = "Bybit transaction log"
CLASSIC_LOG = "Bybit classic derivatives transaction log"
_CLOSED_BASE = (
    "Contracts", "Closing Direction", "Qty", "Entry Price", "Exit Price", "Closed P&L", "Exit Type",
)
LAYOUTS: dict[str, tuple[str, ...]] = {
    CLOSED_PNL: (*_CLOSED_BASE, "Trade Time(UTC+0)"),
    CLOSED_PNL_PLAIN_TIME: (*_CLOSED_BASE, "Trade Time"),
    TRANSACTION_LOG: ("Currency", "Contract", "Type", "Direction", "Quantity", "Funding", "Fee Paid",
                      "Cash Flow", "Change", "Time(UTC)"),
    CLASSIC_LOG: ("Time", "Currency", "Contract", "Type", "Direction", "Quantity", "Position",
                  "Filled Price", "Funding", "Fee Paid", "Cash Flow", "Change", "Wallet Balance",
                  "Fee Rate", "Trade ID", "Order ID"),
    **_bybit_spot.LAYOUTS,
}

_POSITION_TYPES = frozenset({"trade", "delivery", "liquidation"})
_INTERNAL_TYPES = frozenset({"transfer_in", "transfer_out", "transfer in", "transfer out"})
_CLASSIC_POSITION_TYPES = frozenset({"trade", "liquidation"})
_CLASSIC_INTERNAL_TYPES = frozenset({"transferin", "transferout"})


def matches(header: list[str]) -> bool:
    """True for the header of a Bybit layout, or the ``UID: …`` preamble of the spot statement."""
    if _bybit_spot.is_preamble(header):
        return True
    return any(has_columns(header, columns) for columns in LAYOUTS.values())


def _is_header(cells: list[str]) -> bool:
    return not _bybit_spot.is_preamble(cells)


def read(path: Path, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Every event of a Bybit closed P&L export or transaction log.

    Args:
        path: the export.
        wallet: the wallet to book into; default ``bybit``.

    Raises:
        InputError: naming every row that is malformed or not understood.
    """
    table = read_table(path, LAYOUTS, is_header=_is_header, max_preamble=1)
    parse = {
        TRANSACTION_LOG: _transaction_log_row, CLASSIC_LOG: _classic_log_row,
        _bybit_spot.SPOT_ORDERS: _bybit_spot.fill, _bybit_spot.SPOT_STATEMENT: _bybit_spot.fill,
    }.get(table.layout, _closed_pnl_row)
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
        if funding is not None and funding != change:
            raise CellError("Change", f"a funding settlement should change the wallet by Funding "
                            f"({funding}; positive = received), not {change}")
        if change == 0:
            return []
        note = f"Bybit {contract}".strip()
        return [Draft(draft(kind=EventKind.FUNDING, amount=change, note=note, **common))]
    if kind == "interest":
        if change >= 0:
            raise CellError("Change", "an interest row should debit the wallet")
        return [Draft(draft(kind=EventKind.INTEREST, amount=-change, **common))]
    if kind in _POSITION_TYPES:
        _require_contract_currency(contract, currency)
        return _position_row(row, contract, change, common)
    raise CellError("Type", f"transaction type {row.text('Type')!r} is not understood; enter it in a "
                    "marginbook ledger CSV instead")


def _require_contract_currency(contract: str, currency: str) -> None:
    """A derivatives fill moves only its contract's settlement asset.

    The unified log also lists spot fills as ``TRADE`` rows, one per currency moved; read as
    derivatives they would become P&L. A fill in another currency than the contract settles in
    (the base of a spot fill) is therefore reported, which fails the file rather than misread it.
    """
    if not contract:
        return
    try:
        settles_in = settlement_asset(contract)
    except CellError:
        settles_in = None
    if settles_in != currency:
        raise CellError("Currency", f"a {currency} trade row of {contract} is not a derivatives fill settled "
                        f"in {settles_in or 'a known asset'} (a spot fill of the unified account?); import "
                        "spot fills from the spot order history export instead")


def _position_row(row: Row, contract: str, change: Decimal | None, common: dict[str, object]) -> list[Draft]:
    """A fill or liquidation: P&L with its fee; ``change`` (when given) must reconcile."""
    cash_flow = decimal_cell(row, "Cash Flow")
    fee = optional_decimal(row, "Fee Paid") or Decimal(0)
    with decimal_context():
        if change is not None and cash_flow - fee != change:
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


def _classic_log_row(row: Row, wallet: str) -> list[Draft]:
    """A row of the classic (pre-unified) derivatives log.

    Bybit's v5 contract transaction log documents this account's signs: ``funding`` positive =
    paid, ``fee`` positive = paid, and change = cashFlow − funding − fee; every row is checked
    against that relation.
    """
    kind = row.required("Type").lower()
    contract = row.text("Contract")
    currency = row.required("Currency").upper()
    common = {"timestamp": time_cell(row, "Time"), "wallet": wallet, "asset": currency,
              "origin": Origin(row.source, row.number, row.text("Trade ID") or None)}
    if kind in _CLASSIC_INTERNAL_TYPES:
        return []
    funding = optional_decimal(row, "Funding") or Decimal(0)
    fee = optional_decimal(row, "Fee Paid") or Decimal(0)
    cash_flow = optional_decimal(row, "Cash Flow") or Decimal(0)
    change = decimal_cell(row, "Change")
    with decimal_context():
        expected = cash_flow - funding - fee
    if expected != change:
        raise CellError("Change", f"expected Cash Flow - Funding - Fee Paid = Change, got {cash_flow} - "
                        f"{funding} - {fee} != {change}")
    if kind == "funding":
        if funding == 0:
            return []
        note = f"Bybit {contract}".strip()
        return [Draft(draft(kind=EventKind.FUNDING, amount=-funding, note=note, **common))]
    if kind in _CLASSIC_POSITION_TYPES:
        return _position_row(row, contract, None, common)
    raise CellError("Type", f"transaction type {row.text('Type')!r} is not understood; enter it in a "
                    "marginbook ledger CSV instead")
