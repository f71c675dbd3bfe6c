"""One pass over the ledger that the portfolio needs: balances, loans, interest, prices seen.

This fold keeps no lots and computes no gains: cost basis and realized P&L come from the tax
engine (:mod:`marginbook.tax.standing`), so the dashboard and the tax forms give one answer.
What is left here is what the tax engine does not track: units per wallet (borrowed units
included), open loans, interest paid, the last price the ledger shows for each asset, and the
value at the end of each day.

Semantics follow ../shared/spec/ledger-csv.md: amounts are before fees, a fee is a separate
debit of ``fee_asset``; USD and the USD stablecoins are valued at par; units received by a
``borrow`` count as held and the loan is tracked as a liability until repaid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from marginbook.domain.numbers import ZERO, decimal_context
from marginbook.tax.events import TaxEvent

#: Assets valued at 1 USD (../shared/spec/ledger-csv.md, "Fiat and stablecoins").
USD_LIKE = frozenset({"USD", "USDT", "USDC", "DAI", "BUSD", "TUSD", "USDP", "FDUSD", "PYUSD", "GUSD"})


#: ``(asset, at) -> USD price or None`` (the same shape as :data:`marginbook.app.portfolio.PriceLookup`).
MarketPrices = Callable[[str, datetime], Decimal | None]


@dataclass(frozen=True, slots=True)
class OpenLoan:
    """A margin loan not yet repaid.

    Attributes:
        wallet: the borrowing wallet.
        position: the ``position`` id of the last borrow, or ``""``.
        asset: the borrowed asset.
        borrowed: units owed.
        risk_asset: for a USD-like loan, the coin the wallet last bought (what the loan
            finances); for a coin loan, the coin itself.
        wallet_liabilities: every open loan of the wallet, asset → units owed.
    """

    wallet: str
    position: str
    asset: str
    borrowed: Decimal
    risk_asset: str
    wallet_liabilities: dict[str, Decimal]


@dataclass(slots=True)
class FoldResult:
    """What :func:`fold_events` found. See :class:`marginbook.app.portfolio.Portfolio` for use."""

    balances: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    last_price: dict[str, Decimal] = field(default_factory=dict)
    interest_by_year: dict[int, Decimal] = field(default_factory=dict)
    interest_by_wallet: dict[str, Decimal] = field(default_factory=dict)
    liabilities: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    loan_position: dict[tuple[str, str], str] = field(default_factory=dict)
    last_bought: dict[str, str] = field(default_factory=dict)
    value_history: list[tuple[str, Decimal]] = field(default_factory=list)
    events: int = 0

    @property
    def open_loans(self) -> list[OpenLoan]:
        """Loans with units still owed, in (wallet, asset) order."""
        loans = []
        for (wallet, asset), owed in sorted(self.liabilities.items()):
            if owed <= 0:
                continue
            owed_by_wallet = {a: q for (w, a), q in self.liabilities.items() if w == wallet and q > 0}
            risk = asset if asset not in USD_LIKE else self.last_bought.get(wallet, asset)
            loans.append(
                OpenLoan(
                    wallet, self.loan_position.get((wallet, asset), ""), asset, owed, risk, owed_by_wallet
                )
            )
        return loans


class _Folder:
    """Applies events one by one to a :class:`FoldResult` (internal)."""

    def __init__(self, prices: MarketPrices | None = None) -> None:
        self.result = FoldResult()
        self.totals: dict[str, Decimal] = {}
        self.day = ""
        self.last_time: datetime | None = None
        self.prices = prices

    # -- balances -------------------------------------------------------------------------
    def add(self, wallet: str, asset: str, quantity: Decimal) -> None:
        balances = self.result.balances
        key = (wallet, asset)
        balances[key] = balances.get(key, ZERO) + quantity
        self.totals[asset] = self.totals.get(asset, ZERO) + quantity

    def remove(self, wallet: str, asset: str, quantity: Decimal) -> None:
        self.add(wallet, asset, -quantity)

    # -- prices ---------------------------------------------------------------------------
    def usd_of(self, asset: str, amount: Decimal) -> Decimal | None:
        if asset in USD_LIKE:
            return amount
        price = self.result.last_price.get(asset)
        return amount * price if price is not None else None

    def _event_usd(self, event: TaxEvent) -> Decimal | None:
        """USD value of the event's ``amount``: its ``usd_value``, else the USD side of a trade."""
        if event.usd_value is not None:
            return event.usd_value
        if event.asset in USD_LIKE:
            return abs(event.amount)
        if event.counter_asset in USD_LIKE and event.counter_amount is not None:
            return event.counter_amount
        return None

    def _note_price(self, event: TaxEvent, usd: Decimal | None) -> None:
        if usd is not None and event.asset not in USD_LIKE and event.amount != 0:
            self.result.last_price[event.asset] = usd / abs(event.amount)
        if (
            event.counter_asset
            and event.counter_amount
            and event.counter_asset not in USD_LIKE
            and usd is not None
        ):
            self.result.last_price[event.counter_asset] = usd / event.counter_amount

    # -- history --------------------------------------------------------------------------
    def _snapshot_value(self, asset: str, quantity: Decimal) -> Decimal | None:
        """Value at the day's last event: the market's price then when known, else the ledger's."""
        if self.prices is not None and asset not in USD_LIKE and self.last_time is not None:
            price = self.prices(asset, self.last_time)
            if price is not None:
                return quantity * price
        return self.usd_of(asset, quantity)

    def snapshot(self) -> None:
        if not self.day:
            return
        value = ZERO
        for asset, quantity in self.totals.items():
            if quantity == 0:
                continue
            usd = self._snapshot_value(asset, quantity)
            if usd is not None:
                value += usd
        for (_, asset), owed in self.result.liabilities.items():
            if owed > 0:
                usd = self._snapshot_value(asset, owed)
                if usd is not None:
                    value -= usd
        self.result.value_history.append((self.day, value))

    # -- events ---------------------------------------------------------------------------
    def apply(self, event: TaxEvent) -> None:
        day = event.timestamp.date().isoformat()
        if day != self.day:
            self.snapshot()
            self.day = day
        self.last_time = event.timestamp
        self.result.events += 1
        usd = self._event_usd(event)
        self._note_price(event, usd)
        self._fee(event)
        getattr(self, f"_on_{event.kind.value}")(event, usd)

    def _fee(self, event: TaxEvent) -> None:
        if event.fee_asset is not None and event.fee_amount:
            self.remove(event.wallet, event.fee_asset, event.fee_amount)

    def _on_buy(self, event: TaxEvent, usd: Decimal | None) -> None:
        assert event.counter_asset is not None and event.counter_amount is not None  # by TaxEvent
        self.remove(event.wallet, event.counter_asset, event.counter_amount)
        self.add(event.wallet, event.asset, event.amount)
        if event.asset not in USD_LIKE:
            self.result.last_bought[event.wallet] = event.asset

    def _on_sell(self, event: TaxEvent, usd: Decimal | None) -> None:
        assert event.counter_asset is not None and event.counter_amount is not None
        self.remove(event.wallet, event.asset, event.amount)
        self.add(event.wallet, event.counter_asset, event.counter_amount)

    _on_liquidation = _on_sell

    def _on_deposit(self, event: TaxEvent, usd: Decimal | None) -> None:
        self.add(event.wallet, event.asset, event.amount)

    _on_income = _on_deposit

    def _on_withdrawal(self, event: TaxEvent, usd: Decimal | None) -> None:
        self.remove(event.wallet, event.asset, event.amount)

    _on_gift = _on_withdrawal
    _on_donation = _on_withdrawal
    _on_fee = _on_withdrawal
    _on_spend = _on_withdrawal

    def _on_transfer(self, event: TaxEvent, usd: Decimal | None) -> None:
        assert event.to_wallet is not None
        self.remove(event.wallet, event.asset, event.amount)
        self.add(event.to_wallet, event.asset, event.amount)

    def _on_borrow(self, event: TaxEvent, usd: Decimal | None) -> None:
        self.add(event.wallet, event.asset, event.amount)
        key = (event.wallet, event.asset)
        self.result.liabilities[key] = self.result.liabilities.get(key, ZERO) + event.amount
        self.result.loan_position[key] = event.position or ""

    def _on_repay(self, event: TaxEvent, usd: Decimal | None) -> None:
        self.remove(event.wallet, event.asset, event.amount)
        key = (event.wallet, event.asset)
        self.result.liabilities[key] = self.result.liabilities.get(key, ZERO) - event.amount

    def _on_interest(self, event: TaxEvent, usd: Decimal | None) -> None:
        self.remove(event.wallet, event.asset, event.amount)
        paid = usd if usd is not None else self.usd_of(event.asset, event.amount)
        if paid is not None:
            year = event.timestamp.year
            self.result.interest_by_year[year] = self.result.interest_by_year.get(year, ZERO) + paid
            by_wallet = self.result.interest_by_wallet
            by_wallet[event.wallet] = by_wallet.get(event.wallet, ZERO) + paid

    def _on_realized_pnl(self, event: TaxEvent, usd: Decimal | None) -> None:
        """A settled margin result or a funding payment: money in (+) or out (−)."""
        self.add(event.wallet, event.asset, event.amount)

    _on_funding = _on_realized_pnl


def fold_events(
    events: Iterable[TaxEvent], *, until: datetime | None = None, prices: MarketPrices | None = None
) -> FoldResult:
    """Fold ``events`` (already in ledger order) into balances, lots, loans and prices.

    Args:
        events: the ledger's events in ``(timestamp, seq)`` order.
        until: stop before the first event after this time (``marginbook portfolio --at``).
        prices: market prices for the value-over-time points (the ledger's own last prices
            stand in where the market has none).

    Returns:
        The :class:`FoldResult`, with one value-history point per day that had events.
    """
    folder = _Folder(prices)
    with decimal_context():
        for event in events:
            if until is not None and event.timestamp > until:
                break
            folder.apply(event)
        folder.snapshot()
    result = folder.result
    return result
