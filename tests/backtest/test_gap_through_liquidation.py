"""A liquidation at a gapped open precedes the order due at that open (kernel and paper engine).

The venue's liquidation engine acts before the trader's order: when a bar opens beyond an
isolated position's liquidation price, the position is liquidated at the open, a signal exit
due at that open finds nothing to close, and a reversal entry due there opens on what is left.
Before the fix the exit filled first, at the gapped open, and the short of the seed-1905
scenario below lost more than its margin (hypothesis found it; the invariant test was xfail).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from marginbook.backtest.engine import run_backtest
from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.strategies import Signals

from .helpers import make_bars, run
from .test_agreement_with_paper import (
    Scenario,
    assert_agree,
    kernel_fills,
    paper_fills,
    paper_orders,
    run_paper,
)
from .test_invariants import _scenario

SEED_1905 = BacktestSettings(venue="binance-usdm", leverage=25.0, cash=1_000.0, size_fraction=0.5)


def test_seed_1905_short_is_liquidated_at_the_gapped_open_not_exited_by_its_signal() -> None:
    bars, signals = _scenario(1905, 150)
    # The short opened at bar 82; its exit signal came at that bar's close, so the exit is due
    # at bar 83's open, which has gapped above the short's liquidation price.
    assert bool(signals.exit_short[82])
    result = run_backtest(bars, signals, SEED_1905)  # type: ignore[arg-type]
    short = next(t for t in result.trades if t.entry_bar == 82)
    assert (short.side, short.exit_bar, short.exit_reason) == ("short", 83, "liquidation")
    assert bars.open[83] == pytest.approx(88.00848772125299, rel=1e-12)  # type: ignore[attr-defined]
    assert short.liquidation_price == pytest.approx(87.17149131552505, rel=1e-9)
    assert bars.open[83] >= short.liquidation_price  # type: ignore[attr-defined]
    # It closes at the open (the gap) and loses exactly its margin and entry fee: Binance
    # USDⓈ-M's liquidation fee is the margin left, so nothing more can go.
    assert short.exit_price == pytest.approx(bars.open[83], rel=1e-12)  # type: ignore[attr-defined]
    assert short.pnl == pytest.approx(-(short.margin + short.entry_fee), abs=1e-9)
    assert short.pnl == pytest.approx(-29.242767135296877, rel=1e-9)
    assert [t.exit_bar for t in result.liquidations].count(83) == 1
    for trade in result.trades:
        assert trade.pnl >= -(trade.margin + trade.entry_fee + trade.exit_fee) - 1e-9


def test_seed_1905_paper_engine_drops_the_buy_to_close_and_agrees_with_the_kernel() -> None:
    bars, signals = _scenario(1905, 150)
    scenario = Scenario(bars, signals, SEED_1905)  # type: ignore[arg-type]
    # The trader had placed the buy-to-close the exit signal asked for, due at bar 83's open.
    # The engine liquidates first, cancels that order, and opens no long by accident: the
    # fills stay the kernel's. (Sized by a fraction of equity, the kernel's quantities carry
    # more digits than an order's 8 decimals, hence the looser price and quantity check.)
    result = run_backtest(bars, signals, SEED_1905)  # type: ignore[arg-type]
    index = next(i for i, t in enumerate(result.trades) if t.entry_bar == 82)
    orders = paper_orders(result)
    entry = next(o for o in orders if o.position == f"p{index}" and o.type == "market")
    buy_to_close = replace(entry, side=1, at=bars.time_of(83), epoch=int(bars.timestamps[83]),  # type: ignore[attr-defined]
                           row=len(orders) + 2)
    with_exit = sorted([*orders, buy_to_close], key=lambda o: o.epoch)
    outcome = run_paper(scenario, result, with_exit)
    assert buy_to_close.status == "cancelled"
    assert "liquidated" in buy_to_close.note
    assert not outcome.rejected
    ours, theirs = kernel_fills(result), paper_fills(outcome)
    assert [(t, s) for t, s, _, _ in ours] == [(t, s) for t, s, _, _ in theirs]
    for (_, _, price, quantity), (_, _, paper_price, paper_quantity) in zip(ours, theirs, strict=True):
        assert price == pytest.approx(float(paper_price), rel=1e-6)
        assert quantity == pytest.approx(float(paper_quantity), abs=1e-8)
    assert [t.exit_time for t in result.liquidations] == [r["time"] for r in outcome.liquidations]
    assert bars.time_of(83) in [r["time"] for r in outcome.liquidations]  # type: ignore[attr-defined]


def test_a_reversal_due_at_a_gapped_open_opens_after_the_liquidation() -> None:
    """The short is liquidated at the open first; the long decided at the previous close then opens there."""
    rows = [(100.0, 100.0, 100.0, 100.0), (100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0),
            (120.0, 122.0, 119.0, 121.0), (121.0, 123.0, 120.0, 122.0)]
    result = run(rows, [-1, 0, 1, 0, 0], venue="binance-usdm", leverage=10.0, cash=1_000.0, size_units=1.0)
    short, long = result.trades
    assert short.liquidation_price < 120.0
    assert (short.exit_bar, short.exit_reason, short.exit_price) == (3, "liquidation", 120.0)
    assert short.pnl == pytest.approx(-(short.margin + short.entry_fee), abs=1e-9)
    assert (long.side, long.entry_bar, long.entry_price) == ("long", 3, 120.0)
    # The long is paid for from what the liquidation left: 1,000 less the short's margin and fee.
    assert result.final_equity == pytest.approx(1_000.0 + short.pnl + long.pnl, abs=1e-9)
    bars = make_bars(rows)
    signals = Signals.from_arrays([-1, 0, 1, 0, 0], None, None)
    assert_agree(Scenario(bars, signals, BacktestSettings(venue="binance-usdm", leverage=10.0, cash=1_000.0,
                                                          size_units=1.0)))
