"""Margin, liquidation and funding rules of the venues, as plain functions of numbers.

Every function here takes and returns floats and ints only (sides are ``+1`` long, ``-1``
short; tier tables are 1-D float arrays), and the module imports nothing but :mod:`math`,
so the event-driven engine calls the functions directly and the backtest kernel compiles
the very same functions with ``numba.njit``. Prices a rule cannot give (no liquidation is
possible, or a denominator vanishes) are ``nan``; callers treat ``nan`` as "never".

Sources (re-checked against the venues' help pages; see ``docs/margin.md``):

- Binance USDⓈ-M: "How to Calculate Liquidation Price of USDⓈ-M Contracts" and
  "Leverage and Margin of USDⓈ-M Futures" (tiers, maintenance amount).
- Binance spot margin: "Margin Level" and "Margin Call and Liquidation".
- Kraken margin: "How is the margin level calculated?" and "Margin call and liquidation".
- Bybit: "Liquidation Price (USDT Contract)"; "Liquidation Process (USDT Contract)" and
  "Risk Limit (USDT Contract)" (partial liquidation down to a lower risk limit).
- Binance USDⓈ-M partial liquidation: "Binance Futures Liquidation Protocols".
- OKX: "Isolated margin liquidation price" (perpetual swap).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from marginbook.margin.rules.levels import (  # noqa: F401 - moved; re-exported for old imports
    kraken_aggregate_level_price,
    kraken_margin_level_price,
    kraken_position_value,
    kraken_used_margin,
    margin_level,
    spot_margin_level_price,
)

if TYPE_CHECKING:  # pragma: no cover - typing only; numpy is not imported at run time
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

LONG = 1
SHORT = -1


def notional_value(quantity: float, price: float) -> float:
    """Position value (notional) of ``quantity`` units at ``price``, always positive."""
    return abs(quantity) * price


def initial_margin(notional: float, leverage: float) -> float:
    """Initial margin: the trader's collateral behind ``notional`` at ``leverage`` (notional / L)."""
    return notional / leverage


def maintenance_margin(notional: float, mmr: float, maintenance_amount: float) -> float:
    """Maintenance margin of one tier: ``notional · MMR − maintenance amount``."""
    return notional * mmr - maintenance_amount


def unrealized_pnl(side: int, quantity: float, entry_price: float, price: float) -> float:
    """Unrealized profit (+) or loss (−) of a position; sign-correct for shorts (``side = −1``)."""
    return side * quantity * (price - entry_price)


def tier_index(notional: float, floors: FloatArray) -> int:
    """The tier whose notional bracket holds ``notional``.

    Args:
        notional: position value in the quote asset.
        floors: each tier's lower notional bound, ascending, ``floors[0] == 0``. A bracket
            includes its upper bound, as the venues print them ("0 – 50,000" is tier 1).

    Returns:
        The 0-based tier index (the last tier for anything above its floor).
    """
    index = 0
    for i in range(1, len(floors)):
        if notional > floors[i]:
            index = i
        else:
            break
    return index


def tier_leverage_cap(notional: float, floors: FloatArray, caps: FloatArray, max_leverage: float) -> float:
    """The highest leverage the venue allows for a position of ``notional``.

    Futures venues cap leverage per notional bracket (Binance "Leverage and Margin of USDⓈ-M
    Futures", Bybit "Risk Limit"): the bigger the position, the lower the cap. ``caps[i]``
    is the cap of the tier whose floor is ``floors[i]`` (:func:`tier_index`); with no caps
    (an empty table) the venue's ``max_leverage`` applies, and it bounds every tier's cap.
    """
    if len(caps) == 0:
        return max_leverage
    cap: float = caps[tier_index(notional, floors)]
    return min(max_leverage, cap)


