"""Small hand-written scenarios for the kernel: bars as rows, signals as lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from marginbook.backtest.data import Bars, bars_from_arrays
from marginbook.backtest.engine import run_backtest
from marginbook.backtest.results import BacktestResult
from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.strategies import Signals

START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())


def make_bars(rows: Sequence[tuple[float, float, float, float]], step: int = 3600, start: int = START) -> Bars:
    """Bars from ``(open, high, low, close)`` rows, ``step`` seconds apart."""
    array = np.asarray(rows, dtype=np.float64)
    times = start + step * np.arange(len(rows), dtype=np.int64)
    return bars_from_arrays(times, array[:, 0], array[:, 1], array[:, 2], array[:, 3], source="test")


def run(rows: Sequence[tuple[float, float, float, float]], entries: Sequence[int],
        exit_long: Sequence[bool] | None = None, exit_short: Sequence[bool] | None = None,
        step: int = 3600, start: int = START, **settings: Any) -> BacktestResult:
    """Run the kernel on hand-written bars and signals with the given settings."""
    bars = make_bars(rows, step, start)
    signals = Signals.from_arrays(entries, exit_long, exit_short)
    return run_backtest(bars, signals, BacktestSettings(**settings))
