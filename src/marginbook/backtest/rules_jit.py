"""The margin rules of :mod:`marginbook.margin.rules`, compiled with numba for the bar loop.

The rules are plain Python functions of numbers, so that the calculator and the
event-driven engine start without numba. Here each function of the rule modules is compiled
as it stands: a copy of the function object sharing its very code object is given a
namespace in which the rules it calls are the compiled versions too, and that copy is
passed to ``numba.njit(cache=True)``. Nothing is re-implemented, so the kernel and the
event-driven engine compute the same floats; the compiled code is cached on disk, so a
second process does not pay for compilation.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numba

from marginbook.margin.rules import fills, interest, margin


def _compile_module(module: types.ModuleType) -> dict[str, Any]:
    """Compile every function defined in ``module``, rebinding their calls to each other."""
    namespace: dict[str, Any] = dict(vars(module))
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            clone = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__,
                                       value.__closure__)
            clone.__qualname__ = value.__qualname__
            clone.__module__ = value.__module__
            namespace[name] = numba.njit(cache=True)(clone)
    return namespace


_FILLS = _compile_module(fills)
_INTEREST = _compile_module(interest)
_MARGIN = _compile_module(margin)


def _get(namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    function = namespace[name]
    assert callable(function)
    return function


exit_fill = _get(_FILLS, "exit_fill")
favourable_extreme = _get(_FILLS, "favourable_extreme")
adverse_extreme = _get(_FILLS, "adverse_extreme")
trailing_stop_level = _get(_FILLS, "trailing_stop_level")

charges_count = _get(_INTEREST, "charges_count")

tier_index = _get(_MARGIN, "tier_index")
tier_maintenance_amount = _get(_MARGIN, "tier_maintenance_amount")
tiered_margin_ratio_price = _get(_MARGIN, "tiered_margin_ratio_price")
bybit_liquidation_price = _get(_MARGIN, "bybit_liquidation_price")
fixed_maintenance_ratio_price = _get(_MARGIN, "fixed_maintenance_ratio_price")
okx_isolated_liquidation_price = _get(_MARGIN, "okx_isolated_liquidation_price")
kraken_margin_level_price = _get(_MARGIN, "kraken_margin_level_price")
spot_margin_level_price = _get(_MARGIN, "spot_margin_level_price")
funding_payment = _get(_MARGIN, "funding_payment")
trading_fee = _get(_MARGIN, "trading_fee")
unrealized_pnl = _get(_MARGIN, "unrealized_pnl")

#: Outcome codes of :func:`exit_fill`, re-exported as plain ints for the kernel.
NO_FILL: int = fills.NO_FILL
STOP: int = fills.STOP
TAKE_PROFIT: int = fills.TAKE_PROFIT
LIQUIDATION: int = fills.LIQUIDATION
