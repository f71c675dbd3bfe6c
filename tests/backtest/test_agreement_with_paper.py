"""The numba kernel and the event-driven paper engine agree, scenario after random scenario.

Both implement the same venue rules (they call the same functions of
:mod:`marginbook.margin.rules`) but are written independently: a bar loop over arrays in
floats, and an order-driven engine that books exact-decimal ledger events. Each scenario
runs a random strategy through the kernel, turns the kernel's positions into the orders a
trader would have placed (a market entry with its stop, take-profit and trailing stop; a
market exit when the strategy left by signal) and replays them through the paper engine.
Stops, take-profits, trailing stops, liquidations, fees, interest and funding are decided
by each engine on its own; the fills, the liquidations, the margin calls and the final
equity must agree at relative 1e-9, with no allowance for rounding: the engine keeps its
state in the kernel's floats and rounds only the amounts of its ledger events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marginbook.backtest.data import Bars, bars_from_arrays
from marginbook.backtest.engine import run_backtest
from marginbook.backtest.results import BacktestResult
from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.strategies import Signals
from marginbook.margin.broker.engine import Engine, RunConfig
from marginbook.margin.ledger import QUANTUM, to_decimal
from marginbook.margin.orders import Order
from marginbook.margin.paper import RunResult, replay
from marginbook.margin.prices import Bars as PaperBars
from marginbook.margin.venues import profile

START = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())

#: Venue, the leverages tried there.
VENUES: dict[str, tuple[float, ...]] = {
    "generic": (1.0, 3.0, 10.0),
    "binance-usdm": (1.0, 5.0, 20.0, 50.0),
    "bybit-linear": (2.0, 10.0, 25.0),
    "okx-swap": (3.0, 10.0, 30.0),
    "binance-margin": (1.0, 2.0, 3.0),
    "kraken-margin": (1.0, 2.0, 5.0),
}


@dataclass(frozen=True)
class Scenario:
    bars: Bars
    signals: Signals
    settings: BacktestSettings


#: Tiered venues, with sizes whose notional (prices start at 100) reaches past their first
#: tiers, the leverages tried and the cash: Binance USDⓈ-M 50,000 / 250,000 USDT, Bybit
#: 2,000,000 / 4,000,000 / 6,000,000 USDT brackets.
TIERED: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    "binance-usdm": ((600.0, 1_500.0, 3_000.0), (5.0, 20.0, 50.0), (20_000.0, 80_000.0)),
    "bybit-linear": ((25_000.0, 45_000.0, 70_000.0), (10.0, 25.0), (400_000.0, 1_000_000.0)),
}


def make_scenario(seed: int, venue: str, mode: str, tiered: bool = False) -> Scenario:
    """Random bars (each opening at the previous close, with occasional shocks) and signals.

    ``tiered``: positions large enough to sit above the venue's first maintenance tier, so
    that the venue's partial liquidation and its leverage caps come into play.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 160))
    volatility = float(rng.uniform(0.003, 0.03))
    returns = rng.normal(0.0, volatility, n)
    shocks = rng.random(n) < 0.03
    returns[shocks] += rng.normal(0.0, 0.12, int(shocks.sum()))
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, volatility, n)))
    low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, volatility, n)))
    step = int(rng.choice([900, 3600, 4 * 3600]))
    bars = bars_from_arrays(START + step * np.arange(n), open_, high, low, close, source="scenario")
    draw = rng.random(n)
    entries = np.where(draw < 0.05, 1, np.where(draw < 0.10, -1, 0)).astype(np.int8)
    signals = Signals.from_arrays(entries, rng.random(n) < 0.05, rng.random(n) < 0.05)

    def maybe(low_: float, high_: float) -> float | None:
        return float(rng.uniform(low_, high_)) if rng.random() < 0.5 else None

    if tiered:
        sizes, leverages, cashes = TIERED[venue]
    else:
        sizes, leverages, cashes = (0.5, 1.0, 2.0, 4.0), VENUES[venue], (1_000.0, 120.0, 40.0, 15.0)
    run_settings = BacktestSettings(
        venue=venue, mode=mode,  # type: ignore[arg-type]
        leverage=float(rng.choice(leverages)), cash=float(rng.choice(cashes)),
        size_units=float(rng.choice(sizes)),
        stop_loss=maybe(0.01, 0.1), take_profit=maybe(0.01, 0.2), trailing_stop=maybe(0.01, 0.1),
        funding_rate=float(rng.choice([0.0, 0.0001, -0.0003])) if profile(venue).perpetual else 0.0,
    )
    return Scenario(bars, signals, run_settings)


