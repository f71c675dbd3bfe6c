"""Binance.US transaction history: one row per deposit, withdrawal, distribution or trade.

Binance.US has no margin or derivatives; this export is its whole history. The layout is the
one BittyTax's ``binance_us.py`` parser reads (BittyTax/BittyTax
``src/bittytax/conv/parsers/binance_us.py``), in two spellings: ``User ID,Time,Category,
Operation,Order ID,Transaction ID,Primary Asset,Realized Amount For Primary Asset,…`` and the
older ``User_Id,Time,Category,Operation,Order_Id,Transaction_Id,Primary_Asset,…``. Neither
Binance.US's help pages nor that parser state the ``Time`` format or zone; it is read as UTC
(an ISO date and time), and a row in another format is reported, not guessed.

Mapping, following the categories that parser knows:

- ``Deposit`` / ``Withdrawal`` → ``deposit`` / ``withdrawal`` of the primary asset, with the fee
  columns as the fee.
- ``Distribution``: operations ``Others`` (airdrops), ``Referral Commission`` and ``Staking
  Rewards`` → ``income`` valued at the row's USD column; a negative staking reward (the staking
  service fee) → ``fee``.
- ``Spot Trading`` with operation ``Buy`` / ``Sell`` → ``buy`` / ``sell`` of the base asset
  for the quote asset, fee in the fee asset. When the quote amount is empty and the quote is
  USD, the USD value column is the quote amount (as the parser does); for any other quote an
  empty amount is an error.
- ``Buy``, ``Sell``, ``Quick Buy``, ``Convert`` (instant buys and conversions): the base asset
  is what was given and the quote asset what was received, as that parser reads them.

Any other category or operation is reported. The ``Transaction ID`` is the venue's id.
"""

from __future__ import annotations

from decimal import Decimal

from marginbook.domain.events import EventKind, Origin
from marginbook.importers._assets import trade_kind_and_sides
from marginbook.importers._csvrows import CellError, Draft, Row, decimal_of, draft, time_cell

COLUMNS = (
    "User ID", "Time", "Category", "Operation", "Order ID", "Transaction ID", "Primary Asset",
    "Realized Amount For Primary Asset", "Realized Amount for Primary Asset in USD", "Base Asset",
    "Realized Amount For Base Asset", "Realized Amount For Base Asset In USD", "Quote Asset",
    "Realized Amount for Quote Asset", "Realized Amount for Quote Asset in USD", "Fee Asset",
    "Realized Amount for Fee Asset", "Realized Amount for Fee Asset in USD",
)
COLUMNS_UNDERSCORE = (
    "User_Id", "Time", "Category", "Operation", "Order_Id", "Transaction_Id", "Primary_Asset",
    "Realized_Amount_For_Primary_Asset", "Realized_Amount_For_Primary_Asset_In_USD_Value", "Base_Asset",
    "Realized_Amount_For_Base_Asset", "Realized_Amount_For_Base_Asset_In_USD_Value", "Quote_Asset",
    "Realized_Amount_For_Quote_Asset", "Realized_Amount_For_Quote_Asset_In_USD_Value", "Fee_Asset",
    "Realized_Amount_For_Fee_Asset", "Realized_Amount_For_Fee_Asset_In_USD_Value",
)
#: Column of the current layout → column of the underscore layout, for rows of the older file.
_OLDER_NAME = dict(zip(COLUMNS, COLUMNS_UNDERSCORE, strict=True))

_DISTRIBUTIONS = frozenset({"others", "referral commission", "staking rewards"})
_INSTANT = frozenset({"buy", "sell", "quick buy", "convert"})
_USD_QUOTES = frozenset({"USD", "USDT", "BUSD"})


class _Cells:
    """A row read by the current column names, whichever spelling the file uses."""

    def __init__(self, row: Row) -> None:
        self.row = row
        self.older = "User_Id" in row.cells

    def name(self, column: str) -> str:
        return _OLDER_NAME.get(column, column) if self.older else column

    def text(self, column: str) -> str:
        return self.row.text(self.name(column))

    def number(self, column: str) -> Decimal | None:
        return decimal_of(self.text(column), self.name(column), allow_empty=True)

    def required_number(self, column: str) -> Decimal:
        value = self.number(column)
        if value is None:
            raise CellError(self.name(column), "is empty")
        return value

    def asset(self, column: str) -> str:
        value = self.text(column).upper()
        if not value:
            raise CellError(self.name(column), "is empty")
        return value


