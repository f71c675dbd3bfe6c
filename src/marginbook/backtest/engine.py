"""Run a backtest: bars and signals in, :class:`~marginbook.backtest.results.BacktestResult` out.

This is the adapter between Python objects and the kernel's arrays: it builds the settings
vector, allocates the output arrays (memory proportional to the bars: two float64 values per
bar, plus one row per entry signal), calls the compiled loop and wraps what comes back.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from marginbook.backtest import layout as L
from marginbook.backtest.data import Bars
from marginbook.backtest.results import BacktestResult
from marginbook.backtest.settings import BacktestSettings, kernel_config
from marginbook.backtest.strategies import Signals


def run_backtest(bars: Bars, signals: Signals, settings: BacktestSettings,
                 strategy: dict[str, Any] | None = None) -> BacktestResult:
    """Drive positions through the venue's margin rules over ``bars`` as ``signals`` ask.

    Raises:
        InputError: for settings the venue does not allow.
        ValueError: when the signals do not have one value per bar.
    """
    from marginbook.backtest.kernel import run_bars

    n = len(bars)
    if len(signals.entries) != n:
        raise ValueError(f"{len(signals.entries)} signals for {n} bars")
    cfg, floors, mmrs, caps = kernel_config(settings)
    # A row per entry signal covers every trade; partial liquidations (tiered venues) add a row
    # each, so a few spare rows are kept, plus the kernel's scratch row.
    capacity = int(np.count_nonzero(signals.entries)) + 16
    call_capacity = capacity
    while True:
        equity = np.empty(n)
        liquidation = np.empty(n)
        trades = np.zeros((capacity + 1, L.TR_SIZE))
        calls = np.zeros((call_capacity, L.MC_SIZE))
        started = time.perf_counter()
        totals = run_bars(bars.timestamps, bars.open, bars.high, bars.low, bars.close, signals.entries,
                          signals.exit_long, signals.exit_short, cfg, floors, mmrs, caps, equity, liquidation,
                          trades, calls)
        elapsed = time.perf_counter() - started
        seen, rows = int(totals[L.TOT_CALLS_SEEN]), int(totals[L.TOT_TRADES])
        if seen <= call_capacity and rows <= capacity:
            break
        # More margin calls than positions (a position called, recovered, called again), or more
        # partial liquidations than spare rows: rare, so the run is repeated with room for all of
        # them rather than reserving a row per bar.
        call_capacity, capacity = max(seen, call_capacity), max(rows, capacity)
    n_trades, n_calls = int(totals[L.TOT_TRADES]), int(totals[L.TOT_CALLS])
    return BacktestResult(
        settings=settings, bars=bars, equity=equity, liquidation_prices=liquidation,
        trade_rows=trades[:n_trades].copy(), call_rows=calls[:n_calls].copy(),
        fees_paid=float(totals[L.TOT_FEES]),
        interest_paid=float(totals[L.TOT_INTEREST]), funding=float(totals[L.TOT_FUNDING]),
        skipped_entries=int(totals[L.TOT_SKIPPED_ENTRIES]), elapsed_s=elapsed, strategy=strategy or {},
    )
