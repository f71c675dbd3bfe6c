"""One pass over the ledger that the portfolio needs: balances, FIFO lots, loans, prices seen.

Why a fold of its own rather than the tax engine: the dashboard must answer in milliseconds on
a large ledger and must work on a ledger the tax engine rejects (missing basis, a year without
a profile). It therefore keeps a per-wallet FIFO *estimate* of basis, and leaves anything it
cannot price as unknown (``None``) instead of guessing. Tax forms never use these numbers.

Semantics follow ../shared/spec/ledger-csv.md: amounts are before fees, a fee is a separate
debit of ``fee_asset``; USD and the USD stablecoins are valued at par; units received by a
``borrow`` enter the wallet at their value when borrowed (so borrowing shows no gain) and the
loan is tracked as a liability until repaid.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from marginbook.domain.events import LedgerEvent
from marginbook.domain.numbers import ZERO, decimal_context

#: Assets valued at 1 USD (../shared/spec/ledger-csv.md, "Fiat and stablecoins").
USD_LIKE = frozenset({"USD", "USDT", "USDC", "DAI", "BUSD", "TUSD", "USDP", "FDUSD", "PYUSD", "GUSD"})


#: ``(asset, at) -> USD price or None`` (the same shape as :data:`marginbook.app.portfolio.PriceLookup`).
MarketPrices = Callable[[str, datetime], Decimal | None]


@dataclass(slots=True)
class Lot:
    """Units of one acquisition still held: ``unit_cost`` is ``None`` when the basis is unknown."""

    quantity: Decimal
    unit_cost: Decimal | None
    acquired_at: datetime


@dataclass(slots=True)
class WalletAsset:
    """The running state of one asset in one wallet."""

    quantity: Decimal = ZERO
    lots: deque[Lot] = field(default_factory=deque)

    @property
    def cost_basis(self) -> Decimal | None:
        """USD basis of the lots held; ``None`` when any lot's basis is unknown."""
        total = ZERO
        for lot in self.lots:
            if lot.unit_cost is None:
                return None
            total += lot.quantity * lot.unit_cost
        return total


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

    balances: dict[tuple[str, str], WalletAsset] = field(default_factory=dict)
    last_price: dict[str, Decimal] = field(default_factory=dict)
    realized_by_year: dict[int, Decimal] = field(default_factory=dict)
    interest_by_year: dict[int, Decimal] = field(default_factory=dict)
    interest_by_wallet: dict[str, Decimal] = field(default_factory=dict)
    liabilities: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    loan_position: dict[tuple[str, str], str] = field(default_factory=dict)
    last_bought: dict[str, str] = field(default_factory=dict)
    value_history: list[tuple[str, Decimal]] = field(default_factory=list)
    events: int = 0
    unmatched_disposals: int = 0
    unpriced_disposals: int = 0
    warnings: list[str] = field(default_factory=list)

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


def _merge_lots(state: WalletAsset, arriving: list[Lot]) -> None:
    """Add lots that keep their acquisition dates, keeping ``state.lots`` oldest first.

    Both sides are already in date order: when every arriving lot is newer than the wallet's
    newest they are appended; otherwise a sort of the two runs (linear for timsort) merges them.
    """
    if not arriving:
        return
    if not state.lots or state.lots[-1].acquired_at <= arriving[0].acquired_at:
        state.lots.extend(arriving)
        return
    state.lots.extend(arriving)
    state.lots = deque(sorted(state.lots, key=_acquired))


def _acquired(lot: Lot) -> datetime:
    return lot.acquired_at


