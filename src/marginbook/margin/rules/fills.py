"""What fills inside one bar, and at what price: the one intrabar rule of marginbook.

A bar gives open, high, low and close only, so the path inside it is unknown. marginbook
assumes the conservative path, once, for the backtest kernel and the event-driven engine
alike:

1. A liquidation or a stop touched by the bar's *adverse* extreme (the low for a long, the
   high for a short) happens, even if the bar closes back.
2. A stop fills at its price, or at the open when the bar opens beyond it (a gap).
3. A liquidation fills at the liquidation price, or at the open when the bar gaps through it.
   A liquidation at a gapped open precedes every order due at that open
   (:func:`liquidated_at_open`): the venue's liquidation engine acts before the trader's order.
4. A stop lying between the open and the liquidation price fills before the liquidation;
   a stop beyond the liquidation price never gets the chance.
5. When a stop and a take-profit are both touched, the stop fills (the adverse path first);
   likewise a liquidation beats a take-profit.
6. A limit order (a take-profit is one) fills at its price, or at the open when the bar
   opens beyond it; a stop entry likewise fills at its price or the worse open.
7. A trailing stop moves with the bar's favourable extreme only after the bar, so a new
   level first acts on the next bar (:func:`trailing_stop_level`).

Levels that do not exist are passed as ``nan``. Everything compiles with ``numba.njit``.
"""

from __future__ import annotations

import math

#: Outcome codes of :func:`exit_fill`.
NO_FILL = 0
STOP = 1
TAKE_PROFIT = 2
LIQUIDATION = 3

#: Order kinds for :func:`order_fill_price`.
MARKET = 0
LIMIT = 1
STOP_MARKET = 2


def adverse_extreme(side: int, high: float, low: float) -> float:
    """The bar's price that hurts the position most: the low for a long, the high for a short."""
    return low if side == 1 else high


def favourable_extreme(side: int, high: float, low: float) -> float:
    """The bar's price that helps the position most: the high for a long, the low for a short."""
    return high if side == 1 else low


def exit_fill(
    side: int,
    open_: float,
    high: float,
    low: float,
    stop_price: float,
    take_profit_price: float,
    liquidation_price: float,
) -> tuple[int, float]:
    """Which protective exit a bar triggers for a position, and at what price.

    Args:
        side: +1 long, −1 short.
        open_, high, low: the bar.
        stop_price: the stop-loss (or trailing stop) level, ``nan`` when none.
        take_profit_price: the take-profit level, ``nan`` when none.
        liquidation_price: the liquidation price, ``nan`` when none.

    Returns:
        ``(code, price)``: code :data:`NO_FILL` (price ``nan``), :data:`STOP`,
        :data:`TAKE_PROFIT` or :data:`LIQUIDATION`.
    """
    if side == 1:
        liquidated = liquidation_price == liquidation_price and low <= liquidation_price
        stopped = stop_price == stop_price and low <= stop_price
        took_profit = take_profit_price == take_profit_price and high >= take_profit_price
        if liquidated:
            if stopped and stop_price > liquidation_price and open_ > liquidation_price:
                return STOP, min(open_, stop_price)
            return LIQUIDATION, min(open_, liquidation_price)
        if stopped:
            return STOP, min(open_, stop_price)
        if took_profit:
            return TAKE_PROFIT, max(open_, take_profit_price)
        return NO_FILL, math.nan
    liquidated = liquidation_price == liquidation_price and high >= liquidation_price
    stopped = stop_price == stop_price and high >= stop_price
    took_profit = take_profit_price == take_profit_price and low <= take_profit_price
    if liquidated:
        if stopped and stop_price < liquidation_price and open_ < liquidation_price:
            return STOP, max(open_, stop_price)
        return LIQUIDATION, max(open_, liquidation_price)
    if stopped:
        return STOP, max(open_, stop_price)
    if took_profit:
        return TAKE_PROFIT, min(open_, take_profit_price)
    return NO_FILL, math.nan


def liquidated_at_open(side: int, open_: float, liquidation_price: float) -> bool:
    """Whether the bar opens at or beyond the liquidation price (a gap through it).

    Such a position is liquidated at the open before any order due at that open fills: the
    venue's liquidation engine acts first, so a market exit of that position finds nothing
    to close. It is :func:`exit_fill` read at the open alone, kept as its own rule so the
    engine and the kernel can apply it before their orders.

    Args:
        side: +1 long, −1 short (for a cross account, the direction of its net exposure).
        open_: the bar's open.
        liquidation_price: the liquidation price, ``nan`` when none.
    """
    if liquidation_price != liquidation_price:
        return False
    return open_ <= liquidation_price if side == 1 else open_ >= liquidation_price


def order_fill_price(buy: bool, kind: int, open_: float, high: float, low: float, price: float) -> float:
    """The fill price of a live order in a bar, or ``nan`` when the bar does not reach it.

    A market order fills at the open. A buy limit fills when the low reaches its price, at
    that price or the lower open; a sell limit mirrors it. A buy stop fills when the high
    reaches its price, at that price or the higher open (a gap); a sell stop mirrors it.
    """
    if kind == MARKET:
        return open_
    if kind == LIMIT:
        if buy:
            return min(open_, price) if low <= price else math.nan
        return max(open_, price) if high >= price else math.nan
    if buy:
        return max(open_, price) if high >= price else math.nan
    return min(open_, price) if low <= price else math.nan


def trailing_stop_level(side: int, current_stop: float, favourable: float, trail_fraction: float) -> float:
    """A trailing stop after a bar whose favourable extreme was ``favourable``.

    The stop trails ``trail_fraction`` behind the best price seen and only ever tightens.
    Call it after the bar's fills, so the new level first acts on the next bar.
    """
    if side == 1:
        level = favourable * (1.0 - trail_fraction)
        return level if current_stop != current_stop or level > current_stop else current_stop
    level = favourable * (1.0 + trail_fraction)
    return level if current_stop != current_stop or level < current_stop else current_stop
