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
from typing import TYPE_CHECKING

from marginbook.domain.events import EventKind
from marginbook.margin.account import Position
from marginbook.margin.ledger import to_decimal

if TYPE_CHECKING:
    from marginbook.margin.broker.execution import Executor


def close_spot_long(
    executor: Executor, position: Position, quantity: float, fraction: float, price: float, at: datetime,
    fee_rate: float, reason: str, liquidation: bool,
) -> tuple[float, float, float]:  # fmt: skip
    """Sell ``quantity`` of a long (``fraction`` of it) at ``price``; return (fee, P&L, price used)."""
    account = executor.account
    if liquidation and account.mode == "isolated":
        price = max(price, account.bankruptcy_price(position))
    principal = to_decimal(position.borrowed * fraction)
    interest = to_decimal(position.accrued * fraction)
    proceeds = to_decimal(quantity * price)
    if liquidation:
        room = float(proceeds) - float(principal) - float(interest)
        fee_dec = to_decimal(executor.liquidation_fee(quantity * price, room, 0.0))
    else:
        fee_dec = to_decimal(quantity * price * fee_rate)
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
    account.cash += float(proceeds) - float(fee_dec) - float(principal) - float(interest)
    position.borrowed -= float(principal)
    position.accrued -= float(interest)
    executor.totals.fees += fee_dec
    executor.totals.interest += interest
    pnl = quantity * (price - position.entry_price)
    return float(fee_dec), pnl, price


def close_spot_short(
    executor: Executor, position: Position, quantity: float, fraction: float, price: float, at: datetime,
    fee_rate: float, reason: str, liquidation: bool,
) -> tuple[float, float, float]:  # fmt: skip
    """Buy back ``fraction`` of a short (plus its interest, in the base asset); return (fee, P&L, price)."""
    account = executor.account
    if liquidation and account.mode == "isolated":
        bankruptcy = account.bankruptcy_price(position)
        if not math.isnan(bankruptcy):
            price = min(price, bankruptcy)
    principal = to_decimal(position.borrowed * fraction)
    interest = to_decimal(position.accrued * fraction)
    bought = principal + interest
    cost = to_decimal(float(bought) * price)
    if liquidation:
        room = (position.proceeds + position.collateral) * fraction - float(cost)
        fee_dec = to_decimal(executor.liquidation_fee(float(cost), room, 0.0))
    else:
        fee_dec = to_decimal(float(cost) * fee_rate)
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
    account.cash -= float(cost) + float(fee_dec)
    sold_for = position.proceeds * fraction
    position.proceeds -= sold_for
    position.borrowed -= float(principal)
    position.accrued -= float(interest)
    executor.totals.fees += fee_dec
    executor.totals.interest += to_decimal(float(interest) * price)
    pnl = sold_for - float(cost)
    return float(fee_dec), pnl, price
