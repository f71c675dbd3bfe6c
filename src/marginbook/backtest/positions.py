"""Position arithmetic for the bar loop: liquidation and call prices, closing a position, interest.

Small compiled functions of numbers that :mod:`marginbook.backtest.kernel` calls, most of
them only when a position changes (opening, an interest charge, a funding payment, a close).
Each one delegates the venue's formula to :mod:`marginbook.margin.rules` (through its
numba twins in :mod:`marginbook.margin.rules.jit`) and only chooses the inputs: which
balance backs the position (isolated collateral or the cross wallet), what a spot position
owes, what a liquidation may still take.
"""

from __future__ import annotations

import numba
import numpy as np

from marginbook.backtest import layout as L
from marginbook.margin.rules.jit import (
    bybit_liquidation_price,
    charges_count,
    fixed_maintenance_ratio_price,
    kraken_margin_level_price,
    margin_ratio_price,
    okx_isolated_liquidation_price,
    partial_liquidation_quantity,
    spot_margin_level_price,
    tier_index,
    tier_maintenance_amount,
    tiered_margin_ratio_price,
    trading_fee,
    unrealized_pnl,
)

# Copies as module globals, which numba freezes into the compiled code.
MODEL_BYBIT = L.MODEL_BYBIT
MODEL_OKX = L.MODEL_OKX
MODEL_SPOT_MARGIN = L.MODEL_SPOT_MARGIN
MODEL_KRAKEN = L.MODEL_KRAKEN


@numba.njit(cache=True)
def threshold_price(cfg: np.ndarray, floors: np.ndarray, mmrs: np.ndarray, side: int, qty: float,
                    entry_price: float, collateral: float, cash: float, quote_borrowed: float,
                    base_borrowed: float, accrued: float, level_index: int) -> float:
    """The price at which the position reaches the venue's liquidation (or margin-call) level.

    ``level_index`` is ``CFG_LIQUIDATION_LEVEL`` or ``CFG_CALL_LEVEL``. Cross accounts back
    the position with the whole wallet balance ``cash``; isolated ones with ``collateral``.
    ``accrued`` is a spot position's unpaid interest, in the asset lent.
    """
    model = int(cfg[L.CFG_MODEL])
    cross = cfg[L.CFG_CROSS] != 0.0
    level = cfg[level_index]
    leverage = cfg[L.CFG_LEVERAGE]
    backing = cash if cross else collateral
    if model == MODEL_SPOT_MARGIN:
        if side == 1:
            # Holds the coins; owes the quote borrowed plus interest. Cross also holds its free cash.
            quote_held = cash - collateral if cross else 0.0
            quote_owed = quote_borrowed + accrued
            return float(spot_margin_level_price(qty, quote_held, 0.0, quote_owed, level))
        quote_held = qty * entry_price + backing
        return float(spot_margin_level_price(0.0, quote_held, base_borrowed + accrued, 0.0, level))
    if model == MODEL_KRAKEN:
        return float(kraken_margin_level_price(side, qty, entry_price, leverage, backing, 0.0, 0.0, level))
    tier = tier_index(qty * entry_price, floors)
    mmr = mmrs[tier]
    amount = tier_maintenance_amount(tier, floors, mmrs)
    # OKX reserves the taker fee of the closing order on top of the maintenance rate.
    reserved = cfg[L.CFG_TAKER_FEE] if model == MODEL_OKX else 0.0
    if cross:
        # A cross account: the whole balance backs the position, whatever the venue's isolated
        # formula; with tiers, the tier at the liquidation price governs (as the paper engine's).
        if len(floors) > 1:
            return float(tiered_margin_ratio_price(side, qty, entry_price, cash, 0.0, 0.0, floors, mmrs,
                                                   level))
        return float(margin_ratio_price(side, qty, entry_price, cash, 0.0, 0.0, mmr + reserved, amount,
                                        level))
    if model == MODEL_BYBIT:
        maintenance = qty * entry_price * mmr - amount
        if level_index == L.CFG_LIQUIDATION_LEVEL:
            # Margin beyond the initial margin (after a partial liquidation) is Bybit's "extra".
            extra = collateral - qty * entry_price / leverage
            return float(bybit_liquidation_price(side, entry_price, qty, leverage, mmr, amount, extra))
        return float(fixed_maintenance_ratio_price(side, entry_price, qty, collateral, maintenance, level))
    if model == MODEL_OKX:
        if level_index == L.CFG_LIQUIDATION_LEVEL:
            return float(okx_isolated_liquidation_price(side, entry_price, qty, collateral, mmr, reserved))
        return float(margin_ratio_price(side, qty, entry_price, collateral, 0.0, 0.0, mmr + reserved, amount,
                                        level))
    return float(tiered_margin_ratio_price(side, qty, entry_price, collateral, 0.0, 0.0, floors, mmrs, level))


@numba.njit(cache=True)
def tighter_stop(side: int, stop_loss: float, trailing: float) -> tuple[float, bool]:
    """The tighter of the stop-loss and the trailing stop, and whether the trailing one it is."""
    if trailing != trailing:
        return stop_loss, False
    if stop_loss != stop_loss:
        return trailing, True
    if side == 1:
        return (trailing, True) if trailing > stop_loss else (stop_loss, False)
    return (trailing, True) if trailing < stop_loss else (stop_loss, False)


