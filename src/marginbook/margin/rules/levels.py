"""Margin-level venues: Kraken and Binance spot margin, as plain functions of numbers.

These venues measure risk by a *margin level* — equity over what is used or owed — rather
than by a maintenance margin ratio. Same conventions as :mod:`marginbook.margin.rules.margin`
(floats and ints in, ``nan`` for "never", ``side`` +1 long / −1 short); numba-compilable.

Sources: Kraken, "How is the margin level calculated?" and "Margin call level and margin
liquidation level" (support article 203325763); Binance, "Binance Margin Level and Margin
Call" (FAQ 360030493931).
"""

from __future__ import annotations

import math

LONG = 1


def margin_level(equity: float, used: float) -> float:
    """A margin level as a fraction: ``equity / used`` (``inf`` when nothing is used).

    Kraken: equity / used margin. Binance spot margin: total asset value / (total
    liabilities + outstanding interest).
    """
    if used <= 0.0:
        return math.inf
    return equity / used


def kraken_position_value(side: int, quantity: float, entry_price: float, price: float) -> float:
    """Kraken's position value for used margin: a long at its opening cost, a short at current value.

    Kraken's two published examples (long 1 BTC at 20,000 → used margin 4,000 whatever the
    price; short 0.2 BTC at 65,200 → used margin 2,608) only agree with this reading.
    """
    return quantity * entry_price if side == LONG else quantity * price


def kraken_used_margin(
    side: int, quantity: float, entry_price: float, price: float, leverage: float
) -> float:
    """Kraken used margin of one position: position value / leverage."""
    return kraken_position_value(side, quantity, entry_price, price) / leverage


def kraken_margin_level_price(
    side: int,
    quantity: float,
    entry_price: float,
    leverage: float,
    trade_balance: float,
    other_upnl: float,
    other_used_margin: float,
    level: float,
) -> float:
    """The price at which a Kraken account's margin level reaches ``level`` (0.8 call, 0.4 liquidation).

    Margin level = (trade balance + unrealized P&L) / used margin. Venue example: long 1 BTC
    at 20,000, 5:1, trade balance 10,000 → margin call (80 %) at 13,200.
    """
    if side == LONG:
        used = other_used_margin + quantity * entry_price / leverage
        price = entry_price + (level * used - trade_balance - other_upnl) / quantity
        return max(price, 0.0)
    denominator = quantity * (1.0 + level / leverage)
    price = (trade_balance + other_upnl + quantity * entry_price - level * other_used_margin) / denominator
    return price if price > 0.0 else math.nan


def spot_margin_level_price(
    base_held: float, quote_held: float, base_debt: float, quote_debt: float, level: float
) -> float:
    """The base price at which a spot-margin account's margin level reaches ``level``.

    Margin level = (quote held + base held · P) / (quote debt + base debt · P), debts with
    their outstanding interest (Binance's definition). A long holds base and owes quote; a
    short holds quote and owes base. Returns ``nan`` when no positive price reaches it.
    """
    denominator = base_held - level * base_debt
    if denominator == 0.0:
        return math.nan
    price = (level * quote_debt - quote_held) / denominator
    return price if price > 0.0 else math.nan


def kraken_aggregate_level_price(
    net_quantity: float,
    net_cost: float,
    long_used_margin: float,
    short_margin_quantity: float,
    trade_balance: float,
    level: float,
) -> float:
    """Kraken, many positions on one market: the price at which the margin level reaches ``level``.

    Equity ``TB + N·P − C`` and used margin ``U_long + S·P`` (longs at opening cost, shorts at
    current value, ``S = Σ_short Q / leverage``) are linear in ``P``; with one position this
    is :func:`kraken_margin_level_price`. ``nan`` when no positive price reaches it.
    """
    denominator = net_quantity - level * short_margin_quantity
    if denominator == 0.0:
        return math.nan
    price = (level * long_used_margin - trade_balance + net_cost) / denominator
    return price if price > 0.0 else math.nan
