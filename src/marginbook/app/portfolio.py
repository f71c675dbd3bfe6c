"""The portfolio: what each wallet holds, what it cost, what it is worth, and what is at risk.

Two passes over the ledger feed it. The holdings fold (:mod:`marginbook.app.holdings_fold`)
gives units per wallet, loans, interest and the ledger's own prices. The tax engine, run once
with the profile's lot method and the transition scope (:mod:`marginbook.tax.standing`), gives
the cost basis of the units still held (the basis of the open lots of each pool) and the
realized P&L of each year (the year's Form 8949 gains, plus P&L and funding taxed as
ordinary): the numbers on the forms, not an estimate of them.

Prices: a market price source when one is installed (``marginbook.market.prices``), else the
last price the ledger itself shows for the asset (a trade against USD or a stablecoin, or an
event's ``usd_value``). A holding with neither has no market value, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from marginbook.app.holdings_fold import USD_LIKE, FoldResult, OpenLoan, fold_events
from marginbook.domain.events import LedgerEvent
from marginbook.domain.numbers import ZERO, cents, decimal_context, plain
from marginbook.domain.prices import PriceSource

if TYPE_CHECKING:  # the tax engine is reached through marginbook.app.features at run time
    from marginbook.tax.standing import Standing

#: ``(asset, at) -> USD price or None``; ``None`` means "no price known".
PriceLookup = Callable[[str, datetime], Decimal | None]

#: The start of the warning a page shows while the tax engine's first run is not done.
PENDING_NOTE = "The tax engine is still running over the ledger"

#: Default margin-level thresholds: Binance cross margin 3x (margin call at 1.3, liquidation at
#: 1.1; ../shared/spec/margin-rules.md). A venue profile from the margin engine replaces them.
DEFAULT_CALL_LEVEL = Decimal("1.3")
DEFAULT_LIQUIDATION_LEVEL = Decimal("1.1")


@dataclass(frozen=True, slots=True)
class Holding:
    """One asset in one wallet, valued.

    Attributes:
        wallet: the wallet.
        asset: the asset.
        quantity: units held (negative when a wallet is short without a recorded loan).
        cost_basis: USD basis of the units held: the basis of the tax engine's open lots in
            the wallet's pool (USD itself at par; stablecoins are lots like any coin);
            ``None`` when the engine holds lots without a known basis (a deposit without
            ``cost_basis_usd``), holds no lots for the units, keeps one pool for several
            wallets (before 2025), or could not run.
        price: USD price of one unit at the valuation time, ``None`` when unknown.
        price_source: ``market``, ``ledger`` (last price seen in the ledger) or ``par`` (USD,
            stablecoins at 1), or ``""`` when no price is known.
        market_value: ``quantity · price`` or ``None``.
        unrealized_pnl: ``market_value − cost_basis`` or ``None``.
    """

    wallet: str
    asset: str
    quantity: Decimal
    cost_basis: Decimal | None
    price: Decimal | None
    price_source: str
    market_value: Decimal | None
    unrealized_pnl: Decimal | None


@dataclass(frozen=True, slots=True)
class MarginPosition:
    """An open margin loan in one wallet, with the margin level of that wallet.

    The margin level is Binance's spot-margin ratio, total asset value over total liabilities
    (loan plus unpaid interest is not tracked separately: interest events are paid).

    Attributes:
        wallet: the wallet that owes the loan.
        position: the ledger's ``position`` id, or ``""`` when the loan carries none.
        asset: the borrowed asset.
        borrowed: units still owed.
        risk_asset: the asset whose price moves the margin level (the asset held for a long,
            the borrowed asset for a short).
        side: ``long`` (borrowed USD-like to hold a coin) or ``short`` (borrowed a coin).
        margin_level: assets / liabilities at the valuation prices, ``None`` without prices.
        margin_call_price: price of ``risk_asset`` at which the level reaches the call level.
        liquidation_price: price at which it reaches the liquidation level.
        distance_to_call: relative move of ``risk_asset`` from now to ``margin_call_price``
            (−0.2 = a 20 % fall).
        distance_to_liquidation: same, to ``liquidation_price``.
    """

    wallet: str
    position: str
    asset: str
    borrowed: Decimal
    risk_asset: str
    side: str
    margin_level: Decimal | None
    margin_call_price: Decimal | None
    liquidation_price: Decimal | None
    distance_to_call: Decimal | None
    distance_to_liquidation: Decimal | None


@dataclass(frozen=True, slots=True)
class ValuePoint:
    """Portfolio value at the end of one day that had events (for the value-over-time chart)."""

    day: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Everything ``marginbook portfolio`` and the Overview page show.

    Attributes:
        at: the valuation time.
        holdings: one row per (wallet, asset) with a non-zero quantity.
        total_value: sum of the known market values (USD), borrowed units included.
        total_liabilities: USD value of the open loans (where priced).
        net_value: ``total_value − total_liabilities``: what the trader would keep.
        total_cost_basis: sum of the known cost bases; ``None`` while the tax engine has not
            given the basis (pending or failed), rather than a sum that leaves the coins out.
        unrealized_pnl: sum of the known unrealized P&L; ``None`` when the basis is unknown.
        realized_pnl_year: realized P&L of the tax year of ``at``: the tax engine's Form 8949
            gains of the year plus ``realized_pnl`` and ``funding`` taxed as ordinary (interest
            not deducted); ``None`` when the engine could not run (see ``warnings``).
        realized_by_year: the same for every year up to ``at``, oldest first.
        interest_paid_year: margin interest paid that year, in USD where known.
        unvalued: ``wallet:asset`` of holdings without a price.
        positions: open margin loans with their risk figures.
        value_history: daily portfolio value, for the chart.
        events: number of ledger events folded.
        warnings: what the figures could not account for.
    """

    at: datetime
    holdings: tuple[Holding, ...]
    total_value: Decimal
    total_liabilities: Decimal
    net_value: Decimal
    total_cost_basis: Decimal | None
    unrealized_pnl: Decimal | None
    realized_pnl_year: Decimal | None
    interest_paid_year: Decimal
    unvalued: tuple[str, ...]
    positions: tuple[MarginPosition, ...]
    value_history: tuple[ValuePoint, ...]
    events: int
    warnings: tuple[str, ...] = field(default=())
    realized_by_year: tuple[tuple[int, Decimal], ...] = field(default=())


