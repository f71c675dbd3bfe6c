"""The bar loop: positions driven through the venues' margin rules, compiled with numba.

One function, :func:`run_bars`, walks the bars once. It takes only arrays and scalars (the
layout is in :mod:`marginbook.backtest.layout`) and calls the margin rules through
:mod:`marginbook.margin.rules.jit`: the very functions the event-driven engine calls,
compiled from their own code objects.

What happens in bar ``i``, in this order (``docs/backtest.md`` states the rules):

1. The order decided at the close of bar ``i − 1`` fills at the open of bar ``i``: an exit
   or a reversal closes the position, an entry opens one; stop-loss, take-profit and the
   trailing stop are set from the signal bar's close.
2. A position that is open is checked against the bar's range with the one intrabar rule
   (``exit_fill``): liquidation, stop, take-profit, conservatively ordered. A margin call is
   recorded the first time the bar's adverse extreme reaches the call price.
3. Interest charges and funding falling inside the bar are paid; the liquidation price is
   recomputed from the new balances.
4. Equity is marked at the close; the trailing stop moves with the bar's favourable extreme
   (so it first acts on the next bar); the bar's signals decide the next order.

Compiled with ``cache=True``: the machine code is kept on disk, so a second process loads it
instead of compiling.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from marginbook.backtest import layout as L
from marginbook.margin.rules.fills import LIQUIDATION, NO_FILL, STOP, TAKE_PROFIT
from marginbook.margin.rules.jit import (
    adverse_extreme,
    bybit_liquidation_price,
    charges_count,
    exit_fill,
    favourable_extreme,
    fixed_maintenance_ratio_price,
    funding_payment,
    kraken_margin_level_price,
    okx_isolated_liquidation_price,
    spot_margin_level_price,
    tier_index,
    tier_maintenance_amount,
    tiered_margin_ratio_price,
    trading_fee,
    trailing_stop_level,
    unrealized_pnl,
)

# Copies as module globals, which numba freezes into the compiled code.
MODEL_MARGIN_RATIO = L.MODEL_MARGIN_RATIO
MODEL_BYBIT = L.MODEL_BYBIT
MODEL_OKX = L.MODEL_OKX
MODEL_SPOT_MARGIN = L.MODEL_SPOT_MARGIN
MODEL_KRAKEN = L.MODEL_KRAKEN


@numba.njit(cache=True)
def _threshold_price(cfg: np.ndarray, floors: np.ndarray, mmrs: np.ndarray, side: int, qty: float,
                     entry_price: float, collateral: float, cash: float, quote_borrowed: float,
                     base_borrowed: float, interest_units: float, level_index: int) -> float:
    """The price at which the position reaches the venue's liquidation (or margin-call) level.

    ``level_index`` is ``CFG_LIQUIDATION_LEVEL`` or ``CFG_CALL_LEVEL``. Cross accounts back
    the position with the whole wallet balance ``cash``; isolated ones with ``collateral``.
    """
    model = int(cfg[L.CFG_MODEL])
    cross = cfg[L.CFG_CROSS] != 0.0
    level = cfg[level_index]
    leverage = cfg[L.CFG_LEVERAGE]
    backing = cash if cross else collateral
    if model == MODEL_SPOT_MARGIN:
        if side == 1:
            # Holds the coins; owes the quote borrowed plus interest. Cross also holds the free cash
            # (the interest was already taken from ``cash``, so it is added back before owing it).
            quote_held = cash + interest_units - collateral if cross else 0.0
            quote_owed = quote_borrowed + interest_units
            return float(spot_margin_level_price(qty, quote_held, 0.0, quote_owed, level))
        quote_held = qty * entry_price + backing
        return float(spot_margin_level_price(0.0, quote_held, base_borrowed + interest_units, 0.0, level))
    if model == MODEL_KRAKEN:
        return float(kraken_margin_level_price(side, qty, entry_price, leverage, backing, 0.0, 0.0, level))
    tier = tier_index(qty * entry_price, floors)
    mmr = mmrs[tier]
    amount = tier_maintenance_amount(tier, floors, mmrs)
    if model == MODEL_BYBIT:
        maintenance = qty * entry_price * mmr - amount
        if level_index == L.CFG_LIQUIDATION_LEVEL:
            extra = backing - collateral
            return float(bybit_liquidation_price(side, entry_price, qty, leverage, mmr, amount, extra))
        return float(fixed_maintenance_ratio_price(side, entry_price, qty, backing, maintenance, level))
    if model == MODEL_OKX and level_index == L.CFG_LIQUIDATION_LEVEL:
        taker = cfg[L.CFG_TAKER_FEE]
        return float(okx_isolated_liquidation_price(side, entry_price, qty, backing, mmr, taker))
    return float(tiered_margin_ratio_price(side, qty, entry_price, backing, 0.0, 0.0, floors, mmrs, level))


@numba.njit(cache=True)
def _stop_level(side: int, stop_loss: float, trailing: float) -> tuple[float, bool]:
    """The tighter of the stop-loss and the trailing stop, and whether the trailing one it is."""
    if trailing != trailing:
        return stop_loss, False
    if stop_loss != stop_loss:
        return trailing, True
    if side == 1:
        return (trailing, True) if trailing > stop_loss else (stop_loss, False)
    return (trailing, True) if trailing < stop_loss else (stop_loss, False)


@numba.njit(cache=True)
def _settle(trades_out: np.ndarray, trade: int, bar: int, reason: int, side: int, qty: float,
            entry_price: float, exit_price: float, fee_rate: float, liquidation: bool,
            remaining_margin_fee: bool, maintenance: float, available: float, interest_units: float,
            long_interest_paid: float, funding_sum: float, charges: int) -> tuple[float, float, float]:
    """Close the position at ``exit_price``; record the trade; return (cash change, fee, interest).

    A long's interest was taken from the balance charge by charge; a short owes its interest
    in base units, bought back at the exit price with the borrowed coins. A liquidation
    cannot take more than ``available`` (the isolated collateral, or a cross account's whole
    balance): the venue's insurance fund carries the rest. Its fee is either a rate of the
    notional or, on venues that say so, the remaining margin (``maintenance`` at the fill).
    """
    price_pnl = unrealized_pnl(side, qty, entry_price, exit_price)
    interest = long_interest_paid if side == 1 else interest_units * exit_price
    gross = price_pnl if side == 1 else price_pnl - interest
    fee = maintenance if (liquidation and remaining_margin_fee) else trading_fee(qty * exit_price, fee_rate)
    if liquidation:
        if gross <= -available:
            fee = 0.0
            gross = -available
        elif fee > available + gross:
            fee = available + gross
    delta = gross - fee
    row = trades_out[trade]
    row[L.TR_EXIT_BAR] = bar
    row[L.TR_EXIT_PRICE] = exit_price
    row[L.TR_EXIT_FEE] = fee
    row[L.TR_INTEREST] = interest
    row[L.TR_INTEREST_UNITS] = interest_units
    row[L.TR_CHARGES] = charges
    row[L.TR_FUNDING] = funding_sum
    row[L.TR_PNL] = delta - row[L.TR_ENTRY_FEE] - (long_interest_paid if side == 1 else 0.0) + funding_sum
    row[L.TR_REASON] = reason
    return delta, fee, interest


@numba.njit(cache=True)
def _interest_due(entry_time: int, until: int, charges_done: int, principal: float, opening_rate: float,
                  rate: float, period: int, clock_aligned: bool, charge_at_open: bool) -> tuple[int, float]:
    """Charges falling before ``until`` not yet paid: (new count, interest in the lent asset).

    When and how often is the venue's schedule (``charges_count``); the first charge of a
    schedule that charges at opening uses the opening rate (Kraken's opening fee).
    """
    due = charges_count(entry_time, until, period, clock_aligned, charge_at_open)
    amount = 0.0
    for k in range(charges_done, due):
        amount += principal * (opening_rate if (k == 0 and charge_at_open) else rate)
    return max(due, charges_done), amount


@numba.njit(cache=True)
def _maintenance(floors: np.ndarray, mmrs: np.ndarray, notional: float) -> float:
    """The tiered maintenance margin of a position of ``notional``."""
    tier = tier_index(notional, floors)
    return float(notional * mmrs[tier] - tier_maintenance_amount(tier, floors, mmrs))


@numba.njit(cache=True)
def run_bars(timestamps: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
             close: np.ndarray, entries: np.ndarray, exit_long: np.ndarray, exit_short: np.ndarray,
             cfg: np.ndarray, floors: np.ndarray, mmrs: np.ndarray, equity_out: np.ndarray,
             liquidation_out: np.ndarray, trades_out: np.ndarray, calls_out: np.ndarray) -> np.ndarray:
    """Run the bars; fill ``equity_out``, ``liquidation_out``, ``trades_out``, ``calls_out``.

    Args:
        timestamps: bar open times (int64 seconds, UTC), increasing.
        open_, high, low, close: float64 prices.
        entries: int8, +1 enter long / −1 enter short / 0, decided at the bar's close.
        exit_long, exit_short: bool, leave the long / short at the bar's close.
        cfg: settings vector (``CFG_*``).
        floors, mmrs: the venue's maintenance tiers (notional floors ascending from 0, rates).
        equity_out: receives the equity at each close (wallet balance + unrealized P&L).
        liquidation_out: receives each bar's liquidation price (``nan`` when flat).
        trades_out: one row per trade (``TR_*``); needs a row per nonzero entry.
        calls_out: one row per margin call (``MC_*``); same number of rows.

    Returns:
        The totals vector (``TOT_*``).
    """
    n = len(close)
    leverage = cfg[L.CFG_LEVERAGE]
    cross = cfg[L.CFG_CROSS] != 0.0
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
    borrow_full = cfg[L.CFG_BORROW_FULL_NOTIONAL] != 0.0
    funding_rate = cfg[L.CFG_FUNDING_RATE]
    funding_period = int(cfg[L.CFG_FUNDING_PERIOD])
    liquidation_fee_rate = cfg[L.CFG_LIQUIDATION_FEE]
    remaining_margin_fee = cfg[L.CFG_LIQUIDATION_FEE_REMAINING] != 0.0
    charges_interest = charge_period > 0 and (
        cfg[L.CFG_INTEREST_PER_CHARGE] > 0.0 or cfg[L.CFG_OPENING_RATE] > 0.0
        or cfg[L.CFG_SHORT_INTEREST_PER_CHARGE] > 0.0 or cfg[L.CFG_SHORT_OPENING_RATE] > 0.0)
    pays_funding = funding_rate != 0.0 and funding_period > 0
    totals = np.zeros(L.TOT_SIZE)

    cash = cfg[L.CFG_CASH]
    min_equity = cash * 1e-9
    side = 0
    qty = 0.0
    entry_price = 0.0
    entry_time = 0
    collateral = 0.0
    quote_borrowed = 0.0
    base_borrowed = 0.0
    principal = 0.0
    rate = 0.0
    opening_rate = 0.0
    interest_units = 0.0
    interest_quote = 0.0
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

        # 1. The order decided at the previous close fills at this open. Every interest charge
        #    falling strictly before this open was paid bar by bar already.
        if side != 0 and (pending_exit or (pending_entry != 0 and pending_entry != side)):
            delta, fee, interest = _settle(trades_out, trade, i, L.EXIT_SIGNAL, side, qty, entry_price,
                                           open_[i], fee_rate, False, False, 0.0, 0.0, interest_units,
                                           interest_quote, funding_sum, charges_done)
            cash += delta
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
            if (equity <= min_equity or quantity <= 0.0
                    or margin + fee > equity * (1.0 + 1e-12)):
                totals[L.TOT_SKIPPED_ENTRIES] += 1.0
            else:
                side = pending_entry
                qty = quantity
                entry_price = price
                entry_time = t
                collateral = margin
                cash -= fee
                if side == 1:
                    quote_borrowed = qty * price if borrow_full else qty * price - margin
                    base_borrowed = 0.0
                    principal = quote_borrowed
                    rate = cfg[L.CFG_INTEREST_PER_CHARGE]
                    opening_rate = cfg[L.CFG_OPENING_RATE]
                else:
                    quote_borrowed = 0.0
                    base_borrowed = qty
                    principal = base_borrowed
                    rate = cfg[L.CFG_SHORT_INTEREST_PER_CHARGE]
                    opening_rate = cfg[L.CFG_SHORT_OPENING_RATE]
                interest_units = 0.0
                interest_quote = 0.0
                charges_done = 0
                funding_sum = 0.0
                called = False
                stop_price = signal_close * (1.0 - side * stop_loss) if stop_loss > 0.0 else math.nan
                take_profit_price = (signal_close * (1.0 + side * take_profit)
                                     if take_profit > 0.0 else math.nan)
                trailing_price = signal_close * (1.0 - side * trail) if trail > 0.0 else math.nan
                liquidation_price = _threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral,
                                                     cash, quote_borrowed, base_borrowed, 0.0,
                                                     L.CFG_LIQUIDATION_LEVEL)
                call_price = _threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash,
                                              quote_borrowed, base_borrowed, 0.0, L.CFG_CALL_LEVEL)
                trade = n_trades
                n_trades += 1
                row = trades_out[trade]
                row[L.TR_SIDE] = side
                row[L.TR_ENTRY_BAR] = i
                row[L.TR_EXIT_BAR] = -1
                row[L.TR_QUANTITY] = qty
                row[L.TR_ENTRY_PRICE] = price
                row[L.TR_ENTRY_FEE] = fee
                row[L.TR_LIQUIDATION_PRICE] = liquidation_price
                row[L.TR_MARGIN] = margin
                row[L.TR_BORROWED] = principal
                totals[L.TOT_FEES] += fee
        pending_exit = False
        pending_entry = 0

        # 2. A margin call on the adverse extreme; then the protective exits inside the bar.
        if side != 0:
            if not called and call_price == call_price:
                extreme = adverse_extreme(side, high[i], low[i])
                if (side == 1 and extreme <= call_price) or (side == -1 and extreme >= call_price):
                    called = True
                    calls_out[n_calls, L.MC_BAR] = i
                    calls_out[n_calls, L.MC_PRICE] = call_price
                    calls_out[n_calls, L.MC_TRADE] = trade
                    calls_out[n_calls, L.MC_SIDE] = side
                    n_calls += 1
            stop_level, is_trailing = _stop_level(side, stop_price, trailing_price)
            code, price = exit_fill(side, open_[i], high[i], low[i], stop_level, take_profit_price,
                                    liquidation_price)
            if code != NO_FILL:
                if code == STOP:
                    reason = L.EXIT_TRAILING_STOP if is_trailing else L.EXIT_STOP
                elif code == TAKE_PROFIT:
                    reason = L.EXIT_TAKE_PROFIT
                else:
                    reason = L.EXIT_LIQUIDATION
                    totals[L.TOT_LIQUIDATIONS] += 1.0
                if charges_interest:
                    # The position was open at this bar's open instant: a charge falling there is owed.
                    charges_done, amount = _interest_due(entry_time, t + 1, charges_done, principal,
                                                         opening_rate, rate, charge_period, clock_aligned,
                                                         charge_at_open)
                    interest_units += amount
                    if side == 1:
                        cash -= amount
                        interest_quote += amount
                liquidated = code == LIQUIDATION
                close_fee = liquidation_fee_rate if liquidated else (
                    maker_fee_rate if code == TAKE_PROFIT else fee_rate)
                delta, fee, interest = _settle(
                    trades_out, trade, i, reason, side, qty, entry_price, price, close_fee, liquidated,
                    remaining_margin_fee, _maintenance(floors, mmrs, qty * price),
                    cash if cross else collateral, interest_units, interest_quote, funding_sum, charges_done)
                cash += delta
                totals[L.TOT_FEES] += fee
                totals[L.TOT_INTEREST] += interest
                side = 0

        # 3. Interest and funding inside the bar; the liquidation price follows the balances.
        if side != 0:
            changed = False
            if charges_interest:
                before = charges_done
                charges_done, amount = _interest_due(entry_time, t_end, charges_done, principal,
                                                     opening_rate, rate, charge_period, clock_aligned,
                                                     charge_at_open)
                if charges_done != before:
                    interest_units += amount
                    if side == 1:
                        cash -= amount
                        interest_quote += amount
                    changed = True
            if pays_funding:
                first = (t + funding_period - 1) // funding_period
                last = (t_end - 1) // funding_period
                for _ in range(first, last + 1):
                    payment = funding_payment(side, qty, close[i], funding_rate)
                    cash += payment
                    funding_sum += payment
                    totals[L.TOT_FUNDING] += payment
                    changed = True
            if changed:
                liquidation_price = _threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral,
                                                     cash, quote_borrowed, base_borrowed, interest_units,
                                                     L.CFG_LIQUIDATION_LEVEL)
                call_price = _threshold_price(cfg, floors, mmrs, side, qty, entry_price, collateral, cash,
                                              quote_borrowed, base_borrowed, interest_units, L.CFG_CALL_LEVEL)

        # 4. Mark to the close; move the trailing stop; read the bar's signals.
        if side != 0:
            equity_out[i] = cash + unrealized_pnl(side, qty, entry_price, close[i]) - (
                interest_units * close[i] if side == -1 else 0.0)
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
        # Still open: marked to the last close (no exit fee), as the equity curve is.
        row = trades_out[trade]
        row[L.TR_EXIT_BAR] = n - 1
        row[L.TR_EXIT_PRICE] = close[n - 1]
        interest = interest_quote if side == 1 else interest_units * close[n - 1]
        row[L.TR_INTEREST] = interest
        row[L.TR_INTEREST_UNITS] = interest_units
        row[L.TR_CHARGES] = charges_done
        row[L.TR_FUNDING] = funding_sum
        row[L.TR_PNL] = (unrealized_pnl(side, qty, entry_price, close[n - 1]) - row[L.TR_ENTRY_FEE]
                         - interest + funding_sum)
        row[L.TR_REASON] = L.EXIT_OPEN
        totals[L.TOT_INTEREST] += interest
    totals[L.TOT_TRADES] = n_trades
    totals[L.TOT_CALLS] = n_calls
    totals[L.TOT_FINAL_EQUITY] = equity_out[n - 1] if n > 0 else cash
    return totals