@numba.njit(cache=True)
def maintenance(floors: np.ndarray, mmrs: np.ndarray, notional: float) -> float:
    """The tiered maintenance margin of a position of ``notional``."""
    tier = tier_index(notional, floors)
    return float(notional * mmrs[tier] - tier_maintenance_amount(tier, floors, mmrs))


@numba.njit(cache=True)
def close_position(cfg: np.ndarray, floors: np.ndarray, mmrs: np.ndarray, side: int, qty: float,
                   entry_price: float, price: float, fee_rate: float, liquidation: bool, collateral: float,
                   cash: float, quote_borrowed: float, base_borrowed: float,
                   accrued: float) -> tuple[float, float, float, float]:
    """Close the whole position at ``price``: (cash change, fee, interest settled, fill price).

    Spot positions settle their accrued interest here (a long repays it in quote; a short
    buys the coins it owes back at the fill price); other venues paid theirs charge by
    charge. A liquidation's fee is the venue's rate (or its remaining margin) but never
    more than what is left; an isolated futures position never loses more than its margin,
    and an isolated spot position is closed no worse than its bankruptcy price.
    """
    model = int(cfg[L.CFG_MODEL])
    cross = cfg[L.CFG_CROSS] != 0.0
    spot = model == MODEL_SPOT_MARGIN
    if spot and liquidation and not cross:
        if side == 1:
            price = max(price, (quote_borrowed + accrued) / qty)
        elif base_borrowed + accrued > 0.0:
            price = min(price, (qty * entry_price + collateral) / (base_borrowed + accrued))
    gross = unrealized_pnl(side, qty, entry_price, price)
    interest = 0.0
    notional = qty * price
    if spot:
        if side == 1:
            interest = accrued
        else:
            interest = accrued * price
            notional = (qty + accrued) * price
        gross -= interest
    fee = trading_fee(notional, fee_rate)
    if liquidation:
        if spot:
            if side == 1:
                room = qty * price - quote_borrowed - accrued
            else:
                room = qty * entry_price + collateral - (qty + accrued) * price
        elif cross:
            room = cash + gross
            if cfg[L.CFG_LIQUIDATION_FEE_REMAINING] != 0.0:
                fee = maintenance(floors, mmrs, qty * price)
                if model == MODEL_OKX:
                    fee += qty * price * cfg[L.CFG_TAKER_FEE]
        else:
            gross = max(gross, -collateral)
            room = collateral + gross
            if cfg[L.CFG_LIQUIDATION_FEE_REMAINING] != 0.0:
                fee = room
        fee = max(0.0, min(fee, room))
    return gross - fee, fee, interest, price


@numba.njit(cache=True)
def interest_due(entry_time: int, until: int, charges_done: int, principal: float, opening_rate: float,
                 rate: float, period: int, clock_aligned: bool, charge_at_open: bool) -> tuple[int, float]:
    """Charges falling before ``until`` not yet booked: (new count, interest in the lent asset).

    When and how often is the venue's schedule (``charges_count``); the charge at opening of
    a schedule that has one uses the opening rate (Kraken's opening fee).
    """
    due = charges_count(entry_time, until, period, clock_aligned, charge_at_open)
    amount = 0.0
    for k in range(charges_done, due):
        amount += principal * (opening_rate if (k == 0 and charge_at_open) else rate)
    return max(due, charges_done), amount


@numba.njit(cache=True)
def liquidation_quantity(cfg: np.ndarray, floors: np.ndarray, mmrs: np.ndarray, side: int, qty: float,
                         entry_price: float, price: float, collateral: float, cash: float,
                         risk_tier: int) -> tuple[float, int]:
    """Units the venue's liquidation engine sells at ``price`` (all, or part on a tiered venue), and
    the tier the rest is in (``risk_tier`` is the position's: see ``partial_liquidation_quantity``).

    Only futures venues that liquidate partially (``CFG_PARTIAL_LIQUIDATION``) with more than
    one tier sell part (``partial_liquidation_quantity``); the margin balance is the isolated
    margin or the cross wallet, plus the unrealized P&L at ``price``. Bybit values the
    position for its tier at the entry price, as its liquidation price does.
    """
    if cfg[L.CFG_PARTIAL_LIQUIDATION] == 0.0 or len(floors) < 2:
        return qty, risk_tier
    model = int(cfg[L.CFG_MODEL])
    if model in (MODEL_SPOT_MARGIN, MODEL_KRAKEN):
        return qty, risk_tier
    backing = cash if cfg[L.CFG_CROSS] != 0.0 else collateral
    balance = backing + unrealized_pnl(side, qty, entry_price, price)
    value_price = entry_price if model == MODEL_BYBIT else price
    sold, tier = partial_liquidation_quantity(qty, price, value_price, balance, 0.0, floors, mmrs,
                                              cfg[L.CFG_PARTIAL_FEE], risk_tier)
    return float(sold), int(tier)