def _price_of(
    asset: str, at: datetime, fold: FoldResult, lookup: PriceLookup | None
) -> tuple[Decimal | None, str]:
    if asset in USD_LIKE:
        return Decimal(1), "par"
    if lookup is not None:
        price = lookup(asset, at)
        if price is not None:
            return price, "market"
    last = fold.last_price.get(asset)
    if last is not None:
        return last, "ledger"
    return None, ""


def _position_risk(
    loan: OpenLoan,
    wallet_values: dict[str, tuple[Decimal, Decimal | None]],
    prices: dict[str, Decimal | None],
    call_level: Decimal,
    liquidation_level: Decimal,
) -> MarginPosition:
    """Solve ``assets(p) = level · liabilities(p)`` for the price ``p`` of the risk asset.

    With ``q`` units of the risk asset held, ``b`` units of it owed, ``A`` the value of the
    wallet's other assets and ``L`` its other liabilities: ``q·p + A = T·(L + b·p)`` gives
    ``p = (T·L − A) / (q − T·b)``.
    """
    side = "long" if loan.asset in USD_LIKE else "short"
    risk_asset = loan.risk_asset if side == "long" else loan.asset
    holdings = wallet_values  # asset -> (quantity, price)
    price = prices.get(risk_asset)
    q = holdings.get(risk_asset, (ZERO, None))[0]
    b = loan.borrowed if side == "short" else ZERO
    other_assets = ZERO
    known = price is not None
    for asset, (quantity, asset_price) in holdings.items():
        if asset == risk_asset or quantity <= 0:
            continue
        if asset_price is None:
            known = False
            continue
        other_assets += quantity * asset_price
    other_liabilities = ZERO
    for owed_asset, owed in loan.wallet_liabilities.items():
        if owed_asset == risk_asset:
            continue
        owed_price = prices.get(owed_asset)
        if owed_price is None:
            known = False
            continue
        other_liabilities += owed * owed_price
    if not known or price is None:
        return MarginPosition(
            loan.wallet,
            loan.position,
            loan.asset,
            loan.borrowed,
            risk_asset,
            side,
            None,
            None,
            None,
            None,
            None,
        )
    with decimal_context():
        assets_now = q * price + other_assets
        liabilities_now = other_liabilities + b * price
        level = assets_now / liabilities_now if liabilities_now > 0 else None

        def solve(threshold: Decimal) -> Decimal | None:
            denominator = q - threshold * b
            if denominator == 0:
                return None
            solved = (threshold * other_liabilities - other_assets) / denominator
            return solved if solved > 0 else None

        call_price = solve(call_level)
        liquidation_price = solve(liquidation_level)
        to_call = call_price / price - 1 if call_price is not None and price > 0 else None
        to_liq = liquidation_price / price - 1 if liquidation_price is not None and price > 0 else None
    return MarginPosition(
        loan.wallet,
        loan.position,
        loan.asset,
        loan.borrowed,
        risk_asset,
        side,
        level,
        call_price,
        liquidation_price,
        to_call,
        to_liq,
    )