def row_events(row: Row, wallet: str) -> list[Draft]:
    """The events of one Binance.US row."""
    cells = _Cells(row)
    category = cells.text("Category").lower()
    operation = cells.text("Operation").lower()
    transaction_id = cells.text("Transaction ID") or None
    common: dict[str, object] = {
        "timestamp": time_cell(row, "Time"), "wallet": wallet,
        "origin": Origin(row.source, row.number, transaction_id),
    }
    fee_fields = _fee(cells)
    if category in ("deposit", "withdrawal"):
        amount = abs(cells.required_number("Realized Amount For Primary Asset"))
        kind = EventKind.DEPOSIT if category == "deposit" else EventKind.WITHDRAWAL
        event = draft(kind=kind, asset=cells.asset("Primary Asset"), amount=amount, **fee_fields, **common)
        return [Draft(event, venue_id=transaction_id)]
    if category == "distribution":
        return _distribution(cells, operation, common, transaction_id)
    if category == "spot trading":
        if operation not in ("buy", "sell"):
            raise CellError(cells.name("Operation"), f"expected Buy or Sell, got {cells.text('Operation')!r}")
        base = (cells.asset("Base Asset"), abs(cells.required_number("Realized Amount For Base Asset")))
        quote = (cells.asset("Quote Asset"), _quote_amount(cells))
        given, received = (quote, base) if operation == "buy" else (base, quote)
    elif category in _INSTANT:
        given = (cells.asset("Base Asset"), abs(cells.required_number("Realized Amount For Base Asset")))
        received = (cells.asset("Quote Asset"), _quote_amount(cells))
    else:
        raise CellError(cells.name("Category"), f"category {cells.text('Category')!r} is not understood; "
                        "enter it in a marginbook ledger CSV instead")
    kind, side, counter = trade_kind_and_sides(given, received)
    event = draft(kind=kind, asset=side[0], amount=side[1], counter_asset=counter[0],
                  counter_amount=counter[1], **fee_fields, **common)
    return [Draft(event, venue_id=transaction_id)]


def _fee(cells: _Cells) -> dict[str, object]:
    amount = cells.number("Realized Amount for Fee Asset")
    if amount is None or amount == 0:
        return {}
    if amount < 0:
        raise CellError(cells.name("Realized Amount for Fee Asset"), "must not be negative")
    return {"fee_asset": cells.asset("Fee Asset"), "fee_amount": amount}


def _quote_amount(cells: _Cells) -> Decimal:
    amount = cells.number("Realized Amount for Quote Asset")
    if amount is None and cells.asset("Quote Asset") in _USD_QUOTES:
        amount = cells.number("Realized Amount for Quote Asset in USD")
    if amount is None:
        raise CellError(cells.name("Realized Amount for Quote Asset"), "is empty")
    return abs(amount)


def _distribution(cells: _Cells, operation: str, common: dict[str, object],
                  transaction_id: str | None) -> list[Draft]:
    if operation not in _DISTRIBUTIONS:
        raise CellError(cells.name("Operation"), f"distribution {cells.text('Operation')!r} is not "
                        "understood; enter it in a marginbook ledger CSV instead")
    amount = cells.required_number("Realized Amount For Primary Asset")
    asset = cells.asset("Primary Asset")
    if amount == 0:
        return []
    if amount < 0:
        if operation != "staking rewards":
            raise CellError(cells.name("Realized Amount For Primary Asset"), "a negative distribution is "
                            "understood only as the staking service fee")
        event = draft(kind=EventKind.FEE, asset=asset, amount=-amount, note="Binance.US staking service fee",
                      **common)
        return [Draft(event, venue_id=transaction_id)]
    usd = cells.number("Realized Amount for Primary Asset in USD")
    usd_value = abs(usd) if usd is not None else None
    event = draft(kind=EventKind.INCOME, asset=asset, amount=amount, usd_value=usd_value,
                  note=f"Binance.US {cells.text('Operation')}", **common)
    return [Draft(event, venue_id=transaction_id)]
