"""Accounting invariants of the kernel, over random bars, signals and settings (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.backtest.data import bars_from_arrays
from marginbook.backtest.engine import run_backtest
from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.strategies import Signals


def _scenario(seed: int, n: int) -> tuple[object, Signals]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.005, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, 0.01, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, 0.01, n)))
    bars = bars_from_arrays(1_700_000_000 + 3600 * np.arange(n), open_, high, low, close)
    draw = rng.random(n)
    entries = np.where(draw < 0.06, 1, np.where(draw < 0.12, -1, 0))
    return bars, Signals.from_arrays(entries, rng.random(n) < 0.04, rng.random(n) < 0.04)


SETTINGS = st.builds(
    BacktestSettings,
    venue=st.sampled_from(["generic", "binance-usdm", "binance-margin", "kraken-margin", "okx-swap"]),
    leverage=st.sampled_from([1.0, 2.0, 3.0]),
    mode=st.sampled_from(["isolated", "cross"]),
    cash=st.just(1_000.0),
    size_fraction=st.sampled_from([0.25, 0.5, 1.0]),
    stop_loss=st.none() | st.floats(0.01, 0.2),
    take_profit=st.none() | st.floats(0.01, 0.3),
    trailing_stop=st.none() | st.floats(0.01, 0.2),
)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(20, 200), run_settings=SETTINGS)
def test_final_equity_is_cash_plus_every_trades_net_result(seed: int, n: int, run_settings: BacktestSettings) -> None:
    bars, signals = _scenario(seed, n)
    result = run_backtest(bars, signals, run_settings)  # type: ignore[arg-type]
    # Nothing is created or lost between the trades: their net results add up to the equity change.
    total = sum(t.pnl for t in result.trades)
    assert result.final_equity - run_settings.cash == pytest.approx(total, abs=1e-6 * run_settings.cash)
    # Fees are what the trades paid; equity is flat whenever no position is open.
    assert result.fees_paid == pytest.approx(sum(t.entry_fee + t.exit_fee for t in result.trades), abs=1e-9)
    open_bars = np.zeros(len(bars), bool)
    for t in result.trades:
        open_bars[t.entry_bar : t.exit_bar + (1 if t.is_open else 0)] = True
    flat = ~open_bars
    assert np.isnan(result.liquidation_prices[flat]).all()
    # Trades never overlap: one position at a time.
    for before, after in zip(result.trades, result.trades[1:], strict=False):
        assert after.entry_bar >= before.exit_bar


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), leverage=st.sampled_from([5.0, 10.0, 25.0, 50.0]))
def test_an_isolated_position_never_loses_more_than_its_margin_and_fees(seed: int, leverage: float) -> None:
    bars, signals = _scenario(seed, 150)
    result = run_backtest(bars, signals, BacktestSettings(venue="binance-usdm", leverage=leverage,
                                                          cash=1_000.0, size_fraction=0.5))  # type: ignore[arg-type]
    # A position is its trade plus the trades that continue it after partial liquidations
    # (Binance's tiers): together they never lose more than the margin at entry and the fees,
    # and a position liquidated in the end loses exactly its margin, its fees aside.
    for parts in result.positions():
        margin, entry_fee = parts[0].margin, parts[0].entry_fee
        pnl = sum(t.pnl for t in parts)
        partial_fees = sum(t.exit_fee for t in parts[:-1])
        assert pnl >= -(margin + entry_fee + partial_fees + parts[-1].exit_fee) - 1e-9
        if parts[-1].exit_reason == "liquidation":
            funding = sum(t.funding for t in parts)
            assert pnl == pytest.approx(-(margin + entry_fee) + funding, abs=1e-9)
    assert result.final_equity >= 0.0