def _basis_of(
    wallet: str, asset: str, quantity: Decimal, standing: Standing, holders: list[str], notes: list[str]
) -> Decimal | None:
    """The engine's basis of the units ``wallet`` holds, or ``None`` (with a note) when it has none.

    A universal pool (one per asset: before the 2025 switch) belongs to no wallet; its basis is
    a wallet's only when that wallet is the asset's only holder.
    """
    pool = standing.held.get((wallet, asset))
    if pool is None:
        universal = standing.held.get(("", asset))
        if universal is not None and holders == [wallet]:
            pool = universal
        elif universal is not None:
            note = (
                f"before 2025 the tax engine keeps one pool of {asset} for every wallet (universal "
                f"scope): {plain(universal.quantity)} {asset} with a basis of {cents(universal.basis):,}"
                f"{' (some of it unknown)' if universal.basis_missing else ''}; a wallet's share is "
                "not defined, so the wallets' basis is shown as unknown"
            )
            if note not in notes:
                notes.append(note)
            return None
    if pool is None or pool.quantity <= 0:
        if quantity > 0:
            notes.append(f"{wallet}:{asset}: the tax engine holds no lots for these units (basis unknown)")
        return None
    if pool.quantity != quantity:
        notes.append(
            f"{wallet}:{asset}: the tax engine's lots hold {plain(pool.quantity)} units, the ledger "
            f"{plain(quantity)}; the basis shown is that of the engine's lots"
        )
    if pool.basis_missing:
        return None
    return pool.basis


