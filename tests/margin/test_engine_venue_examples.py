"""The venues' own examples, played through the event-driven engine (not just the formulas)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.events import EventKind
from marginbook.margin import venues
from marginbook.margin.paper import replay

from .helpers import START, bars, config, orders

NO_FEES = {"maker_fee": 0.0, "taker_fee": 0.0}


def test_bybit_long_50x_is_liquidated_at_19700_and_loses_exactly_its_margin(tmp_path: Path) -> None:
    venue = venues.BYBIT_LINEAR.with_overrides(**NO_FEES)
    order_list = orders(
        tmp_path, "timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,buy,market,1,50"
    )
    price_bars = bars(
        [(20_000, 20_100, 19_750, 19_800), (19_800, 19_900, 19_650, 19_680), (19_680, 19_700, 19_000, 19_100)]
    )
    _engine, result = replay(config(venue, deposit="1000"), price_bars, order_list)
    assert len(result.liquidations) == 1
    liquidation = result.liquidations[0]
    assert liquidation["time"] == price_bars.times[1]  # not the first bar (low 19,750 > 19,700)
    assert liquidation["price"] == Decimal("19700")
    assert liquidation["fee"] == Decimal("100")  # the remaining margin (MM) goes to the venue
    pnl = [e.amount for e in result.events if e.kind is EventKind.REALIZED_PNL]
    assert pnl == [Decimal("-300")]
    assert result.final_cash == Decimal("600")  # 1,000 − the 400 margin, nothing more


def test_kraken_long_gets_its_margin_call_at_13200_then_liquidation_at_40_percent(tmp_path: Path) -> None:
    venue = venues.KRAKEN_MARGIN.with_overrides(**NO_FEES, opening_fee_rate=0.0, interest_rate=0.0)
    order_list = orders(
        tmp_path, "timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,buy,market,1,5"
    )
    price_bars = bars(
        [
            (20_000, 20_000, 15_000, 15_000),
            (15_000, 15_000, 13_300, 13_500),
            (13_500, 13_500, 13_000, 13_100),
            (13_100, 13_100, 11_700, 11_800),
            (11_800, 11_800, 11_000, 11_200),
        ]
    )
    # Kraken margin is account-wide (the trade balance backs every position): cross mode.
    _engine, result = replay(
        config(venue, mode="cross", deposit="10000", quote="USD"), price_bars, order_list
    )
    assert [c["time"] for c in result.margin_calls] == [price_bars.times[2]]
    assert result.margin_calls[0]["price"] == Decimal("13200")
    # liquidation level 40 %: (10,000 + P − 20,000) / 4,000 = 0.4 → P = 11,600
    assert [(liq["time"], liq["price"]) for liq in result.liquidations] == [
        (price_bars.times[4], Decimal("11600"))
    ]


def test_kraken_short_at_65200_shows_equity_1960_and_margin_level_75_percent(tmp_path: Path) -> None:
    venue = venues.KRAKEN_MARGIN.with_overrides(**NO_FEES, opening_fee_rate=0.0, interest_rate=0.0, extra={})
    order_list = orders(
        tmp_path, "timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,sell,market,0.2,5"
    )
    price_bars = bars([(50_000, 52_000, 49_000, 51_000), (51_000, 65_200, 51_000, 65_200)])
    engine, result = replay(
        config(venue, mode="cross", deposit="5000", quote="USD"), price_bars, order_list, record=True
    )
    last = engine.snapshots[-1]
    assert last.equity == pytest.approx(1_960.0)
    position = engine.account.positions["main"]
    from marginbook.margin import rules

    used = rules.kraken_used_margin(position.side, position.quantity, position.entry_price, 65_200.0, 5.0)
    assert used == pytest.approx(2_608.0)
    assert round(rules.margin_level(last.equity, used) * 100) == 75
    assert len(result.margin_calls) == 1  # below the 80 % call level
    assert result.liquidations == []


def test_binance_margin_interest_for_1320_to_1415_is_two_hours(tmp_path: Path) -> None:
    # Borrow exactly 1,000 USDC: buy 1 BTC at 2,000 with 2x leverage; 0.001 %/h.
    venue = venues.BINANCE_MARGIN.with_overrides(**NO_FEES, interest_rate=0.00001, interest_rate_period=3600)
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,leverage
2025-03-01T13:20:00Z,buy,market,1,2
2025-03-01T14:15:00Z,sell,market,1,""",
    )
    start = START.replace(hour=13, minute=20)
    price_bars = bars([(2_000, 2_000, 2_000, 2_000)] * 12, start=start, step_hours=5 / 60)
    _, result = replay(config(venue, deposit="5000", quote="USDC"), price_bars, order_list)
    kinds = [(e.kind, e.asset, e.amount) for e in result.events]
    assert (EventKind.BORROW, "USDC", Decimal("1000")) in kinds
    assert (EventKind.REPAY, "USDC", Decimal("1000")) in kinds
    assert (EventKind.INTEREST, "USDC", Decimal("0.02")) in kinds
    assert result.interest_paid == Decimal("0.02")
    assert result.final_cash == Decimal("4999.98")