def tier_maintenance_amount(tier: int, floors: FloatArray, mmrs: FloatArray) -> float:
    """The maintenance amount ("cum") of ``tier``, derived from the tier table.

    ``amount_n = amount_(n−1) + floor_n · (MMR_n − MMR_(n−1))`` with ``amount_0 = 0``: the
    amount that makes the maintenance margin continuous across bracket boundaries.
    """
    amount = 0.0
    for i in range(1, tier + 1):
        amount += floors[i] * (mmrs[i] - mmrs[i - 1])
    return amount


def margin_ratio_price(
    side: int,
    quantity: float,
    entry_price: float,
    wallet_balance: float,
    other_maintenance: float,
    other_upnl: float,
    mmr: float,
    maintenance_amount: float,
    ratio: float,
) -> float:
    """The price at which a futures account's margin ratio reaches ``ratio``.

    Margin ratio = maintenance margin / margin balance, with margin balance = wallet balance
    + every position's unrealized P&L. Solving ``TMM1 + Q·P·MMR − cum = ratio · (WB + UPNL1
    + Side·Q·(P − EP))`` for ``P`` gives this price; at ``ratio = 1`` it is Binance's
    liquidation price, at the call level (e.g. 0.8) the margin-call price.

    Args:
        side: +1 long, −1 short.
        quantity: position size in base units (positive).
        entry_price: the position's entry price.
        wallet_balance: cross: the account's wallet balance; isolated: the position's margin.
        other_maintenance: maintenance margin of every other position (0 when isolated).
        other_upnl: unrealized P&L of every other position (0 when isolated).
        mmr: maintenance margin rate of the tier.
        maintenance_amount: maintenance amount ("cum") of the tier.
        ratio: the margin ratio to solve for (1.0 = liquidation).

    Returns:
        The price, ``0.0`` for a long that cannot be liquidated above zero, or ``nan``.
    """
    denominator = quantity * (mmr - ratio * side)
    if denominator == 0.0:
        return math.nan
    price = (
        ratio * (wallet_balance + other_upnl - side * quantity * entry_price)
        - other_maintenance
        + maintenance_amount
    ) / denominator
    if price < 0.0:
        return 0.0 if side == LONG else math.nan
    return price


def binance_usdm_liquidation_price(
    side: int,
    quantity: float,
    entry_price: float,
    wallet_balance: float,
    other_maintenance: float,
    other_upnl: float,
    mmr: float,
    maintenance_amount: float,
) -> float:
    """Binance USDⓈ-M liquidation price for one tier (one-way mode).

    ``LP = (WB − TMM1 + UPNL1 + cum − Side·Q·EP) / (Q·MMR − Side·Q)``. Isolated: ``WB`` is
    the position's isolated margin and ``TMM1 = UPNL1 = 0``.
    """
    return margin_ratio_price(
        side,
        quantity,
        entry_price,
        wallet_balance,
        other_maintenance,
        other_upnl,
        mmr,
        maintenance_amount,
        1.0,
    )


def tiered_margin_ratio_price(
    side: int,
    quantity: float,
    entry_price: float,
    wallet_balance: float,
    other_maintenance: float,
    other_upnl: float,
    floors: FloatArray,
    mmrs: FloatArray,
    ratio: float,
) -> float:
    """:func:`margin_ratio_price` with the tier chosen by the notional *at that price*.

    The tier at entry gives a first answer; when the notional at that price lies in another
    tier, the venue applies that tier, so this returns the one price that lies inside the
    tier it was computed with (the maintenance margin is continuous in notional, so there
    is exactly one). Tier amounts come from :func:`tier_maintenance_amount`.
    """
    entry_tier = tier_index(quantity * entry_price, floors)
    price = margin_ratio_price(
        side,
        quantity,
        entry_price,
        wallet_balance,
        other_maintenance,
        other_upnl,
        mmrs[entry_tier],
        tier_maintenance_amount(entry_tier, floors, mmrs),
        ratio,
    )
    if math.isnan(price) or tier_index(quantity * price, floors) == entry_tier:
        return price
    for tier in range(len(floors)):
        candidate = margin_ratio_price(
            side,
            quantity,
            entry_price,
            wallet_balance,
            other_maintenance,
            other_upnl,
            mmrs[tier],
            tier_maintenance_amount(tier, floors, mmrs),
            ratio,
        )
        if not math.isnan(candidate) and tier_index(quantity * candidate, floors) == tier:
            return candidate
    return price