class _Folder:
    """Applies events one by one to a :class:`FoldResult` (internal)."""

    def __init__(self, prices: MarketPrices | None = None) -> None:
        self.result = FoldResult()
        self.totals: dict[str, Decimal] = {}
        self.day = ""
        self.last_time: datetime | None = None
        self.prices = prices

    # -- balances -------------------------------------------------------------------------
    def _state(self, wallet: str, asset: str) -> WalletAsset:
        key = (wallet, asset)
        state = self.result.balances.get(key)
        if state is None:
            state = self.result.balances[key] = WalletAsset()
        return state

    def add(
        self, wallet: str, asset: str, quantity: Decimal, unit_cost: Decimal | None, at: datetime
    ) -> None:
        state = self._state(wallet, asset)
        state.quantity += quantity
        self.totals[asset] = self.totals.get(asset, ZERO) + quantity
        if asset == "USD":
            return
        state.lots.append(Lot(quantity, unit_cost, at))

    def remove(self, wallet: str, asset: str, quantity: Decimal) -> tuple[Decimal | None, list[Lot]]:
        """Take ``quantity`` units out FIFO; return their basis (``None`` if any unknown) and lots."""
        state = self._state(wallet, asset)
        state.quantity -= quantity
        self.totals[asset] = self.totals.get(asset, ZERO) - quantity
        if asset == "USD":
            return quantity, []
        remaining = quantity
        basis: Decimal | None = ZERO
        taken: list[Lot] = []
        while remaining > 0 and state.lots:
            lot = state.lots[0]
            used = min(lot.quantity, remaining)
            if lot.unit_cost is None:
                basis = None
            elif basis is not None:
                basis += used * lot.unit_cost
            taken.append(Lot(used, lot.unit_cost, lot.acquired_at))
            lot.quantity -= used
            remaining -= used
            if lot.quantity == 0:
                state.lots.popleft()
        if remaining > 0:
            self.result.unmatched_disposals += 1
            basis = None
        return basis, taken

    # -- prices ---------------------------------------------------------------------------
    def usd_of(self, asset: str, amount: Decimal) -> Decimal | None:
        if asset in USD_LIKE:
            return amount
        price = self.result.last_price.get(asset)
        return amount * price if price is not None else None

    def _event_usd(self, event: LedgerEvent) -> Decimal | None:
        """USD value of the event's ``amount``: its ``usd_value``, else the USD side of a trade."""
        if event.usd_value is not None:
            return event.usd_value
        if event.asset in USD_LIKE:
            return abs(event.amount)
        if event.counter_asset in USD_LIKE and event.counter_amount is not None:
            return event.counter_amount
        return None

    def _note_price(self, event: LedgerEvent, usd: Decimal | None) -> None:
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
    def apply(self, event: LedgerEvent) -> None:
        day = event.timestamp.date().isoformat()
        if day != self.day:
            self.snapshot()
            self.day = day
        self.last_time = event.timestamp
        self.result.events += 1
        usd = self._event_usd(event)
        self._note_price(event, usd)
        fee_usd = self._fee(event)
        getattr(self, f"_on_{event.kind.value}")(event, usd, fee_usd)

    def _fee(self, event: LedgerEvent) -> Decimal | None:
        if event.fee_asset is None or event.fee_amount is None or event.fee_amount == 0:
            return ZERO
        fee_usd = self.usd_of(event.fee_asset, event.fee_amount)
        self.remove(event.wallet, event.fee_asset, event.fee_amount)
        return fee_usd

    def _realize(self, at: datetime, gain: Decimal) -> None:
        year = at.year
        self.result.realized_by_year[year] = self.result.realized_by_year.get(year, ZERO) + gain

    def _dispose(self, event: LedgerEvent, proceeds: Decimal | None) -> None:
        basis, _ = self.remove(event.wallet, event.asset, event.amount)
        if event.asset in USD_LIKE:
            return
        if proceeds is None or basis is None:
            self.result.unpriced_disposals += proceeds is None
            return
        self._realize(event.timestamp, proceeds - basis)

    def _on_buy(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        assert event.counter_asset is not None and event.counter_amount is not None  # by LedgerEvent
        self._dispose_counter(event, usd)
        cost = usd + fee_usd if usd is not None and fee_usd is not None else None
        unit = cost / event.amount if cost is not None else None
        self.add(event.wallet, event.asset, event.amount, unit, event.timestamp)
        if event.asset not in USD_LIKE:
            self.result.last_bought[event.wallet] = event.asset

    def _dispose_counter(self, event: LedgerEvent, usd: Decimal | None) -> None:
        assert event.counter_asset is not None and event.counter_amount is not None
        basis, _ = self.remove(event.wallet, event.counter_asset, event.counter_amount)
        if event.counter_asset not in USD_LIKE and usd is not None and basis is not None:
            self._realize(event.timestamp, usd - basis)

    def _on_sell(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        assert event.counter_asset is not None and event.counter_amount is not None
        proceeds = usd - fee_usd if usd is not None and fee_usd is not None else None
        self._dispose(event, proceeds)
        unit = usd / event.counter_amount if usd is not None and event.counter_amount else None
        self.add(event.wallet, event.counter_asset, event.counter_amount, unit, event.timestamp)

    _on_liquidation = _on_sell

    def _on_deposit(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        if event.asset in USD_LIKE:
            unit: Decimal | None = Decimal(1)
        elif event.cost_basis_usd is not None:
            unit = event.cost_basis_usd / event.amount
        else:
            unit = None
        self.add(event.wallet, event.asset, event.amount, unit, event.acquired_at or event.timestamp)

    def _on_withdrawal(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        self.remove(event.wallet, event.asset, event.amount)

    _on_gift = _on_withdrawal
    _on_donation = _on_withdrawal
    _on_fee = _on_withdrawal

    def _on_transfer(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        assert event.to_wallet is not None
        _, lots = self.remove(event.wallet, event.asset, event.amount)
        moved = sum((lot.quantity for lot in lots), ZERO)
        destination = self._state(event.to_wallet, event.asset)
        destination.quantity += event.amount
        self.totals[event.asset] = self.totals.get(event.asset, ZERO) + event.amount
        if event.asset != "USD":
            if moved < event.amount:
                lots.append(Lot(event.amount - moved, None, event.timestamp))
            _merge_lots(destination, lots)

    def _on_income(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        unit = usd / event.amount if usd is not None else None
        self.add(event.wallet, event.asset, event.amount, unit, event.timestamp)

    def _on_spend(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        self._dispose(event, usd)

    def _on_borrow(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        value = usd if usd is not None else self.usd_of(event.asset, event.amount)
        unit = value / event.amount if value is not None else None
        self.add(event.wallet, event.asset, event.amount, unit, event.timestamp)
        key = (event.wallet, event.asset)
        self.result.liabilities[key] = self.result.liabilities.get(key, ZERO) + event.amount
        self.result.loan_position[key] = event.position or ""

    def _on_repay(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        self.remove(event.wallet, event.asset, event.amount)
        key = (event.wallet, event.asset)
        self.result.liabilities[key] = self.result.liabilities.get(key, ZERO) - event.amount

    def _on_interest(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        self.remove(event.wallet, event.asset, event.amount)
        paid = usd if usd is not None else self.usd_of(event.asset, event.amount)
        if paid is not None:
            year = event.timestamp.year
            self.result.interest_by_year[year] = self.result.interest_by_year.get(year, ZERO) + paid
            by_wallet = self.result.interest_by_wallet
            by_wallet[event.wallet] = by_wallet.get(event.wallet, ZERO) + paid

    def _on_realized_pnl(self, event: LedgerEvent, usd: Decimal | None, fee_usd: Decimal | None) -> None:
        """A settled margin result or a funding payment: money in (+) or out (−), all realized."""
        if event.amount >= 0:
            if event.asset in USD_LIKE:
                unit: Decimal | None = Decimal(1)
            else:
                unit = usd / event.amount if usd is not None and event.amount else None
            self.add(event.wallet, event.asset, event.amount, unit, event.timestamp)
        else:
            self.remove(event.wallet, event.asset, -event.amount)
        if event.usd_value is not None:
            value: Decimal | None = event.usd_value.copy_sign(event.amount)
        else:
            value = self.usd_of(event.asset, event.amount)
        if value is not None:
            self._realize(event.timestamp, value)

    _on_funding = _on_realized_pnl


def fold_events(
    events: Iterable[LedgerEvent], *, until: datetime | None = None, prices: MarketPrices | None = None
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
    if result.unmatched_disposals:
        result.warnings.append(
            f"{result.unmatched_disposals} disposals exceeded the wallet's lots (short sales or missing "
            "history): their basis is unknown and their gain is not in the realized P&L"
        )
    if result.unpriced_disposals:
        result.warnings.append(
            f"{result.unpriced_disposals} disposals have no USD value in the ledger: their gain is not "
            "in the realized P&L"
        )
    return result
