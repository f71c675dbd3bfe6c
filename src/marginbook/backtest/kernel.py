"""The bar loop: positions driven through the venues' margin rules, compiled with numba.

One function, :func:`run_bars`, walks the bars once. It takes only arrays and scalars (the
layout is in :mod:`marginbook.backtest.layout`) and calls the margin rules, directly or
through the position arithmetic of :mod:`marginbook.backtest.positions`, via
:mod:`marginbook.margin.rules.jit`: the very functions the event-driven engine calls,
compiled from their own code objects.

What happens in bar ``i``, in this order, the order of the event-driven engine
(:mod:`marginbook.margin.broker.engine`), so that both give the same trades:

0. A funding time at the bar's very open settles for the position held before it.
1. A position whose liquidation price the open has gapped through is liquidated at the open
   first (``liquidated_at_open``): the venue acts before the trader's order, so a pending
   exit is then dropped, and a pending entry opens on what is left if the account affords it.
   The order decided at the close of bar ``i − 1`` fills at the open of bar ``i``: an exit or
   a reversal closes the position, an entry opens one (paying a charge at opening where the
   venue has one); stop-loss, take-profit and the trailing stop are set from the signal bar's
   close.
2. An open position is checked against the bar's range with the one intrabar rule
   (``exit_fill``): liquidation, stop, take-profit, conservatively ordered. On a tiered venue
   a liquidation may sell only part of the position (``partial_liquidation_quantity``); the
   rest continues on a new trade row and is checked again from the cut's price (the same
   holds for a liquidation at a gapped open in step 1).
3. Funding times inside the bar settle at its open price.
4. A margin call is recorded when the bar's adverse extreme crosses into the call level.
5. Interest charges falling before the next bar are booked; liquidation and call prices
   follow the balances.
6. Equity is marked at the close; the trailing stop moves with the bar's favourable
   extreme (so it first acts on the next bar); the bar's signals decide the next order.

Compiled with ``cache=True``: the machine code is kept on disk, so a second process loads it
instead of compiling.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from marginbook.backtest import layout as L
from marginbook.backtest.positions import (
    close_position,
    interest_due,
    liquidation_quantity,
    threshold_price,
    tighter_stop,
)
from marginbook.margin.rules.fills import LIQUIDATION, NO_FILL, STOP, TAKE_PROFIT
from marginbook.margin.rules.jit import (
    adverse_extreme,
    exit_fill,
    favourable_extreme,
    funding_payment,
    liquidated_at_open,
    tier_index,
    tier_leverage_cap,
    trading_fee,
    trailing_stop_level,
    unrealized_pnl,
)


@numba.njit(cache=True)
def _record_exit(row: np.ndarray, bar: int, price: float, fee: float, interest: float, interest_paid: float,
                 accrued: float, charges_done: int, funding_sum: float, delta: float, reason: int) -> None:
    """Write a closed trade's exit into its ``trades_out`` row (``TR_*``)."""
    row[L.TR_EXIT_BAR] = bar
    row[L.TR_EXIT_PRICE] = price
    row[L.TR_EXIT_FEE] = fee
    row[L.TR_INTEREST] = interest + interest_paid
    row[L.TR_INTEREST_UNITS] = accrued
    row[L.TR_CHARGES] = charges_done
    row[L.TR_FUNDING] = funding_sum
    row[L.TR_PNL] = delta - row[L.TR_ENTRY_FEE] - interest_paid + funding_sum
    row[L.TR_REASON] = reason


@numba.njit(cache=True)
def _start_row(row: np.ndarray, side: int, entry_bar: int, qty: float, entry_price: float, entry_fee: float,
               collateral: float, borrowed: float, continues: bool) -> None:
    """Start a trade's row: a new position, or (``continues``) what a partial liquidation left
    open, with the same entry, no entry fee and nothing borrowed of its own."""
    row[:] = 0.0
    row[L.TR_SIDE] = side
    row[L.TR_ENTRY_BAR] = entry_bar
    row[L.TR_EXIT_BAR] = -1
    row[L.TR_QUANTITY] = qty
    row[L.TR_ENTRY_PRICE] = entry_price
    row[L.TR_ENTRY_FEE] = entry_fee
    row[L.TR_MARGIN] = collateral
    row[L.TR_BORROWED] = borrowed
    row[L.TR_CONTINUES] = 1.0 if continues else 0.0


