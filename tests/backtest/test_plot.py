"""The chart shows what the run did: every trade and liquidation, the liquidation line, equity, drawdown."""

from __future__ import annotations

from typing import Any

import numpy as np

from marginbook.backtest.data import synthetic_bars
from marginbook.backtest.engine import run_backtest
from marginbook.backtest.plot import figure
from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.strategies import BUILTIN


def _traces(fig: Any) -> dict[str, Any]:
    return {trace.name: trace for trace in fig.data}


def test_long_runs_are_thinned_for_drawing_but_trades_are_drawn_in_full() -> None:
    bars = synthetic_bars(60_000, seed=4, volatility=0.004)
    signals = BUILTIN["sma-cross"].signals(bars, {"fast": 20, "slow": 100})
    result = run_backtest(bars, signals, BacktestSettings(venue="binance-usdm", leverage=50, size_fraction=0.1))
    traces = _traces(figure(result, max_points=10_000))
    assert len(traces["close"].y) <= 10_000 and len(traces["equity"].y) <= 10_000
    entries = len(traces["long entry"].x) + len(traces["short entry"].x)
    assert entries == result.trade_count  # the rest of a partly liquidated position is no new entry
    assert len(traces["liquidation"].x) == len(result.liquidations) > 0
    line = np.asarray(traces["liquidation price"].y, dtype=float)
    assert np.isfinite(line).any() and np.isnan(line).any()  # drawn while a position is open only
    assert max(traces["drawdown"].y) <= 0.0


def test_short_runs_are_drawn_as_candles() -> None:
    bars = synthetic_bars(500, seed=2, volatility=0.01)
    signals = BUILTIN["rsi"].signals(bars, {})
    result = run_backtest(bars, signals, BacktestSettings(venue="generic"))
    fig: Any = figure(result)
    assert fig.data[0].type == "candlestick" and len(fig.data[0].close) == 500
