"""The venues' margin rules, written once as plain numeric functions.

Scalars (floats, ints, bools) and 1-D float arrays in, scalars or tuples out; no numba, no
numpy, no Decimal, no objects. The event-driven engine (:mod:`marginbook.margin.engine`)
calls these directly; the backtest kernel wraps the same functions with ``numba.njit``, so
the two paths compute the same floats. Exact decimals begin at the ledger boundary
(:mod:`marginbook.margin.ledger`).

Modules: :mod:`.margin` (margin, liquidation, funding, fees), :mod:`.levels` (margin-level
venues: Kraken, Binance spot margin), :mod:`.interest` (when and how much interest is
charged), :mod:`.fills` (what fills inside a bar).
"""

from marginbook.margin.rules.fills import (
    LIMIT,
    LIQUIDATION,
    MARKET,
    NO_FILL,
    STOP,
    STOP_MARKET,
    TAKE_PROFIT,
    adverse_extreme,
    exit_fill,
    favourable_extreme,
    liquidated_at_open,
    order_fill_price,
    trailing_stop_level,
)
from marginbook.margin.rules.interest import (
    DAY,
    FOUR_HOURS,
    HOUR,
    binance_hours_charged,
    charge_time,
    charges_count,
    kraken_margin_fees,
    kraken_rollovers,
    rate_per_charge,
    simple_interest,
)
from marginbook.margin.rules.levels import (
    kraken_aggregate_level_price,
    kraken_margin_level_price,
    kraken_position_value,
    kraken_used_margin,
    margin_level,
    spot_margin_level_price,
)
from marginbook.margin.rules.margin import (
    LONG,
    SHORT,
    aggregate_margin_ratio_price,
    bankruptcy_price,
    binance_usdm_liquidation_price,
    binance_usdm_liquidation_price_tiered,
    bybit_liquidation_price,
    fixed_maintenance_ratio_price,
    funding_payment,
    initial_margin,
    maintenance_margin,
    margin_ratio_price,
    notional_value,
    okx_isolated_liquidation_price,
    partial_liquidation_quantity,
    tier_index,
    tier_leverage_cap,
    tier_maintenance_amount,
    tiered_margin_ratio_price,
    trading_fee,
    unrealized_pnl,
)

__all__ = [
    "DAY",
    "FOUR_HOURS",
    "HOUR",
    "LIMIT",
    "LIQUIDATION",
    "LONG",
    "MARKET",
    "NO_FILL",
    "SHORT",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "adverse_extreme",
    "aggregate_margin_ratio_price",
    "bankruptcy_price",
    "binance_hours_charged",
    "binance_usdm_liquidation_price",
    "binance_usdm_liquidation_price_tiered",
    "bybit_liquidation_price",
    "charge_time",
    "charges_count",
    "exit_fill",
    "favourable_extreme",
    "fixed_maintenance_ratio_price",
    "funding_payment",
    "initial_margin",
    "kraken_aggregate_level_price",
    "kraken_margin_fees",
    "kraken_margin_level_price",
    "kraken_position_value",
    "kraken_rollovers",
    "kraken_used_margin",
    "liquidated_at_open",
    "maintenance_margin",
    "margin_level",
    "margin_ratio_price",
    "notional_value",
    "okx_isolated_liquidation_price",
    "order_fill_price",
    "partial_liquidation_quantity",
    "rate_per_charge",
    "simple_interest",
    "spot_margin_level_price",
    "tier_index",
    "tier_leverage_cap",
    "tier_maintenance_amount",
    "tiered_margin_ratio_price",
    "trading_fee",
    "trailing_stop_level",
    "unrealized_pnl",
]