@numba.njit(cache=True)
def _sell_part(cfg: np.ndarray, floors: np.ndarray, mmrs: np.ndarray, trades_out: np.ndarray,
               totals: np.ndarray, trade: int, n_trades: int, bar: int, side: int, qty: float, sold: float,
               entry_price: float, entry_bar: int, price: float, fee_rate: float, collateral: float,
               cash: float, principal: float, interest_paid: float, accrued: float, charges_done: int,
               funding_sum: float) -> tuple[float, float, float, int, int, float, float, float]:
    """A partial liquidation: sell ``sold`` units at ``price``, keep the rest open on a new row.

    The sold part's P&L is realized and the fee charged on it; an isolated position keeps its
    margin less that loss and fee (the venue keeps the margin with the position), a cross
    one's margin shrinks with its size. The current row closes as a liquidation of ``sold``
    units; the next row (``TR_CONTINUES``) carries the rest, whose levels are recomputed.
    Interest runs on what is still lent; the fee and the liquidation count go to ``totals``.

    Returns:
        ``(cash, collateral, qty, trade, n_trades, principal, liquidation_price, call_price)``
        after the sale (``trade`` is the rest's row, ``n_trades`` the next free row).
    """
    last_row = trades_out.shape[0] - 1
    pnl = unrealized_pnl(side, sold, entry_price, price)
    fee = trading_fee(sold * price, fee_rate)
    cash += pnl - fee
    cross = cfg[L.CFG_CROSS] != 0.0
    collateral = collateral - collateral * (sold / qty) if cross else collateral + pnl - fee
    row = trades_out[min(trade, last_row)]
    row[L.TR_QUANTITY] = sold
    _record_exit(row, bar, price, fee, 0.0, interest_paid, accrued, charges_done, funding_sum, pnl - fee,
                 L.EXIT_LIQUIDATION)
    qty -= sold
    principal *= qty / (qty + sold)
    totals[L.TOT_FEES] += fee
    totals[L.TOT_LIQUIDATIONS] += 1.0
    liquidation_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash, 0.0, 0.0,
                                        accrued, L.CFG_LIQUIDATION_LEVEL)
    call_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash, 0.0, 0.0,
                                 accrued, L.CFG_CALL_LEVEL)
    row = trades_out[min(n_trades, last_row)]
    _start_row(row, side, entry_bar, qty, entry_price, 0.0, collateral, 0.0, True)
    row[L.TR_LIQUIDATION_PRICE] = liquidation_price
    return cash, collateral, qty, n_trades, n_trades + 1, principal, liquidation_price, call_price


