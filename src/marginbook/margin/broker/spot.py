"""Closing spot-margin positions (Binance margin): sell or buy back, repay, pay interest.

A long sells its coins (a ``sell``, or a ``liquidation`` when forced), repays the quote lent
and pays the interest accrued; a short buys back the units lent plus the interest (charged in
the base asset), then repays both — a forced close of a short is the forced ``buy`` and the
``repay``, as the ledger CSV's semantics ask. An isolated position liquidated beyond its
bankruptcy price is closed at the bankruptcy price (the venue absorbs the rest).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from marginbook.domain.events import EventKind
from marginbook.margin.account import Position
from marginbook.margin.ledger import to_decimal

if TYPE_CHECKING:
    from marginbook.margin.broker.execution import Executor


def _principal(position: Position, fraction: float, owed: float) -> Decimal:
    """The exact principal a close repays: what is left of the loan when it is the last close."""
    if fraction >= 1.0:
        return position.loan
    return min(to_decimal(owed), position.loan)


def close_spot_long(
    executor: Executor, position: Position, quantity: float, fraction: float, price: float, at: datetime,
    fee_rate: float, reason: str, liquidation: bool,
) -> tuple[float, float, float]:  # fmt: skip
    """Sell ``quantity`` of a long (``fraction`` of it) at ``price``; return (fee, P&L, price used)."""
    account = executor.account
    rounding = executor.rounding
    if liquidation and account.mode == "isolated":
        price = max(price, account.bankruptcy_price(position))
    owed = position.borrowed * fraction
    accrued = position.accrued * fraction
    value = quantity * price
    room = value - owed - accrued
    fee = executor.liquidation_fee(value, room, 0.0) if liquidation else value * fee_rate
    principal = _principal(position, fraction, owed)
    rounding.fixed(account.quote, -owed, -principal)
    proceeds = rounding.credit(account.quote, value)
    interest = rounding.debit(account.quote, accrued)
    fee_dec = rounding.debit(account.quote, fee)
    kind = EventKind.LIQUIDATION if liquidation else EventKind.SELL
    executor.sink.emit(
        kind, at, account.base, to_decimal(quantity),
        counter_asset=account.quote, counter_amount=proceeds, **executor.fee_fields(fee_dec),
        position=position.ledger_id, note=reason,
    )  # fmt: skip
    if principal > 0:
        executor.sink.emit(EventKind.REPAY, at, account.quote, principal, position=position.ledger_id)
    if interest > 0:
        executor.sink.emit(
            EventKind.INTEREST,
            at,
            account.quote,
            interest,
            position=position.ledger_id,
            note="margin interest",
        )
    account.cash += value - fee - owed - accrued
    position.borrowed -= owed
    position.accrued -= accrued
    position.loan -= principal
    executor.totals.fees += fee_dec
    executor.totals.interest += interest
    pnl = quantity * (price - position.entry_price)
    return fee, pnl, price


def close_spot_short(
    executor: Executor, position: Position, quantity: float, fraction: float, price: float, at: datetime,
    fee_rate: float, reason: str, liquidation: bool,
) -> tuple[float, float, float]:  # fmt: skip
    """Buy back ``fraction`` of a short (plus its interest, in the base asset); return (fee, P&L, price)."""
    account = executor.account
    rounding = executor.rounding
    if liquidation and account.mode == "isolated":
        bankruptcy = account.bankruptcy_price(position)
        if not math.isnan(bankruptcy):
            price = min(price, bankruptcy)
    owed = position.borrowed * fraction
    accrued = position.accrued * fraction
    spent = (owed + accrued) * price
    if liquidation:
        room = (position.proceeds + position.collateral) * fraction - spent
        fee = executor.liquidation_fee(spent, room, 0.0)
    else:
        fee = spent * fee_rate
    principal = _principal(position, fraction, owed)
    interest = to_decimal(accrued)
    bought = principal + interest
    cost = rounding.debit(account.quote, spent)
    fee_dec = rounding.debit(account.quote, fee)
    executor.sink.emit(
        EventKind.BUY, at, account.base, bought, counter_asset=account.quote, counter_amount=cost,
        **executor.fee_fields(fee_dec),
        position=position.ledger_id, note="forced buy (liquidation)" if liquidation else reason,
    )  # fmt: skip
    executor.sink.emit(EventKind.REPAY, at, account.base, principal, position=position.ledger_id)
    if interest > 0:
        executor.sink.emit(
            EventKind.INTEREST,
            at,
            account.base,
            interest,
            position=position.ledger_id,
            note="margin interest",
        )
    account.cash -= spent + fee
    sold_for = position.proceeds * fraction
    position.proceeds -= sold_for
    position.borrowed -= owed
    position.accrued -= accrued
    position.loan -= principal
    executor.totals.fees += fee_dec
    executor.totals.interest += to_decimal(accrued * price)
    pnl = sold_for - spent
    return fee, pnl, price