def partial_liquidation_quantity(
    quantity: float,
    fill_price: float,
    value_price: float,
    balance: float,
    other_maintenance: float,
    floors: FloatArray,
    mmrs: FloatArray,
    fee_rate: float,
    risk_tier: int,
) -> tuple[float, int]:
    """How many units a tiered venue's liquidation engine sells: part of the position, or all.

    Bybit ("Liquidation Process (USDT Contract)"): a position on the lowest risk-limit level
    is closed whole; above it, the engine lowers the position's risk limit and sends a
    FillOrKill order "of the difference between the current position value and the lower
    margin tier value which satisfies the margin requirement", taking the whole position only
    if that fails. Binance USDⓈ-M ("Liquidation Protocols") likewise first sends one order
    that reduces the position without closing it, and stops once the account is margin
    compliant after the realized loss and the fee on the part liquidated. So: try the tiers
    below the position's, highest first; keep the position's value at that tier's upper
    bound and sell the rest at ``fill_price``, paying ``fee_rate`` on the part sold; the
    first tier at which the margin balance left exceeds the maintenance margin of everything
    still open gives the answer. When no tier does (the lowest tier, or a gap too deep), the
    whole ``quantity``.

    The position's tier is its value's tier, but never above ``risk_tier``: the level it
    was opened in, or the one an earlier partial liquidation lowered it to (Bybit's risk
    limit is the position's setting, which liquidation only lowers). So a short whose value
    grows with the price after a reduction is not reduced again towards the same bound in
    ever smaller slices: it is closed whole.

    Args:
        quantity: the position's size (base units).
        fill_price: the price the units are sold at (the liquidation price, or a gapped open).
        value_price: the price that values the position for its tier: ``fill_price`` where
            the maintenance margin follows the price (Binance), the entry price where it is
            fixed at the entry value (Bybit isolated).
        balance: the margin balance backing it at ``fill_price`` (isolated: the position's
            margin plus its unrealized P&L; cross: wallet balance plus every unrealized P&L).
            Selling moves the sold part's P&L from unrealized to realized, so only the fee
            changes the balance.
        other_maintenance: maintenance margin of the account's other positions (cross).
        floors, mmrs: the venue's tier table.
        fee_rate: fee rate of the part liquidated.
        risk_tier: the highest tier the position may be reduced from (see above).

    Returns:
        ``(units to sell, tier kept)``: ``(quantity, tier)`` for a full liquidation, else the
        part sold and the lower tier the rest is in.
    """
    tier = min(tier_index(quantity * value_price, floors), risk_tier)
    for lower in range(tier - 1, -1, -1):
        bound: float = floors[lower + 1]
        keep = bound / value_price
        if keep >= quantity:
            continue
        sold = quantity - keep
        left = balance - sold * fill_price * fee_rate
        rate: float = mmrs[lower]
        needed = other_maintenance + maintenance_margin(
            keep * value_price, rate, tier_maintenance_amount(lower, floors, mmrs)
        )
        if left > needed:
            return sold, lower
    return quantity, tier


def binance_usdm_liquidation_price_tiered(
    side: int,
    quantity: float,
    entry_price: float,
    wallet_balance: float,
    other_maintenance: float,
    other_upnl: float,
    floors: FloatArray,
    mmrs: FloatArray,
) -> float:
    """Binance USDⓈ-M liquidation price with the tier at the liquidation price governing."""
    return tiered_margin_ratio_price(
        side,
        quantity,
        entry_price,
        wallet_balance,
        other_maintenance,
        other_upnl,
        floors,
        mmrs,
        1.0,
    )


