"""The kernel refuses an entry above its tier's leverage cap, as the paper engine rejects the order.

Binance USDⓈ-M caps leverage by notional bracket (BTCUSDT: 125x up to 50,000 USDT, 100x up to
250,000, 50x up to 1,000,000, 20x up to 10,000,000 ...). Both engines read the cap through the
one rule ``rules.tier_leverage_cap``.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from marginbook.backtest.engine import run_backtest
from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.strategies import Signals
from marginbook.margin import rules
from marginbook.margin.orders import Order
from marginbook.margin.venues import BINANCE_USDM, tier_max_leverage

from .helpers import make_bars
from .test_agreement_with_paper import Scenario, replay_paper

ROWS = [(100.0, 100.5, 99.5, 100.0)] * 6


def _entry_order(scenario: Scenario, quantity: float, leverage: float) -> Order:
    bars = scenario.bars
    return Order(row=2, at=bars.time_of(1), epoch=int(bars.timestamps[1]), side=1, type="market",
                 quantity=Decimal(repr(quantity)), position="p0", leverage=leverage)


def test_the_tier_caps_are_the_published_brackets() -> None:
    floors = np.asarray(BINANCE_USDM.tier_floors)
    caps = np.asarray(BINANCE_USDM.tier_max_leverage)
    assert rules.tier_leverage_cap(50_000.0, floors, caps, 125.0) == 125.0  # a bracket includes its bound
    assert rules.tier_leverage_cap(50_000.01, floors, caps, 125.0) == 100.0
    assert rules.tier_leverage_cap(300_000.0, floors, caps, 125.0) == 50.0
    assert rules.tier_leverage_cap(2_000_000.0, floors, caps, 125.0) == 20.0
    assert tier_max_leverage(BINANCE_USDM, 300_000.0) == 50.0


@pytest.mark.parametrize(("leverage", "quantity", "refused"), [
    (75.0, 3_000.0, True),    # 300,000 USDT notional: the 50x bracket
    (50.0, 3_000.0, False),
    (75.0, 400.0, False),     # 40,000 USDT: the 125x bracket
    (25.0, 12_000.0, True),   # 1,200,000 USDT: the 20x bracket
])
def test_an_entry_above_its_tiers_cap_is_refused_by_both_engines(leverage: float, quantity: float,
                                                                  refused: bool) -> None:
    bars = make_bars(ROWS)
    signals = Signals.from_arrays([1, 0, 0, 0, 0, 0])
    settings = BacktestSettings(venue="binance-usdm", leverage=leverage, cash=100_000.0, size_units=quantity)
    scenario = Scenario(bars, signals, settings)
    result = run_backtest(bars, signals, settings)
    engine, outcome = replay_paper(scenario, result, [_entry_order(scenario, quantity, leverage)])
    cap = tier_max_leverage(BINANCE_USDM, quantity * 100.0)
    if refused:
        assert result.trades == () and result.skipped_entries == 1
        assert [r["reason"] for r in outcome.rejected] == [
            f"leverage {leverage:g} above the venue's cap {cap:g} for this size"]
        assert outcome.trades == []
    else:
        assert len(result.trades) == 1 and result.skipped_entries == 0
        assert outcome.rejected == [] and len(outcome.trades) == 1
    assert engine.account.equity(engine.last_price) == pytest.approx(result.final_equity, rel=1e-9)