def paper_orders(result: BacktestResult) -> list[Order]:
    """The orders a trader would have placed to trade the kernel's positions."""
    bars, settings = result.bars, result.settings
    orders: list[Order] = []

    def add(at_bar: int, side: int, kind: str, quantity: Decimal, name: str, **levels: float) -> None:
        epoch = int(bars.timestamps[at_bar])
        orders.append(Order(row=len(orders) + 2, at=bars.time_of(at_bar), epoch=epoch, side=side,
                            type=kind, quantity=quantity, position=name, leverage=settings.leverage,  # type: ignore[arg-type]
                            **levels))

    for index, parts in enumerate(result.positions()):
        trade, last = parts[0], parts[-1]
        side = 1 if trade.side == "long" else -1
        # The size the kernel opened: its setting (a partial liquidation splits it across trades).
        quantity = Decimal(repr(settings.size_units or sum(t.quantity for t in parts)))
        name = f"p{index}"
        signal_close = float(bars.close[trade.entry_bar - 1])
        add(trade.entry_bar, side, "market", quantity, name)
        if settings.stop_loss:
            add(trade.entry_bar, -side, "stop", quantity, name, stop_price=signal_close * (1 - side * settings.stop_loss))
        if settings.take_profit:
            add(trade.entry_bar, -side, "take_profit", quantity, name,
                price=signal_close * (1 + side * settings.take_profit))
        if settings.trailing_stop:
            add(trade.entry_bar, -side, "trailing_stop", quantity, name, trail=settings.trailing_stop)
        if last.exit_reason == "signal":
            # What the venue's partial liquidations left is what the trader closes.
            add(last.exit_bar, -side, "market", Decimal(repr(last.quantity)), name)
    return orders


def run_paper(scenario: Scenario, result: BacktestResult, orders: list[Order] | None = None) -> RunResult:
    """Replay ``orders`` (by default :func:`paper_orders` of ``result``) through the paper engine."""
    return replay_paper(scenario, result, orders)[1]


def replay_paper(
    scenario: Scenario, result: BacktestResult, orders: list[Order] | None = None
) -> tuple[Engine, RunResult]:
    """:func:`run_paper`, with the engine itself (its float state) as well."""
    settings = scenario.settings
    bars = scenario.bars
    config = RunConfig(
        venue=profile(settings.venue), mode=settings.mode, base="BTC", quote="USDT",
        deposit=Decimal(repr(settings.cash)), leverage=settings.leverage, run_id="agreement",
        wallet="paper", funding_rate=settings.funding_rate,
    )
    paper_bars = PaperBars([bars.time_of(i) for i in range(len(bars))], [int(t) for t in bars.timestamps],
                           bars.open.tolist(), bars.high.tolist(), bars.low.tolist(), bars.close.tolist())
    return replay(config, paper_bars, paper_orders(result) if orders is None else orders)


def kernel_fills(result: BacktestResult) -> list[tuple[datetime, str, float, float]]:
    fills = []
    for parts in result.positions():
        trade = parts[0]
        buy, sell = ("buy", "sell") if trade.side == "long" else ("sell", "buy")
        fills.append((trade.entry_time, buy, trade.entry_price, sum(t.quantity for t in parts)))
        fills.extend((t.exit_time, sell, t.exit_price, t.quantity) for t in parts if not t.is_open)
    return fills


def paper_fills(outcome: RunResult) -> list[tuple[datetime, str, Decimal, Decimal]]:
    return [(r["time"], r["side"], r["price"], r["quantity"]) for r in outcome.trades]


def same(kernel: float, paper: Decimal) -> bool:
    """A figure the engine reports (an exact decimal, its float rounded once to the unit 1e-8)
    is the kernel's float: at relative 1e-9, or, for a figure so small that the unit is
    coarser than that (a few units of the base asset), the kernel's float rounded to the unit.
    """
    return bool(float(paper) == pytest.approx(kernel, rel=1e-9)) or abs(paper - to_decimal(kernel)) <= QUANTUM