def value_portfolio(
    fold: FoldResult,
    standing: Standing | None,
    *,
    at: datetime | None = None,
    prices: PriceLookup | None = None,
    call_level: Decimal = DEFAULT_CALL_LEVEL,
    liquidation_level: Decimal = DEFAULT_LIQUIDATION_LEVEL,
    engine_problem: str = "",
    engine_pending: bool = False,
) -> Portfolio:
    """Value a folded ledger at ``at`` (default: now), with the tax engine's basis and gains.

    Args:
        fold: the result of :func:`marginbook.app.holdings_fold.fold_events`.
        standing: the tax engine's run over the same events (:func:`marginbook.app.features.tax_standing`),
            or ``None`` when it could not run: then basis and realized P&L are unknown.
        at: valuation time (tz-aware); the realized P&L is that of its tax year.
        prices: a market price look-up; ``None`` values only with prices the ledger shows.
        call_level: margin level of a margin call.
        liquidation_level: margin level of a liquidation.
        engine_problem: why ``standing`` is ``None`` (shown as a warning).
        engine_pending: ``standing`` is ``None`` because the engine is still running.

    Returns:
        The valued :class:`Portfolio`.
    """
    at = (at or datetime.now(UTC)).astimezone(UTC)
    price_cache: dict[str, tuple[Decimal | None, str]] = {}

    def price(asset: str) -> tuple[Decimal | None, str]:
        if asset not in price_cache:
            price_cache[asset] = _price_of(asset, at, fold, prices)
        return price_cache[asset]

    holders: dict[str, list[str]] = {}
    for (wallet, asset), quantity in sorted(fold.balances.items()):
        if quantity > 0:
            holders.setdefault(asset, []).append(wallet)
    holdings: list[Holding] = []
    total_value = total_basis = total_unrealized = ZERO
    unvalued: list[str] = []
    notes: list[str] = []
    with decimal_context():
        for (wallet, asset), quantity in sorted(fold.balances.items()):
            if quantity == 0:
                continue
            unit_price, source = price(asset)
            value = quantity * unit_price if unit_price is not None else None
            if asset == "USD":
                basis: Decimal | None = quantity
            elif standing is None:
                basis = None
            else:
                basis = _basis_of(wallet, asset, quantity, standing, holders.get(asset, []), notes)
            unrealized = value - basis if value is not None and basis is not None else None
            holdings.append(Holding(wallet, asset, quantity, basis, unit_price, source, value, unrealized))
            if value is None:
                unvalued.append(f"{wallet}:{asset}")
            else:
                total_value += value
            if basis is not None:
                total_basis += basis
            if unrealized is not None:
                total_unrealized += unrealized
    price_by_asset = {asset: price(asset)[0] for _, asset in fold.balances}
    for loan in fold.open_loans:
        price_by_asset.setdefault(loan.asset, price(loan.asset)[0])
    positions = []
    for loan in fold.open_loans:
        wallet_values = {
            asset: (quantity, price_by_asset.get(asset))
            for (wallet, asset), quantity in fold.balances.items()
            if wallet == loan.wallet
        }
        positions.append(_position_risk(loan, wallet_values, price_by_asset, call_level, liquidation_level))
    total_liabilities = ZERO
    with decimal_context():
        for loan in fold.open_loans:
            loan_price = price_by_asset.get(loan.asset)
            if loan_price is not None:
                total_liabilities += loan.borrowed * loan_price
    warnings: list[str] = []
    realized: Decimal | None = None
    by_year: tuple[tuple[int, Decimal], ...] = ()
    if standing is None and engine_pending:
        warnings.append(
            f"{PENDING_NOTE}: cost basis and realized P&L will show when it is done; reload in a moment"
        )
    elif standing is None:
        warnings.append(
            f"cost basis and realized P&L come from the tax engine, which could not run: {engine_problem}"
        )
    else:
        warnings.extend(standing.warnings)
        realized = standing.realized_by_year.get(at.year, ZERO)
        by_year = tuple(sorted(standing.realized_by_year.items()))
    warnings.extend(notes)
    if unvalued:
        warnings.append(f"no price known for {', '.join(unvalued)}: left out of the total value")
    return Portfolio(
        at=at,
        holdings=tuple(holdings),
        total_value=total_value,
        total_liabilities=total_liabilities,
        net_value=total_value - total_liabilities,
        total_cost_basis=total_basis if standing is not None else None,
        unrealized_pnl=total_unrealized if standing is not None else None,
        realized_pnl_year=realized,
        interest_paid_year=fold.interest_by_year.get(at.year, ZERO),
        unvalued=tuple(unvalued),
        positions=tuple(positions),
        value_history=tuple(ValuePoint(day, value) for day, value in fold.value_history),
        events=fold.events,
        warnings=tuple(warnings),
        realized_by_year=by_year,
    )


def build_portfolio(
    events: Iterable[LedgerEvent],
    *,
    at: datetime | None = None,
    prices: PriceLookup | None = None,
    profile_path: Path | None = None,
    tax_prices: PriceSource | None = None,
    call_level: Decimal = DEFAULT_CALL_LEVEL,
    liquidation_level: Decimal = DEFAULT_LIQUIDATION_LEVEL,
) -> Portfolio:
    """Fold ``events`` (in ledger order) up to ``at``, run the tax engine over the same events,
    and value the result; see :func:`value_portfolio`.

    Args:
        profile_path: the tax profile (its lot method per year); ``None``: the defaults.
        tax_prices: the engine's fair-market-value source; ``None``: the market's default.
    """
    from marginbook.app.features import tax_standing

    at = (at or datetime.now(UTC)).astimezone(UTC)
    selected = [event for event in events if event.timestamp <= at]
    fold = fold_events(selected, prices=prices)
    standing, problem = tax_standing(selected, at, profile_path, tax_prices)
    return value_portfolio(
        fold,
        standing,
        at=at,
        prices=prices,
        call_level=call_level,
        liquidation_level=liquidation_level,
        engine_problem=problem,
    )
