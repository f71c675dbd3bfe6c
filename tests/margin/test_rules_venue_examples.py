"""The venues' own published examples, reproduced exactly by the rule functions."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from marginbook.margin import rules
from marginbook.margin.rules import LONG, SHORT


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def test_bybit_long_50x_liquidates_at_19700() -> None:
    # Bybit, "Liquidation Price (USDT Contract)": long 1 BTC at 20,000, 50x, MMR 0.5 %.
    assert rules.initial_margin(20_000.0, 50.0) == pytest.approx(400.0)
    assert rules.maintenance_margin(20_000.0, 0.005, 0.0) == pytest.approx(100.0)
    assert rules.bybit_liquidation_price(LONG, 20_000.0, 1.0, 50.0, 0.005, 0.0, 0.0) == pytest.approx(
        19_700.0
    )


def test_bybit_extra_margin_and_short_mirror() -> None:
    # Adding 100 USDT of extra margin to that long moves the price down by 100 per BTC.
    assert rules.bybit_liquidation_price(LONG, 20_000.0, 1.0, 50.0, 0.005, 0.0, 100.0) == pytest.approx(
        19_600.0
    )
    assert rules.bybit_liquidation_price(SHORT, 20_000.0, 1.0, 50.0, 0.005, 0.0, 0.0) == pytest.approx(
        20_300.0
    )
    # A maintenance deduction lowers MM and so widens the distance.
    assert rules.bybit_liquidation_price(LONG, 20_000.0, 1.0, 50.0, 0.005, 50.0, 0.0) == pytest.approx(
        19_650.0
    )


def test_kraken_long_margin_call_at_13200() -> None:
    # Kraken: long 1 BTC at 20,000, 5:1, trade balance 10,000 → used margin 4,000; call (80 %) at 13,200.
    assert rules.kraken_used_margin(LONG, 1.0, 20_000.0, 13_200.0, 5.0) == pytest.approx(4_000.0)
    price = rules.kraken_margin_level_price(LONG, 1.0, 20_000.0, 5.0, 10_000.0, 0.0, 0.0, 0.80)
    assert price == pytest.approx(13_200.0)
    equity = 10_000.0 + rules.unrealized_pnl(LONG, 1.0, 20_000.0, price)
    assert rules.margin_level(equity, 4_000.0) == pytest.approx(0.80)


def test_kraken_short_at_65200_has_margin_level_75_percent() -> None:
    # Kraken: short 0.2 BTC at 50,000 on a 5,000 account; price 65,200 → equity 1,960,
    # used margin 2,608, margin level 75 %.
    equity = 5_000.0 + rules.unrealized_pnl(SHORT, 0.2, 50_000.0, 65_200.0)
    used = rules.kraken_used_margin(SHORT, 0.2, 50_000.0, 65_200.0, 5.0)
    assert equity == pytest.approx(1_960.0)
    assert used == pytest.approx(2_608.0)
    assert round(rules.margin_level(equity, used) * 100) == 75
    # and the price where the level is exactly 75 % is just above 65,200
    exact = rules.kraken_margin_level_price(SHORT, 0.2, 50_000.0, 5.0, 5_000.0, 0.0, 0.0, 0.75)
    assert 65_200.0 < exact < 65_250.0
    level_there = (5_000.0 + rules.unrealized_pnl(SHORT, 0.2, 50_000.0, exact)) / rules.kraken_used_margin(
        SHORT, 0.2, 50_000.0, exact, 5.0
    )
    assert level_there == pytest.approx(0.75)


def test_binance_interest_1000_usdc_1320_to_1415_is_two_hours() -> None:
    # Binance margin: 1,000 USDC at 0.001 %/h, borrowed 13:20, repaid 14:15 → 2 hours → 0.02 USDC.
    start, end = epoch("2025-03-01T13:20:00"), epoch("2025-03-01T14:15:00")
    hours = rules.binance_hours_charged(start, end)
    assert hours == 2
    assert rules.simple_interest(1_000.0, 0.00001, hours) == pytest.approx(0.02)
    assert rules.charge_time(start, rules.HOUR, True, True, 0) == start
    assert rules.charge_time(start, rules.HOUR, True, True, 1) == epoch("2025-03-01T14:00:00")


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("13:20:00", "13:20:00", 1),  # repaid at once: the first hour is still charged
        ("13:20:00", "13:59:59", 1),
        ("13:20:00", "14:00:00", 1),  # repaid at the boundary: no longer open there
        ("13:20:00", "14:00:01", 2),
        ("13:00:00", "14:00:00", 1),  # borrowed on the hour: that hour is the opening charge
        ("13:00:00", "16:30:00", 4),
    ],
)
def test_binance_clock_hour_boundaries(start: str, end: str, hours: int) -> None:
    assert rules.binance_hours_charged(epoch(f"2025-03-01T{start}"), epoch(f"2025-03-01T{end}")) == hours


@pytest.mark.parametrize(
    ("hours_open", "rollovers"), [(0, 0), (3.99, 0), (4, 0), (4.01, 1), (8.5, 2), (24, 5)]
)
def test_kraken_rollover_every_4_hours_after_opening(hours_open: float, rollovers: int) -> None:
    start = epoch("2025-03-01T13:20:00")
    assert rules.kraken_rollovers(start, start + round(hours_open * 3600)) == rollovers


def test_kraken_opening_and_rollover_fee_amounts() -> None:
    # 0.02 % opening + 0.02 % per 4 h on 10,000 USD lent, open 9 hours → 1 opening + 2 rollovers.
    start = epoch("2025-03-01T00:00:00")
    fees = rules.kraken_margin_fees(10_000.0, 0.0002, 0.0002, start, start + 9 * 3600)
    assert fees == pytest.approx(6.0)


def test_rate_per_charge_converts_daily_to_hourly() -> None:
    assert rules.rate_per_charge(0.00024, rules.DAY, rules.HOUR) == pytest.approx(0.00001)


# Binance BTCUSDT brackets (notional floor, MMR); maintenance amounts derived from them.
FLOORS = [0.0, 50_000.0, 250_000.0, 3_000_000.0, 15_000_000.0]
MMRS = [0.004, 0.005, 0.01, 0.025, 0.05]


def test_tier_amounts_follow_the_cumulative_formula() -> None:
    assert [rules.tier_maintenance_amount(t, FLOORS, MMRS) for t in range(5)] == pytest.approx(
        [0.0, 50.0, 1_300.0, 46_300.0, 421_300.0]
    )
    assert rules.tier_index(50_000.0, FLOORS) == 0  # a bracket includes its upper bound
    assert rules.tier_index(50_000.01, FLOORS) == 1
    assert rules.tier_index(1e12, FLOORS) == 4


def test_binance_isolated_long_matches_hand_formula() -> None:
    # Isolated long 1 BTC at 20,000 with 400 margin (50x), tier 1 (MMR 0.4 %, cum 0):
    # LP = (400 + 0 − 20,000) / (0.004 − 1) = 19,678.71...
    price = rules.binance_usdm_liquidation_price(LONG, 1.0, 20_000.0, 400.0, 0.0, 0.0, 0.004, 0.0)
    assert price == pytest.approx(19_600.0 / 0.996)
    # at that price the margin balance equals the maintenance margin
    balance = 400.0 + rules.unrealized_pnl(LONG, 1.0, 20_000.0, price)
    assert balance == pytest.approx(rules.maintenance_margin(price, 0.004, 0.0))


def test_binance_tier_at_liquidation_price_governs() -> None:
    # Short 5 BTC at 40,000 (200,000 notional, tier 2) with 100,000 margin: the first answer
    # lies above 50,000 → notional above 250,000 → tier 3 applies, and the answer must lie in it.
    price = rules.binance_usdm_liquidation_price_tiered(
        SHORT, 5.0, 40_000.0, 100_000.0, 0.0, 0.0, FLOORS, MMRS
    )
    tier = rules.tier_index(5.0 * price, FLOORS)
    assert tier == 2
    mm = rules.maintenance_margin(5.0 * price, MMRS[tier], rules.tier_maintenance_amount(tier, FLOORS, MMRS))
    assert 100_000.0 + rules.unrealized_pnl(SHORT, 5.0, 40_000.0, price) == pytest.approx(mm)
    entry_tier_only = rules.binance_usdm_liquidation_price(
        SHORT, 5.0, 40_000.0, 100_000.0, 0.0, 0.0, 0.005, 50.0
    )
    assert entry_tier_only != pytest.approx(price)


def test_cross_liquidation_price_moves_with_other_positions_pnl() -> None:
    base = rules.binance_usdm_liquidation_price(LONG, 1.0, 20_000.0, 5_000.0, 100.0, 0.0, 0.004, 0.0)
    gaining = rules.binance_usdm_liquidation_price(LONG, 1.0, 20_000.0, 5_000.0, 100.0, 1_000.0, 0.004, 0.0)
    losing = rules.binance_usdm_liquidation_price(LONG, 1.0, 20_000.0, 5_000.0, 100.0, -1_000.0, 0.004, 0.0)
    assert losing > base > gaining


def test_margin_call_price_sits_between_entry_and_liquidation() -> None:
    lp = rules.margin_ratio_price(LONG, 1.0, 20_000.0, 1_000.0, 0.0, 0.0, 0.004, 0.0, 1.0)
    call = rules.margin_ratio_price(LONG, 1.0, 20_000.0, 1_000.0, 0.0, 0.0, 0.004, 0.0, 0.8)
    assert lp < call < 20_000.0
    balance = 1_000.0 + rules.unrealized_pnl(LONG, 1.0, 20_000.0, call)
    assert rules.maintenance_margin(call, 0.004, 0.0) / balance == pytest.approx(0.8)


def test_okx_isolated_formula() -> None:
    # long 1 BTC at 20,000 with 2,000 margin, MMR 0.4 %, taker 0.05 %: (20,000 − 2,000) / (1 − 0.0045)
    assert rules.okx_isolated_liquidation_price(LONG, 20_000.0, 1.0, 2_000.0, 0.004, 0.0005) == pytest.approx(
        18_000.0 / 0.9955
    )
    assert rules.okx_isolated_liquidation_price(
        SHORT, 20_000.0, 1.0, 2_000.0, 0.004, 0.0005
    ) == pytest.approx(22_000.0 / 1.0045)


def test_bankruptcy_price_is_where_collateral_is_gone() -> None:
    assert rules.bankruptcy_price(LONG, 20_000.0, 1.0, 400.0) == pytest.approx(19_600.0)
    assert rules.bankruptcy_price(SHORT, 20_000.0, 2.0, 400.0) == pytest.approx(20_200.0)
    assert rules.bankruptcy_price(LONG, 20_000.0, 1.0, 30_000.0) == 0.0


def test_binance_spot_margin_level_prices() -> None:
    # Long: hold 1 BTC bought with 10,000 own + 10,000 borrowed USDC; liquidation at ML 1.1.
    price = rules.spot_margin_level_price(1.0, 0.0, 0.0, 10_000.0, 1.1)
    assert price == pytest.approx(11_000.0)
    # Short: borrowed 1 BTC, sold it for 20,000, plus 5,000 own USDC; ML = 25,000 / P = 1.1.
    price = rules.spot_margin_level_price(0.0, 25_000.0, 1.0, 0.0, 1.1)
    assert price == pytest.approx(25_000.0 / 1.1)
    assert rules.margin_level(25_000.0, 1.0 * price) == pytest.approx(1.1)
    assert math.isnan(rules.spot_margin_level_price(1.0, 50_000.0, 0.0, 10_000.0, 1.1))


def test_funding_longs_pay_shorts_receive_on_positive_rate() -> None:
    assert rules.funding_payment(LONG, 2.0, 30_000.0, 0.0001) == pytest.approx(-6.0)
    assert rules.funding_payment(SHORT, 2.0, 30_000.0, 0.0001) == pytest.approx(6.0)
    assert rules.funding_payment(LONG, 2.0, 30_000.0, -0.0001) == pytest.approx(6.0)


def test_aggregate_prices_reduce_to_the_single_position_formulas() -> None:
    single = rules.margin_ratio_price(LONG, 1.0, 20_000.0, 1_000.0, 0.0, 0.0, 0.004, 0.0, 1.0)
    aggregate = rules.aggregate_margin_ratio_price(1.0, 20_000.0, 0.004, 0.0, 1_000.0, 1.0)
    assert aggregate == pytest.approx(single)
    short = rules.margin_ratio_price(SHORT, 2.0, 20_000.0, 1_000.0, 0.0, 0.0, 0.005, 50.0, 0.8)
    assert rules.aggregate_margin_ratio_price(-2.0, -40_000.0, 0.01, 50.0, 1_000.0, 0.8) == pytest.approx(
        short
    )
    # Kraken: the 13,200 example again, through the aggregate form
    assert rules.kraken_aggregate_level_price(1.0, 20_000.0, 4_000.0, 0.0, 10_000.0, 0.8) == pytest.approx(
        13_200.0
    )
    kraken_short = rules.kraken_margin_level_price(SHORT, 0.2, 50_000.0, 5.0, 5_000.0, 0.0, 0.0, 0.75)
    assert rules.kraken_aggregate_level_price(-0.2, -10_000.0, 0.0, 0.04, 5_000.0, 0.75) == pytest.approx(
        kraken_short
    )


def test_cross_account_with_a_hedge_moves_the_liquidation_price() -> None:
    # Long 1 BTC at 20,000 alone vs. with a 0.5 BTC short from 22,000 beside it (cross).
    alone = rules.aggregate_margin_ratio_price(1.0, 20_000.0, 0.004, 0.0, 2_000.0, 1.0)
    hedged = rules.aggregate_margin_ratio_price(0.5, 20_000.0 - 11_000.0, 0.006, 0.0, 2_000.0, 1.0)
    assert hedged < alone  # the short's gains on the way down hold the long up