def bybit_liquidation_price(
    side: int,
    entry_price: float,
    size: float,
    leverage: float,
    mmr: float,
    mm_deduction: float,
    extra_margin: float,
) -> float:
    """Bybit USDT perpetual, isolated: ``LP = EP ∓ (IM − MM)/size ∓ extra/size``.

    ``IM = position value / leverage`` and ``MM = position value · MMR − MM deduction``, both
    at the entry price. Venue example: long 1 BTC at 20,000, 50x, MMR 0.5 % → 19,700.
    """
    value = size * entry_price
    im = value / leverage
    mm = value * mmr - mm_deduction
    price = entry_price - side * (im - mm + extra_margin) / size
    return max(price, 0.0)


def fixed_maintenance_ratio_price(
    side: int, entry_price: float, size: float, collateral: float, maintenance: float, ratio: float
) -> float:
    """The price at which ``maintenance / (collateral + unrealized P&L)`` reaches ``ratio``.

    For venues whose maintenance margin is fixed at the entry value (Bybit isolated): at
    ``ratio = 1`` and ``collateral = IM + extra`` this is :func:`bybit_liquidation_price`; at
    the call level it is the margin-call price.
    """
    if ratio <= 0.0:
        return math.nan
    price = entry_price - side * (collateral - maintenance / ratio) / size
    return max(price, 0.0)


def okx_isolated_liquidation_price(
    side: int, entry_price: float, quantity: float, isolated_margin: float, mmr: float, taker_fee: float
) -> float:
    """OKX (and Gate) perpetual, isolated: ``(EP ∓ WB/Q) / (1 ∓ (MMR + taker))``.

    ``WB`` is the position's isolated margin; the taker rate is the closing fee the venue
    reserves out of the margin.
    """
    denominator = 1.0 - side * (mmr + taker_fee)
    if denominator <= 0.0:
        return math.nan
    price = (entry_price - side * isolated_margin / quantity) / denominator
    return max(price, 0.0)


def bankruptcy_price(side: int, entry_price: float, quantity: float, collateral: float) -> float:
    """The price at which the loss equals the collateral (zero equity left)."""
    return max(entry_price - side * collateral / quantity, 0.0)


def funding_payment(side: int, size: float, mark_price: float, rate: float) -> float:
    """Cash a position receives (+) or pays (−) at a funding time.

    ``payment = size · mark price · rate``; with a positive rate longs pay and shorts receive.
    """
    return -side * size * mark_price * rate


def trading_fee(notional: float, rate: float) -> float:
    """Fee on a trade: notional · rate (rates are fractions, ``0.0004`` = 0.04 %)."""
    return abs(notional) * rate


def aggregate_margin_ratio_price(
    net_quantity: float,
    net_cost: float,
    maintenance_slope: float,
    maintenance_amount: float,
    wallet_balance: float,
    ratio: float,
) -> float:
    """Cross margin on one market: the price at which the account's margin ratio reaches ``ratio``.

    Every position on the market moves with the one price, so the account's margin balance
    ``WB + N·P − C`` and its maintenance margin ``M·P − K`` are both linear in ``P``, with
    ``N = Σ Side·Q`` (net quantity), ``C = Σ Side·Q·EP`` (net cost), ``M = Σ Q·MMR`` and
    ``K = Σ cum`` plus the maintenance of other markets. Solving ``M·P − K = ratio·(WB + N·P − C)``
    gives ``P``; with one position it is :func:`margin_ratio_price`. ``nan`` when no positive
    price reaches it.
    """
    denominator = maintenance_slope - ratio * net_quantity
    if denominator == 0.0:
        return math.nan
    price = (ratio * (wallet_balance - net_cost) + maintenance_amount) / denominator
    return price if price > 0.0 else math.nan
