"""A margin account's state and its valuation: positions, cash, debt, liquidation prices.

Floats inside (the engine's arithmetic is the rule functions' arithmetic); the exact
decimals are made at the event boundary (:mod:`marginbook.margin.ledger`). One account
trades one market (``base``/``quote``); positions are named (one-way per name) and kept in
opening order, oldest first.

Valuation, for every venue (the invariant the tests check):
``equity = cash + Σ position value − Σ debt − Σ accrued interest``, where

- P&L-settled venues (futures, Kraken): cash is the wallet balance (isolated margins
  included), a position's value is its unrealized P&L, and there is no debt (Kraken's
  opening and rollover fees are paid as they fall due);
- spot-settled venues (Binance margin): cash is the quote asset held, a long's value is
  its base units at the price and its debt the quote borrowed; a short's base debt is
  valued at the price, its sale proceeds sit in cash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from marginbook.margin import rules
from marginbook.margin.venues import VenueProfile

MarginMode = Literal["isolated", "cross"]


@dataclass(slots=True)
class Position:
    """One open position.

    Attributes:
        name: the name orders use (``main`` by default).
        ledger_id: the ``position`` column of its ledger events (unique per opening).
        side: +1 long, −1 short.
        quantity: base units (positive).
        entry_price: average entry price.
        leverage: leverage chosen at opening.
        collateral: the trader's own funds behind it (isolated margin; with top-ups).
        opened_at: when it opened.
        opened_epoch: the same in epoch seconds (interest and rollovers count from it).
        borrowed: spot: quote (long) or base (short) principal lent; Kraken: quote value lent.
        accrued: spot: interest charged and not yet paid, in the borrowed asset.
        charges: interest charges (spot) or rollovers (Kraken) booked so far.
        rate: interest rate per charge, fixed when the position opened.
        proceeds: spot short: the quote received for the borrowed units sold.
        risk_tier: tiered futures venues: the highest maintenance tier a liquidation may
            reduce the position from (its tier at opening, lowered by each partial
            liquidation; see ``rules.partial_liquidation_quantity``).
        loan: spot: the principal the ledger events lent and have not yet had repaid, exact
            (``borrowed`` is the engine's float; the last repayment repays ``loan`` itself,
            so a loan closes in the ledger to the unit).
    """

    name: str
    ledger_id: str
    side: int
    quantity: float
    entry_price: float
    leverage: float
    collateral: float
    opened_at: datetime
    opened_epoch: int
    borrowed: float = 0.0
    accrued: float = 0.0
    charges: int = 0
    rate: float = 0.0
    proceeds: float = 0.0
    risk_tier: int = 0
    loan: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class RiskLevels:
    """Where a position (isolated) or the account (cross) gets a margin call and is liquidated.

    Attributes:
        direction: +1 when a falling price hurts (long-like), −1 when a rising one does.
        call_price: the margin-call price, ``nan`` when none.
        liquidation_price: the liquidation price, ``nan`` when none.
    """

    direction: int
    call_price: float
    liquidation_price: float


class Account:
    """A margin account on one market of one venue.

    Args:
        venue: the venue profile.
        mode: ``isolated`` or ``cross``.
        base: the traded asset (``BTC``).
        quote: the cash asset (``USDT``, ``USD``).
    """

    def __init__(self, venue: VenueProfile, mode: MarginMode, base: str, quote: str) -> None:
        self.venue = venue
        self.mode = mode
        self.base = base
        self.quote = quote
        self.cash = 0.0
        #: Units of the base asset deposited as collateral (not a position): they count at
        #: the price towards a cross account's equity and margin level.
        self.base_collateral = 0.0
        self.positions: dict[str, Position] = {}
        self._single_tier = len(venue.tier_floors) == 1
        self._mmr_extra = venue.taker_fee if venue.liquidation_rule == "okx" else 0.0
        #: Each tier's maintenance amount, derived once from the table by the rule function.
        self._tier_amounts = tuple(
            rules.tier_maintenance_amount(i, venue.tier_floors, venue.tier_mmrs)  # type: ignore[arg-type]
            for i in range(len(venue.tier_floors))
        )
        #: Bumped by every change of cash or positions, so callers can cache what depends on them.
        self.version = 0

    # ----- valuation -------------------------------------------------------------------
    def position_value(self, position: Position, price: float) -> float:
        """The position's value in quote at ``price`` (unrealized P&L, or base held)."""
        if self.venue.settlement == "pnl":
            return rules.unrealized_pnl(position.side, position.quantity, position.entry_price, price)
        return position.quantity * price if position.side > 0 else 0.0

    def position_debt(self, position: Position, price: float) -> float:
        """Principal owed, in quote at ``price``."""
        if self.venue.settlement == "pnl":
            return 0.0
        return position.borrowed if position.side > 0 else position.borrowed * price

    def position_accrued(self, position: Position, price: float) -> float:
        """Interest charged and unpaid, in quote at ``price``."""
        if self.venue.settlement == "pnl":
            return 0.0
        return position.accrued if position.side > 0 else position.accrued * price

    def equity(self, price: float) -> float:
        """Cash + base collateral + Σ position value − Σ debt − Σ accrued interest, at ``price``."""
        total = self.cash + self.base_collateral * price
        for p in self.positions.values():
            total += (
                self.position_value(p, price) - self.position_debt(p, price) - self.position_accrued(p, price)
            )
        return total

    def position_equity(self, position: Position, price: float) -> float:
        """An isolated position's own equity: its collateral plus its P&L net of interest."""
        if self.venue.settlement == "pnl":
            return position.collateral + self.position_value(position, price)
        if position.side > 0:
            return position.quantity * price - position.borrowed - position.accrued
        return position.proceeds + position.collateral - (position.borrowed + position.accrued) * price

    def reserved(self) -> float:
        """Cash set aside for isolated positions (their margin, or a spot short's proceeds)."""
        total = 0.0
        for p in self.positions.values():
            if self.venue.settlement == "pnl":
                total += p.collateral
            elif p.side < 0:
                total += p.proceeds + p.collateral
        return total

    def available(self, price: float) -> float:
        """Funds free to back a new position at ``price``."""
        if self.mode == "isolated":
            return self.cash - self.reserved()
        return self.equity(price) - sum(p.collateral for p in self.positions.values())

    # ----- maintenance -----------------------------------------------------------------
    def tier(self, notional: float) -> tuple[float, float]:
        """(MMR, maintenance amount) of the tier for ``notional`` (plus OKX's reserved taker fee)."""
        venue = self.venue
        if self._single_tier:
            return venue.tier_mmrs[0] + self._mmr_extra, venue.mm_deduction
        index = rules.tier_index(notional, venue.tier_floors)  # type: ignore[arg-type]
        return venue.tier_mmrs[index] + self._mmr_extra, self._tier_amounts[index]

    def maintenance_margin(self, position: Position, price: float) -> float:
        """The position's maintenance margin at ``price`` (futures venues)."""
        mmr, amount = self.tier(position.quantity * price)
        return rules.maintenance_margin(position.quantity * price, mmr, amount)

    # ----- risk levels -----------------------------------------------------------------
    def position_levels(self, position: Position) -> RiskLevels:
        """Margin-call and liquidation prices of one isolated position."""
        return RiskLevels(
            position.side,
            self._isolated_price(position, self.venue.margin_call_level),
            self._isolated_price(position, self.venue.liquidation_level),
        )

    def _isolated_price(self, p: Position, level: float) -> float:
        venue = self.venue
        rule = venue.liquidation_rule
        if rule == "kraken":
            return rules.kraken_margin_level_price(
                p.side, p.quantity, p.entry_price, p.leverage, p.collateral, 0.0, 0.0, level
            )
        if rule == "spot_margin_level":
            if p.side > 0:
                return rules.spot_margin_level_price(p.quantity, 0.0, 0.0, p.borrowed + p.accrued, level)
            return rules.spot_margin_level_price(
                0.0, p.proceeds + p.collateral, p.borrowed + p.accrued, 0.0, level
            )
        if rule == "bybit":
            value = p.quantity * p.entry_price
            mmr, deduction = self.tier(value)
            if level == 1.0:
                extra = p.collateral - rules.initial_margin(value, p.leverage)
                return rules.bybit_liquidation_price(
                    p.side, p.entry_price, p.quantity, p.leverage, mmr, deduction, extra
                )
            maintenance = rules.maintenance_margin(value, mmr, deduction)
            return rules.fixed_maintenance_ratio_price(
                p.side, p.entry_price, p.quantity, p.collateral, maintenance, level
            )
        if rule == "okx" and level == 1.0:
            return rules.okx_isolated_liquidation_price(
                p.side, p.entry_price, p.quantity, p.collateral, venue.tier_mmrs[0], venue.taker_fee
            )
        if self._single_tier:
            mmr, amount = self.tier(0.0)
            return rules.margin_ratio_price(
                p.side, p.quantity, p.entry_price, p.collateral, 0.0, 0.0, mmr, amount, level
            )
        return rules.tiered_margin_ratio_price(
            p.side, p.quantity, p.entry_price, p.collateral, 0.0, 0.0,
            venue.tier_floors, venue.tier_mmrs, level,  # type: ignore[arg-type]
        )  # fmt: skip

    def account_levels(self, price: float) -> RiskLevels:
        """Margin-call and liquidation prices of the whole cross account, tiers taken at ``price``."""
        venue = self.venue
        call, liquidation = venue.margin_call_level, venue.liquidation_level
        positions = self.positions.values()
        if venue.liquidation_rule == "kraken":
            net_quantity = net_cost = long_used = short_slope = 0.0
            for p in positions:
                net_quantity += p.side * p.quantity
                net_cost += p.side * p.quantity * p.entry_price
                if p.side > 0:
                    long_used += p.quantity * p.entry_price / p.leverage
                else:
                    short_slope += p.quantity / p.leverage
            net_quantity += self.base_collateral  # collateral coins move equity like a costless long
            return RiskLevels(
                1 if net_quantity - liquidation * short_slope > 0 else -1,
                rules.kraken_aggregate_level_price(
                    net_quantity, net_cost, long_used, short_slope, self.cash, call
                ),
                rules.kraken_aggregate_level_price(
                    net_quantity, net_cost, long_used, short_slope, self.cash, liquidation
                ),
            )
        if venue.liquidation_rule == "spot_margin_level":
            base_held, quote_held, base_debt, quote_debt = self._spot_totals()
            return RiskLevels(
                1 if base_held - liquidation * base_debt > 0 else -1,
                rules.spot_margin_level_price(base_held, quote_held, base_debt, quote_debt, call),
                rules.spot_margin_level_price(base_held, quote_held, base_debt, quote_debt, liquidation),
            )
        if len(self.positions) == 1 and not self.base_collateral and not self._single_tier:
            # One position: Binance's cross formula with the tier at the liquidation price
            # governing (the backtest kernel's rule too), not the tier at today's price.
            (p,) = positions
            floors, mmrs = venue.tier_floors, venue.tier_mmrs
            return RiskLevels(
                p.side,
                rules.tiered_margin_ratio_price(
                    p.side, p.quantity, p.entry_price, self.cash, 0.0, 0.0, floors, mmrs, call  # type: ignore[arg-type]
                ),
                rules.tiered_margin_ratio_price(
                    p.side, p.quantity, p.entry_price, self.cash, 0.0, 0.0, floors, mmrs, liquidation  # type: ignore[arg-type]
                ),
            )
        net_quantity, net_cost, slope, amount = self._cross_sums(price)
        return RiskLevels(
            1 if liquidation * net_quantity - slope > 0 else -1,
            rules.aggregate_margin_ratio_price(net_quantity, net_cost, slope, amount, self.cash, call),
            rules.aggregate_margin_ratio_price(net_quantity, net_cost, slope, amount, self.cash, liquidation),
        )

    def _cross_sums(self, price: float) -> tuple[float, float, float, float]:
        net_quantity, net_cost, slope, amount = self.base_collateral, 0.0, 0.0, 0.0
        for p in self.positions.values():
            net_quantity += p.side * p.quantity
            net_cost += p.side * p.quantity * p.entry_price
            mmr, cum = self.tier(p.quantity * price)
            slope += p.quantity * mmr
            amount += cum
        return net_quantity, net_cost, slope, amount

    def _spot_totals(self) -> tuple[float, float, float, float]:
        positions = self.positions.values()
        base_held = self.base_collateral + sum(p.quantity for p in positions if p.side > 0)
        base_debt = sum(p.borrowed + p.accrued for p in positions if p.side < 0)
        quote_debt = sum(p.borrowed + p.accrued for p in positions if p.side > 0)
        return base_held, self.cash, base_debt, quote_debt

    def position_liquidation_price(self, position: Position, price: float) -> float:
        """The venue-displayed liquidation price of one position.

        Isolated: its own formula. Cross: the Binance cross formula with every *other*
        position's maintenance margin and unrealized P&L (sign-correct for shorts) at
        ``price`` — so it moves whenever another position's P&L moves. Margin-level venues
        report the account's price.
        """
        if self.mode == "isolated":
            return self.position_levels(position).liquidation_price
        if self.venue.uses_margin_level:
            return self.account_levels(price).liquidation_price
        other_maintenance = other_upnl = 0.0
        for other in self.positions.values():
            if other is not position:
                other_maintenance += self.maintenance_margin(other, price)
                other_upnl += rules.unrealized_pnl(other.side, other.quantity, other.entry_price, price)
        mmr, amount = self.tier(position.quantity * price)
        return rules.margin_ratio_price(
            position.side, position.quantity, position.entry_price,
            self.cash + self.base_collateral * price,
            other_maintenance, other_upnl, mmr, amount, self.venue.liquidation_level,
        )  # fmt: skip

    def bankruptcy_price(self, position: Position) -> float:
        """The price at which an isolated position's own equity is zero."""
        if self.venue.settlement == "pnl":
            return rules.bankruptcy_price(
                position.side, position.entry_price, position.quantity, position.collateral
            )
        if position.side > 0:
            return (position.borrowed + position.accrued) / position.quantity
        owed = position.borrowed + position.accrued
        return (position.proceeds + position.collateral) / owed if owed > 0 else math.nan