@numba.njit(cache=True)
def run_bars(timestamps: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
             close: np.ndarray, entries: np.ndarray, exit_long: np.ndarray, exit_short: np.ndarray,
             cfg: np.ndarray, floors: np.ndarray, mmrs: np.ndarray, caps: np.ndarray, equity_out: np.ndarray,
             liquidation_out: np.ndarray, trades_out: np.ndarray, calls_out: np.ndarray) -> np.ndarray:
    """Run the bars; fill ``equity_out``, ``liquidation_out``, ``trades_out``, ``calls_out``.

    Args:
        timestamps: bar open times (int64 seconds, UTC), increasing.
        open_, high, low, close: float64 prices.
        entries: int8, +1 enter long / −1 enter short / 0, decided at the bar's close.
        exit_long, exit_short: bool, leave the long / short at the bar's close.
        cfg: settings vector (``CFG_*``).
        floors, mmrs: the venue's maintenance tiers (notional floors ascending from 0, rates).
        caps: each tier's leverage cap (an entry above its tier's cap is refused, as the
            venue refuses the order); empty when the venue has none beyond ``CFG_MAX_LEVERAGE``.
        equity_out: receives the equity at each close (wallet balance + unrealized P&L − unpaid interest).
        liquidation_out: receives each bar's liquidation price (``nan`` when flat).
        trades_out: one row per trade (``TR_*``) plus one scratch row: a row per nonzero entry
            and one per partial liquidation; rows beyond are counted (``TOT_TRADES``) but
            written to the scratch row only, so the caller can run again with more rows.
        calls_out: one row per margin call (``MC_*``); calls beyond its rows are counted only.

    Returns:
        The totals vector (``TOT_*``).
    """
    n = len(close)
    leverage = cfg[L.CFG_LEVERAGE]
    max_leverage = cfg[L.CFG_MAX_LEVERAGE]
    size_units = cfg[L.CFG_SIZE_UNITS]
    size_fraction = cfg[L.CFG_SIZE_FRACTION]
    fee_rate = cfg[L.CFG_FEE]
    maker_fee_rate = cfg[L.CFG_MAKER_FEE]
    stop_loss = cfg[L.CFG_STOP_LOSS]
    take_profit = cfg[L.CFG_TAKE_PROFIT]
    trail = cfg[L.CFG_TRAILING_STOP]
    charge_period = int(cfg[L.CFG_CHARGE_PERIOD])
    clock_aligned = cfg[L.CFG_CLOCK_ALIGNED] != 0.0
    charge_at_open = cfg[L.CFG_CHARGE_AT_OPEN] != 0.0
    quote_interest = cfg[L.CFG_QUOTE_INTEREST] != 0.0
    funding_rate = cfg[L.CFG_FUNDING_RATE]
    funding_period = int(cfg[L.CFG_FUNDING_PERIOD])
    liquidation_fee_rate = cfg[L.CFG_LIQUIDATION_FEE]
    charges_interest = charge_period > 0 and (
        cfg[L.CFG_INTEREST_PER_CHARGE] > 0.0 or cfg[L.CFG_OPENING_RATE] > 0.0
        or cfg[L.CFG_SHORT_INTEREST_PER_CHARGE] > 0.0 or cfg[L.CFG_SHORT_OPENING_RATE] > 0.0)
    pays_funding = funding_rate != 0.0 and funding_period > 0
    call_capacity = calls_out.shape[0]
    last_row = trades_out.shape[0] - 1  # the scratch row
    partial_fee_rate = cfg[L.CFG_PARTIAL_FEE]
    totals = np.zeros(L.TOT_SIZE)

    cash = cfg[L.CFG_CASH]
    min_equity = cash * 1e-9
    side = 0
    qty = 0.0
    entry_price = 0.0
    entry_time = 0
    entry_bar = 0
    risk_tier = 0  # tiered futures: the tier a liquidation may reduce the position from
    collateral = 0.0
    quote_borrowed = 0.0
    base_borrowed = 0.0
    principal = 0.0
    rate = 0.0
    opening_rate = 0.0
    accrued = 0.0        # spot: unpaid interest in the asset lent
    interest_paid = 0.0  # other venues: interest paid so far, in quote
    charges_done = 0
    funding_sum = 0.0
    stop_price = math.nan
    take_profit_price = math.nan
    trailing_price = math.nan
    liquidation_price = math.nan
    call_price = math.nan
    called = False
    trade = -1
    n_trades = 0
    n_calls = 0
    pending_exit = False
    pending_entry = 0
    signal_close = 0.0

    for i in range(n):
        t = timestamps[i]
        if i + 1 < n:
            t_end = timestamps[i + 1]
        elif i > 0:
            t_end = t + (t - timestamps[i - 1])
        else:
            t_end = t + 1
        levels_stale = False

        # 0. A funding time at this very open settles for the position held before it.
        if pays_funding and side != 0 and t % funding_period == 0:
            payment = funding_payment(side, qty, open_[i], funding_rate)
            cash += payment
            funding_sum += payment
            totals[L.TOT_FUNDING] += payment
            levels_stale = True

        # 1. A liquidation at a gapped open precedes the order due at that open: the venue's
        #    liquidation engine acts first, so a pending exit then finds nothing to close (it is
        #    dropped), while a pending entry (a reversal) may still open, on what is left.
        if side != 0:
            if levels_stale:
                liquidation_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral,
                                                     cash, quote_borrowed, base_borrowed, accrued,
                                                     L.CFG_LIQUIDATION_LEVEL)
            for _ in range(64):  # a partial liquidation lowers the tier: the tier count bounds this
                if side == 0 or not liquidated_at_open(side, open_[i], liquidation_price):
                    break
                sold, kept_tier = liquidation_quantity(cfg, floors, mmrs, side, qty, entry_price, open_[i],
                                                       collateral, cash, risk_tier)
                if sold < qty:
                    # A tiered venue sells part and keeps the rest open; look at the open again.
                    (cash, collateral, qty, trade, n_trades, principal, liquidation_price,
                     call_price) = _sell_part(
                        cfg, floors, mmrs, trades_out, totals, trade, n_trades, i, side, qty, sold,
                        entry_price, entry_bar, open_[i], partial_fee_rate, collateral, cash, principal,
                        interest_paid, accrued, charges_done, funding_sum)
                    risk_tier = kept_tier
                    interest_paid = 0.0
                    funding_sum = 0.0
                    continue
                delta, fee, interest, price = close_position(cfg, floors, mmrs, side, qty, entry_price,
                                                             open_[i], liquidation_fee_rate, True, collateral,
                                                             cash, quote_borrowed, base_borrowed, accrued)
                cash += delta
                _record_exit(trades_out[min(trade, last_row)], i, price, fee, interest, interest_paid,
                             accrued, charges_done, funding_sum, delta, L.EXIT_LIQUIDATION)
                totals[L.TOT_FEES] += fee
                totals[L.TOT_INTEREST] += interest
                totals[L.TOT_LIQUIDATIONS] += 1.0
                side = 0

        #    Then the order decided at the previous close fills at this open. Every interest
        #    charge falling before this open was booked bar by bar already.
        if side != 0 and (pending_exit or (pending_entry != 0 and pending_entry != side)):
            delta, fee, interest, price = close_position(cfg, floors, mmrs, side, qty, entry_price, open_[i],
                                                 fee_rate, False, collateral, cash, quote_borrowed,
                                                 base_borrowed, accrued)
            cash += delta
            _record_exit(trades_out[min(trade, last_row)], i, price, fee, interest, interest_paid,
                         accrued, charges_done, funding_sum, delta, L.EXIT_SIGNAL)
            totals[L.TOT_FEES] += fee
            totals[L.TOT_INTEREST] += interest
            side = 0
        if pending_entry != 0 and side == 0:
            price = open_[i]
            equity = cash
            if size_units > 0.0:
                quantity = size_units
            else:
                quantity = size_fraction * equity * leverage / (price * (1.0 + leverage * fee_rate))
            margin = quantity * price / leverage
            fee = trading_fee(quantity * price, fee_rate)
            # An account worn down to dust (a billionth of the starting cash) is finished: real
            # venues refuse orders below a minimum notional long before.
            if (equity <= min_equity or quantity <= 0.0 or margin + fee > equity + 1e-9
                    or leverage > tier_leverage_cap(quantity * price, floors, caps, max_leverage)):
                totals[L.TOT_SKIPPED_ENTRIES] += 1.0
            else:
                side = pending_entry
                qty = quantity
                entry_price = price
                entry_time = t
                entry_bar = i
                risk_tier = tier_index(qty * price, floors)
                collateral = margin
                cash -= fee
                if side == 1:
                    quote_borrowed = qty * price - margin
                    base_borrowed = 0.0
                    principal = quote_borrowed
                    rate = cfg[L.CFG_INTEREST_PER_CHARGE]
                    opening_rate = cfg[L.CFG_OPENING_RATE]
                else:
                    quote_borrowed = 0.0
                    base_borrowed = qty
                    # A quote-settled venue lends the short's value in quote; a spot venue lends the coins.
                    principal = qty * price if quote_interest else base_borrowed
                    rate = cfg[L.CFG_SHORT_INTEREST_PER_CHARGE]
                    opening_rate = cfg[L.CFG_SHORT_OPENING_RATE]
                accrued = 0.0
                interest_paid = 0.0
                charges_done = 0
                funding_sum = 0.0
                called = False
                stop_price = signal_close * (1.0 - side * stop_loss) if stop_loss > 0.0 else math.nan
                take_profit_price = (signal_close * (1.0 + side * take_profit)
                                     if take_profit > 0.0 else math.nan)
                trailing_price = signal_close * (1.0 - side * trail) if trail > 0.0 else math.nan
                if charges_interest:
                    # The charge at opening (Binance's first hour, Kraken's opening fee).
                    charges_done, amount = interest_due(entry_time, t, 0, principal, opening_rate, rate,
                                                         charge_period, clock_aligned, charge_at_open)
                    if quote_interest:
                        cash -= amount
                        interest_paid += amount
                        totals[L.TOT_INTEREST] += amount
                    else:
                        accrued += amount
                trade = n_trades
                n_trades += 1
                _start_row(trades_out[min(trade, last_row)], side, i, qty, price, fee, margin,
                           quote_borrowed if side == 1 else base_borrowed, False)
                totals[L.TOT_FEES] += fee
                levels_stale = True
        pending_exit = False
        pending_entry = 0
        if side != 0 and levels_stale:
            liquidation_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash,
                                                 quote_borrowed, base_borrowed, accrued,
                                                 L.CFG_LIQUIDATION_LEVEL)
            call_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash,
                                          quote_borrowed, base_borrowed, accrued, L.CFG_CALL_LEVEL)
            if entry_bar == i:
                trades_out[min(trade, last_row), L.TR_LIQUIDATION_PRICE] = liquidation_price

        # 2. Protective exits and liquidation inside the bar, under the one intrabar rule. After a
        #    partial liquidation the bar's path goes on from its price: the rest is looked at again,
        #    its stop before its new liquidation price, without the take-profit.
        if side != 0:
            stop_level, is_trailing = tighter_stop(side, stop_price, trailing_price)
            reference = open_[i]
            take_level = take_profit_price
            for _ in range(64):
                code, price = exit_fill(side, reference, high[i], low[i], stop_level, take_level,
                                        liquidation_price)
                if code == NO_FILL:
                    break
                liquidated = code == LIQUIDATION
                if liquidated:
                    sold, kept_tier = liquidation_quantity(cfg, floors, mmrs, side, qty, entry_price, price,
                                                           collateral, cash, risk_tier)
                    if sold < qty:
                        (cash, collateral, qty, trade, n_trades, principal, liquidation_price,
                         call_price) = _sell_part(
                            cfg, floors, mmrs, trades_out, totals, trade, n_trades, i, side, qty, sold,
                            entry_price, entry_bar, price, partial_fee_rate, collateral, cash, principal,
                            interest_paid, accrued, charges_done, funding_sum)
                        risk_tier = kept_tier
                        interest_paid = 0.0
                        funding_sum = 0.0
                        reference = price
                        take_level = math.nan
                        continue
                if code == STOP:
                    reason = L.EXIT_TRAILING_STOP if is_trailing else L.EXIT_STOP
                    rate_now = fee_rate
                elif code == TAKE_PROFIT:
                    reason = L.EXIT_TAKE_PROFIT
                    rate_now = maker_fee_rate
                else:
                    reason = L.EXIT_LIQUIDATION
                    rate_now = liquidation_fee_rate
                    totals[L.TOT_LIQUIDATIONS] += 1.0
                delta, fee, interest, price = close_position(cfg, floors, mmrs, side, qty, entry_price, price,
                                                     rate_now, liquidated, collateral, cash, quote_borrowed,
                                                     base_borrowed, accrued)
                cash += delta
                _record_exit(trades_out[min(trade, last_row)], i, price, fee, interest, interest_paid,
                             accrued, charges_done, funding_sum, delta, reason)
                totals[L.TOT_FEES] += fee
                totals[L.TOT_INTEREST] += interest
                side = 0
                break

        # 3. Funding times inside the bar settle at its open (the last price known).
        if side != 0 and pays_funding:
            first = t // funding_period + 1
            last = (t_end - 1) // funding_period
            if last >= first:
                for _ in range(first, last + 1):
                    payment = funding_payment(side, qty, open_[i], funding_rate)
                    cash += payment
                    funding_sum += payment
                    totals[L.TOT_FUNDING] += payment
                liquidation_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral,
                                                     cash, quote_borrowed, base_borrowed, accrued,
                                                     L.CFG_LIQUIDATION_LEVEL)
                call_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash,
                                              quote_borrowed, base_borrowed, accrued, L.CFG_CALL_LEVEL)

        # 4. A margin call when the adverse extreme crosses into the call level (again after a recovery).
        if side != 0 and call_price == call_price:
            extreme = adverse_extreme(side, high[i], low[i])
            touched = extreme <= call_price if side == 1 else extreme >= call_price
            if touched and not called:
                if n_calls < call_capacity:
                    calls_out[n_calls, L.MC_BAR] = i
                    calls_out[n_calls, L.MC_PRICE] = (min(open_[i], call_price) if side == 1
                                                      else max(open_[i], call_price))
                    calls_out[n_calls, L.MC_TRADE] = trade
                    calls_out[n_calls, L.MC_SIDE] = side
                    calls_out[n_calls, L.MC_QUANTITY] = qty
                    n_calls += 1
                totals[L.TOT_CALLS_SEEN] += 1.0
            called = touched
        else:
            called = False

        # 5. Interest charges falling before the next bar; the levels follow the balances.
        if side != 0 and charges_interest:
            before = charges_done
            charges_done, amount = interest_due(entry_time, t_end, charges_done, principal, opening_rate,
                                                 rate, charge_period, clock_aligned, charge_at_open)
            if charges_done != before:
                if quote_interest:
                    cash -= amount
                    interest_paid += amount
                    totals[L.TOT_INTEREST] += amount
                else:
                    accrued += amount
                liquidation_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral,
                                                     cash, quote_borrowed, base_borrowed, accrued,
                                                     L.CFG_LIQUIDATION_LEVEL)
                call_price = threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash,
                                              quote_borrowed, base_borrowed, accrued, L.CFG_CALL_LEVEL)

        # 6. Mark to the close; move the trailing stop; read the bar's signals.
        if side != 0:
            unpaid = accrued if side == 1 else accrued * close[i]
            equity_out[i] = cash + unrealized_pnl(side, qty, entry_price, close[i]) - unpaid
            liquidation_out[i] = liquidation_price
            if trail > 0.0:
                trailing_price = trailing_stop_level(side, trailing_price,
                                                     favourable_extreme(side, high[i], low[i]), trail)
            if (side == 1 and exit_long[i]) or (side == -1 and exit_short[i]):
                pending_exit = True
        else:
            equity_out[i] = cash
            liquidation_out[i] = math.nan
        if entries[i] != 0 and (entries[i] != side or pending_exit):
            pending_entry = entries[i]
        signal_close = close[i]

    if side != 0:
        # Still open: marked to the last close (no exit fee, interest unpaid), as the equity curve is.
        row = trades_out[min(trade, last_row)]
        row[L.TR_EXIT_BAR] = n - 1
        row[L.TR_EXIT_PRICE] = close[n - 1]
        unpaid = accrued if side == 1 else accrued * close[n - 1]
        row[L.TR_INTEREST] = unpaid + interest_paid
        row[L.TR_INTEREST_UNITS] = accrued
        row[L.TR_CHARGES] = charges_done
        row[L.TR_FUNDING] = funding_sum
        row[L.TR_PNL] = (unrealized_pnl(side, qty, entry_price, close[n - 1]) - unpaid - row[L.TR_ENTRY_FEE]
                         - interest_paid + funding_sum)
        row[L.TR_REASON] = L.EXIT_OPEN
    totals[L.TOT_TRADES] = n_trades
    totals[L.TOT_CALLS] = n_calls
    totals[L.TOT_FINAL_EQUITY] = equity_out[n - 1] if n > 0 else cash
    return totals
