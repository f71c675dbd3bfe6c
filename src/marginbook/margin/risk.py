"""The pre-trade calculator behind ``marginbook risk``: where a planned position gets a margin
call, is liquidated, and goes bankrupt, and what it costs to carry.

It builds the one-position account the engine would hold and asks it — the same code path as
a paper run, so the calculator and the simulator cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marginbook.domain.errors import InputError, InputProblem
from marginbook.margin import rules
from marginbook.margin.account import Account, MarginMode, Position
from marginbook.margin.ledger import to_decimal
from marginbook.margin.venues import VenueProfile, tier_max_leverage


@dataclass(frozen=True, slots=True)
class RiskQuestion:
    """A planned position.

    Attributes:
        venue: the venue profile, overrides applied.
        side: +1 long, −1 short.
        entry: entry price; quantity: base units; leverage: chosen leverage.
        mode: isolated or cross.
        wallet_balance: the margin behind it (isolated) or the account balance (cross);
            ``None`` = exactly the initial margin.
    """

    venue: VenueProfile
    side: int
    entry: float
    quantity: float
    leverage: float
    mode: MarginMode
    wallet_balance: float | None = None


def with_flag_overrides(
    venue: VenueProfile, mmr: float | None, maintenance_amount: float | None, taker_fee: float | None
) -> VenueProfile:
    """Apply ``--mmr``, ``--maintenance-amount`` and ``--taker-fee`` to a profile.

    A given MMR replaces the tier table by one tier; a given amount is its maintenance amount.
    """
    changes: dict[str, object] = {}
    if mmr is not None or maintenance_amount is not None:
        changes["tier_floors"] = (0.0,)
        changes["tier_mmrs"] = (mmr if mmr is not None else venue.tier_mmrs[0],)
        changes["tier_max_leverage"] = ()
        changes["mm_deduction"] = maintenance_amount or 0.0
    if taker_fee is not None:
        changes["taker_fee"] = taker_fee
    return venue.with_overrides(**changes) if changes else venue


def _check(question: RiskQuestion) -> None:
    problems = []
    for flag, value in (
        ("--entry", question.entry),
        ("--quantity", question.quantity),
        ("--leverage", question.leverage),
    ):
        if not value > 0 or math.isinf(value):
            problems.append(InputProblem(flag, None, "", f"must be a positive number, got {value}"))
    if question.wallet_balance is not None and not question.wallet_balance > 0:
        problems.append(InputProblem("--wallet-balance", None, "", "must be positive"))
    if problems:
        raise InputError(problems)
    cap = tier_max_leverage(question.venue, question.entry * question.quantity)
    if question.leverage > cap:
        raise InputError(
            InputProblem(
                "--leverage",
                None,
                "",
                f"{question.leverage:g} is above {question.venue.name}'s cap of {cap:g} for this size",
            )
        )


def assess(question: RiskQuestion) -> dict[str, Any]:
    """Every figure of ``marginbook risk`` (floats; see :func:`risk_json` for the decimals)."""
    _check(question)
    venue = question.venue
    notional = question.entry * question.quantity
    initial = rules.initial_margin(notional, question.leverage)
    balance = question.wallet_balance if question.wallet_balance is not None else initial
    account = Account(venue, question.mode, "BASE", "QUOTE")
    position = Position(
        name="main", ledger_id="risk", side=question.side, quantity=question.quantity,
        entry_price=question.entry, leverage=question.leverage, collateral=balance,
        opened_at=datetime.now(UTC), opened_epoch=0,
    )  # fmt: skip
    if venue.settlement == "spot":
        # Own funds pay part of a long's purchase; a short sells borrowed units for quote.
        position.proceeds = notional if question.side < 0 else 0.0
        if question.mode == "isolated":
            position.borrowed = max(notional - balance, 0.0) if question.side > 0 else question.quantity
            account.cash = 0.0 if question.side > 0 else balance + notional
        else:
            position.collateral = initial
            position.borrowed = notional - initial if question.side > 0 else question.quantity
            account.cash = balance - initial if question.side > 0 else balance + notional
    else:
        account.cash = balance
    account.positions["main"] = position
    if question.mode == "isolated":
        levels = account.position_levels(position)
    else:
        levels = account.account_levels(question.entry)
    if venue.liquidation_rule == "kraken":
        used = rules.kraken_used_margin(
            question.side, question.quantity, question.entry, question.entry, question.leverage
        )
        maintenance = used * venue.liquidation_level
    elif venue.settlement == "spot":
        liabilities = position.borrowed if question.side > 0 else position.borrowed * question.entry
        maintenance = (venue.liquidation_level - 1.0) * liabilities
    else:
        maintenance = account.maintenance_margin(position, question.entry)
    bankruptcy = _bankruptcy(account, position, balance)
    return {
        "venue": venue.name,
        "source": venue.source,
        "mode": question.mode,
        "side": "long" if question.side > 0 else "short",
        "notional": notional,
        "liquidation_price": levels.liquidation_price,
        "margin_call_price": levels.call_price,
        "bankruptcy_price": bankruptcy,
        "initial_margin": initial,
        "maintenance_margin": maintenance,
        "max_loss": balance,
        "interest_per_day": _interest_per_day(venue, question, notional, initial),
        "liquidation_fee": _liquidation_fee(venue, question, levels.liquidation_price, account, position),
    }


def _bankruptcy(account: Account, position: Position, balance: float) -> float:
    if account.venue.settlement == "pnl":
        return rules.bankruptcy_price(position.side, position.entry_price, position.quantity, balance)
    return account.bankruptcy_price(position)


def _interest_per_day(venue: VenueProfile, question: RiskQuestion, notional: float, initial: float) -> float:
    if venue.settlement == "spot":
        lent = notional - initial if question.side > 0 else notional
        return lent * rules.rate_per_charge(venue.interest_rate, venue.interest_rate_period, rules.DAY)
    if venue.liquidation_rule == "kraken":
        lent = notional - initial if question.side > 0 else notional
        rate = venue.interest_rate if question.side > 0 else venue.extra.get("short_interest_rate", 0.0)
        return lent * rate * (rules.DAY // rules.FOUR_HOURS)
    return 0.0


def _liquidation_fee(
    venue: VenueProfile, question: RiskQuestion, price: float, account: Account, position: Position
) -> float:
    if math.isnan(price):
        return 0.0
    if venue.liquidation_fee_kind == "remaining_margin":
        if venue.settlement == "pnl":
            return (
                max(0.0, account.position_equity(position, price))
                if question.mode == "isolated"
                else max(0.0, account.maintenance_margin(position, price))
            )
        return 0.0
    return question.quantity * price * (venue.liquidation_fee_rate or venue.taker_fee)


def risk_json(figures: dict[str, Any]) -> dict[str, Any]:
    """Figures as the JSON contract wants them: decimal strings (``null`` for "never")."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, float):
            out[key] = None if math.isnan(value) or math.isinf(value) else _text(to_decimal(value))
        else:
            out[key] = value
    return out


def _text(value: Decimal) -> str:
    from marginbook.domain.numbers import plain

    return plain(value)


def collateral_sale_fee_terms(venue: VenueProfile, liquidation_fee: float) -> tuple[float, float]:
    """The venue's liquidation fee on a forced sale of collateral, as ``(rate, fixed USD)``.

    A venue charging a rate of the liquidated value (Binance margin 2 %, Kraken the taker
    fee) charges it on whatever the sale fetches, so the rate applies to the collateral
    sold. A venue taking the position's remaining margin (Binance USDⓈ-M, Bybit, OKX)
    takes one amount, ``liquidation_fee`` as :func:`assess` computed it, which is charged
    whole to the sale.
    """
    if venue.liquidation_fee_kind == "remaining_margin":
        return 0.0, liquidation_fee
    return venue.liquidation_fee_rate or venue.taker_fee, 0.0
