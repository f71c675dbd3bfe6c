"""The rule functions compiled with numba, for the backtest kernel.

``numba.njit(f)`` alone cannot compile a rule that calls another rule (numba sees the callee
as an untyped Python function), so this module clones every rule onto one shared globals
table in which each name is bound to its compiled twin, then compiles the clones. The
source is the very same code object: the kernel and the engine cannot disagree.

Import it only where numba is wanted (the backtest kernel, tests): importing numba costs
about half a second, which ``marginbook risk`` must not pay. Compilation itself is lazy,
per signature, at first call.

Example:
    >>> from marginbook.margin.rules import jit
    >>> @numba.njit
    ... def kernel(...):
    ...     code, price = jit.exit_fill(1, o, h, l, stop, tp, lp)
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numba

from marginbook.margin.rules import fills as _fills
from marginbook.margin.rules import interest as _interest
from marginbook.margin.rules import levels as _levels
from marginbook.margin.rules import margin as _margin

#: The globals every compiled clone sees: the rule modules' constants and imports, with
#: each rule name rebound to its compiled twin as it is created below.
_GLOBALS: dict[str, Any] = {}
for _module in (_margin, _levels, _interest, _fills):
    _GLOBALS.update({k: v for k, v in vars(_module).items() if not k.startswith("__")})


def _jit(function: Callable[..., Any]) -> Any:
    """Clone ``function`` onto the shared globals, compile it lazily, and bind the twin there."""
    clone = types.FunctionType(
        function.__code__, _GLOBALS, function.__name__, function.__defaults__, function.__closure__
    )
    clone.__doc__ = function.__doc__
    compiled = numba.njit(cache=False)(clone)
    _GLOBALS[function.__name__] = compiled
    return compiled


adverse_extreme = _jit(_fills.adverse_extreme)
aggregate_margin_ratio_price = _jit(_margin.aggregate_margin_ratio_price)
bankruptcy_price = _jit(_margin.bankruptcy_price)
binance_hours_charged = _jit(_interest.binance_hours_charged)
binance_usdm_liquidation_price = _jit(_margin.binance_usdm_liquidation_price)
binance_usdm_liquidation_price_tiered = _jit(_margin.binance_usdm_liquidation_price_tiered)
bybit_liquidation_price = _jit(_margin.bybit_liquidation_price)
charge_time = _jit(_interest.charge_time)
charges_count = _jit(_interest.charges_count)
exit_fill = _jit(_fills.exit_fill)
favourable_extreme = _jit(_fills.favourable_extreme)
fixed_maintenance_ratio_price = _jit(_margin.fixed_maintenance_ratio_price)
funding_payment = _jit(_margin.funding_payment)
initial_margin = _jit(_margin.initial_margin)
kraken_aggregate_level_price = _jit(_levels.kraken_aggregate_level_price)
kraken_margin_fees = _jit(_interest.kraken_margin_fees)
kraken_margin_level_price = _jit(_levels.kraken_margin_level_price)
kraken_position_value = _jit(_levels.kraken_position_value)
kraken_rollovers = _jit(_interest.kraken_rollovers)
kraken_used_margin = _jit(_levels.kraken_used_margin)
maintenance_margin = _jit(_margin.maintenance_margin)
liquidated_at_open = _jit(_fills.liquidated_at_open)
margin_level = _jit(_levels.margin_level)
margin_ratio_price = _jit(_margin.margin_ratio_price)
notional_value = _jit(_margin.notional_value)
okx_isolated_liquidation_price = _jit(_margin.okx_isolated_liquidation_price)
order_fill_price = _jit(_fills.order_fill_price)
partial_liquidation_quantity = _jit(_margin.partial_liquidation_quantity)
rate_per_charge = _jit(_interest.rate_per_charge)
simple_interest = _jit(_interest.simple_interest)
spot_margin_level_price = _jit(_levels.spot_margin_level_price)
tier_index = _jit(_margin.tier_index)
tier_leverage_cap = _jit(_margin.tier_leverage_cap)
tier_maintenance_amount = _jit(_margin.tier_maintenance_amount)
tiered_margin_ratio_price = _jit(_margin.tiered_margin_ratio_price)
trading_fee = _jit(_margin.trading_fee)
trailing_stop_level = _jit(_fills.trailing_stop_level)
unrealized_pnl = _jit(_margin.unrealized_pnl)