def assert_agree(scenario: Scenario) -> dict[str, Any]:
    result = run_backtest(scenario.bars, scenario.signals, scenario.settings)
    engine, outcome = replay_paper(scenario, result)
    assert not outcome.rejected, outcome.rejected
    ours, theirs = kernel_fills(result), paper_fills(outcome)
    assert [(t, s) for t, s, _, _ in ours] == [(t, s) for t, s, _, _ in theirs]
    for (_, _, price, quantity), (_, _, paper_price, paper_quantity) in zip(ours, theirs, strict=True):
        assert same(price, paper_price), (price, paper_price)
        assert same(quantity, paper_quantity), (quantity, paper_quantity)
    assert [t.exit_time for t in result.liquidations] == [r["time"] for r in outcome.liquidations]
    for trade, record in zip(result.liquidations, outcome.liquidations, strict=True):
        assert same(trade.exit_price, record["price"]) and same(trade.quantity, record["quantity"])
    assert [c.time for c in result.margin_calls] == [r["time"] for r in outcome.margin_calls]
    for call, record in zip(result.margin_calls, outcome.margin_calls, strict=True):
        assert same(call.price, record["price"]) and same(call.quantity, record["quantity"])
    # The engine's state is the kernel's floats (no rounding carried on): equity agrees at
    # relative 1e-9 with no allowance. (An account wiped out to nothing is compared at 1e-9
    # of its starting cash: relative to zero, float residue of the amounts that cancelled
    # would be infinite.) The decimals begin at the events: the result's exact equity and
    # cash are the engine's floats to the unit (1e-8), and the cash is what the events add
    # up to.
    paper_equity = engine.account.equity(engine.last_price)
    assert paper_equity == pytest.approx(result.final_equity, rel=1e-9, abs=1e-9 * scenario.settings.cash)
    assert abs(outcome.final_equity - to_decimal(paper_equity)) <= QUANTUM
    assert abs(outcome.final_cash - to_decimal(engine.account.cash)) <= QUANTUM
    assert outcome.final_cash == engine.sink.cash("USDT")
    assert [r["partial"] for r in outcome.liquidations] == [
        r["partial"] for r in result.to_json()["liquidations"]]
    return {"trades": result.trade_count, "liquidations": len(result.liquidations),
            "margin_calls": len(result.margin_calls),
            "partial": sum(1 for r in outcome.liquidations if r["partial"])}


@pytest.mark.parametrize("venue", sorted(VENUES))
@pytest.mark.parametrize("mode", ["isolated", "cross"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_kernel_and_paper_engine_agree(venue: str, mode: str, seed: int) -> None:
    assert_agree(make_scenario(seed, venue, mode))


@pytest.mark.parametrize("venue", sorted(TIERED))
@pytest.mark.parametrize("mode", ["isolated", "cross"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_kernel_and_paper_engine_agree_on_positions_above_the_first_tier(venue: str, mode: str, seed: int) -> None:
    """Partial liquidation by tier and the tiers' leverage caps, in both engines."""
    assert_agree(make_scenario(seed, venue, mode, tiered=True))


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_the_tiered_scenarios_exercise_partial_liquidations(mode: str) -> None:
    """The property above would be hollow if no scenario ever liquidated a position in part."""
    totals = {"trades": 0, "liquidations": 0, "margin_calls": 0, "partial": 0}
    for venue in sorted(TIERED):
        for seed in range(30):
            for key, value in assert_agree(make_scenario(seed, venue, mode, tiered=True)).items():
                totals[key] += value
    assert totals["partial"] >= 5 and totals["liquidations"] > totals["partial"], totals


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_the_random_scenarios_exercise_liquidations_and_margin_calls(mode: str) -> None:
    """The property above would be hollow if no scenario ever liquidated or called."""
    totals = {"trades": 0, "liquidations": 0, "margin_calls": 0, "partial": 0}
    for venue in ("binance-usdm", "kraken-margin", "okx-swap"):
        for seed in range(40):
            for key, value in assert_agree(make_scenario(seed, venue, mode)).items():
                totals[key] += value
    assert totals["trades"] > 600
    # A cross account is backed by its whole balance, so calls and liquidations are rarer there.
    assert totals["liquidations"] >= 3 and totals["margin_calls"] >= (3 if mode == "isolated" else 1), totals
