"""Every rule function compiles with numba and gives the same answer as plain Python.

This is the promise the backtest kernel relies on: one source of truth for both paths.
Leaf rules compile with a bare ``numba.njit``; rules that call other rules compile through
:mod:`marginbook.margin.rules.jit`, which binds callees to their compiled twins.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from marginbook.margin import rules  # noqa: E402

FLOORS = np.array([0.0, 50_000.0, 250_000.0, 3_000_000.0])
MMRS = np.array([0.004, 0.005, 0.01, 0.025])

CASES: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
    (rules.notional_value, (2.0, 100.0)),
    (rules.initial_margin, (20_000.0, 50.0)),
    (rules.maintenance_margin, (20_000.0, 0.005, 0.0)),
    (rules.unrealized_pnl, (-1, 0.2, 50_000.0, 65_200.0)),
    (rules.tier_index, (260_000.0, FLOORS)),
    (rules.tier_maintenance_amount, (2, FLOORS, MMRS)),
    (rules.partial_liquidation_quantity, (3.0, 100_000.0, 100_000.0, 1_700.0, 0.0, FLOORS, MMRS, 0.0005, 9)),
    (rules.partial_liquidation_quantity, (3.0, 100_000.0, 100_000.0, 100.0, 0.0, FLOORS, MMRS, 0.0005, 9)),
    (rules.tier_leverage_cap, (260_000.0, FLOORS, np.array([125.0, 100.0, 50.0, 20.0]), 75.0)),
    (rules.tier_leverage_cap, (60_000.0, FLOORS, np.array([125.0, 100.0, 50.0, 20.0]), 125.0)),
    (rules.margin_ratio_price, (1, 1.0, 20_000.0, 1_000.0, 0.0, 0.0, 0.004, 0.0, 0.8)),
    (rules.binance_usdm_liquidation_price, (-1, 1.0, 20_000.0, 1_000.0, 10.0, 5.0, 0.004, 0.0)),
    (rules.tiered_margin_ratio_price, (-1, 5.0, 40_000.0, 100_000.0, 0.0, 0.0, FLOORS, MMRS, 1.0)),
    (rules.binance_usdm_liquidation_price_tiered, (-1, 5.0, 40_000.0, 100_000.0, 0.0, 0.0, FLOORS, MMRS)),
    (rules.aggregate_margin_ratio_price, (0.5, 9_000.0, 0.006, 0.0, 2_000.0, 1.0)),
    (rules.kraken_aggregate_level_price, (0.8, 16_000.0, 4_000.0, 0.04, 10_000.0, 0.8)),
    (rules.bybit_liquidation_price, (1, 20_000.0, 1.0, 50.0, 0.005, 0.0, 0.0)),
    (rules.fixed_maintenance_ratio_price, (1, 20_000.0, 1.0, 400.0, 100.0, 0.8)),
    (rules.okx_isolated_liquidation_price, (1, 20_000.0, 1.0, 2_000.0, 0.004, 0.0005)),
    (rules.bankruptcy_price, (1, 20_000.0, 1.0, 400.0)),
    (rules.margin_level, (1_960.0, 2_608.0)),
    (rules.kraken_position_value, (-1, 0.2, 50_000.0, 65_200.0)),
    (rules.kraken_used_margin, (-1, 0.2, 50_000.0, 65_200.0, 5.0)),
    (rules.kraken_margin_level_price, (1, 1.0, 20_000.0, 5.0, 10_000.0, 0.0, 0.0, 0.8)),
    (rules.spot_margin_level_price, (1.0, 0.0, 0.0, 10_000.0, 1.1)),
    (rules.funding_payment, (1, 2.0, 30_000.0, 0.0001)),
    (rules.trading_fee, (20_000.0, 0.0004)),
    (rules.charges_count, (1_740_835_200, 1_740_838_500, 3600, True, True)),
    (rules.charge_time, (1_740_835_200, 3600, True, True, 2)),
    (rules.rate_per_charge, (0.00024, 86_400, 3600)),
    (rules.simple_interest, (1_000.0, 0.00001, 2)),
    (rules.binance_hours_charged, (1_740_835_200, 1_740_838_500)),
    (rules.kraken_rollovers, (1_740_835_200, 1_740_865_200)),
    (rules.kraken_margin_fees, (10_000.0, 0.0002, 0.0002, 1_740_835_200, 1_740_865_200)),
    (rules.adverse_extreme, (1, 105.0, 95.0)),
    (rules.favourable_extreme, (-1, 105.0, 95.0)),
    (rules.exit_fill, (1, 100.0, 101.0, 80.0, 95.0, math.nan, 90.0)),
    (rules.exit_fill, (-1, 100.0, 120.0, 99.0, 115.0, 90.0, 110.0)),
    (rules.liquidated_at_open, (-1, 88.008, 87.17)),
    (rules.order_fill_price, (True, rules.LIMIT, 93.0, 101.0, 92.0, 95.0)),
    (rules.trailing_stop_level, (1, math.nan, 110.0, 0.05)),
]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@pytest.mark.parametrize(("function", "args"), CASES, ids=[f.__name__ for f, _ in CASES])
def test_rule_compiles_with_numba_and_agrees(function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    from marginbook.margin.rules import jit

    compiled = getattr(jit, function.__name__)
    assert _same(compiled(*args), function(*args))


def test_leaf_rules_compile_with_bare_njit() -> None:
    """Rules that call no other rule need no help: ``numba.njit(rule)`` compiles them as they are."""
    leaves = {
        "exit_fill",
        "liquidated_at_open",
        "order_fill_price",
        "bybit_liquidation_price",
        "charges_count",
        "margin_ratio_price",
    }
    for function, args in CASES:
        if function.__name__ in leaves:
            assert not any(callable(getattr(rules, name, None)) for name in function.__code__.co_names)
            assert _same(numba.njit(cache=False)(function)(*args), function(*args)), function.__name__


def test_a_compiled_kernel_can_call_the_compiled_rules() -> None:
    from marginbook.margin.rules import jit

    @numba.njit(cache=False)
    def kernel(lows: Any, liquidation_price: float) -> int:
        for i in range(len(lows)):
            code, _ = jit.exit_fill(
                1, lows[i] + 1.0, lows[i] + 2.0, lows[i], math.nan, math.nan, liquidation_price
            )
            if code == rules.LIQUIDATION:
                return i
        return -1

    assert kernel(np.array([100.0, 95.0, 89.0, 80.0]), 90.0) == 2


def test_every_public_rule_is_covered() -> None:
    functions = {name for name in rules.__all__ if callable(getattr(rules, name))}
    covered = {f.__name__ for f, _ in CASES}
    assert functions == covered
    from marginbook.margin.rules import jit

    assert all(hasattr(jit, name) for name in functions)
