"""The bar loop follows the fill, fee, stop, interest and liquidation rules, worked by hand.

Each scenario is small enough to check with pencil and paper; the expected numbers are
written out from the rules in docs/backtest.md and spec/margin-rules.md, not taken from a run.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from marginbook.margin import rules
from tests.backtest.helpers import run

FLAT = (100.0, 100.0, 100.0, 100.0)


def test_signal_fills_at_next_open_and_fees_are_charged_on_both_notionals() -> None:
    bars = [FLAT, (101.0, 103.0, 100.0, 102.0), (104.0, 106.0, 103.0, 105.0), (107.0, 108.0, 106.0, 107.0)]
    result = run(bars, [1, 0, 0, 0], exit_long=[False, False, True, False], venue="generic", cash=1_000.0,
                 size_units=2.0, fee=0.001)
    (trade,) = result.trades
    assert (trade.entry_bar, trade.entry_price, trade.exit_bar, trade.exit_price) == (1, 101.0, 3, 107.0)
    assert trade.entry_fee == pytest.approx(2 * 101.0 * 0.001)
    assert trade.exit_fee == pytest.approx(2 * 107.0 * 0.001)
    assert result.final_equity == pytest.approx(1_000.0 + 2 * 6.0 - 0.202 - 0.214)
    assert trade.pnl == pytest.approx(result.final_equity - 1_000.0)
    # Equity is marked at each close while the position is open.
    assert result.equity[1] == pytest.approx(1_000.0 - 0.202 + 2 * (102.0 - 101.0))


def test_short_profits_when_price_falls() -> None:
    bars = [FLAT, (100.0, 100.0, 90.0, 90.0), (90.0, 90.0, 80.0, 80.0), (80.0, 80.0, 80.0, 80.0)]
    result = run(bars, [-1, 0, 0, 0], exit_short=[False, False, True, False], venue="generic",
                 cash=1_000.0, size_units=1.0, fee=0.0)
    assert result.trades[0].side == "short"
    assert result.final_equity == pytest.approx(1_020.0)


def test_stop_loss_is_set_from_the_signal_close_and_fills_at_its_price() -> None:
    # Signal close 100, stop 5 % → 95. Bar 1 opens 99 and trades down to 94: filled at 95.
    bars = [FLAT, (99.0, 99.5, 94.0, 98.0), FLAT]
    result = run(bars, [1, 0, 0], venue="generic", cash=1_000.0, size_units=1.0, fee=0.0, stop_loss=0.05)
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_bar, trade.exit_price) == ("stop_loss", 1, 95.0)


def test_a_bar_gapping_through_the_stop_fills_at_the_open() -> None:
    bars = [FLAT, (101.0, 101.0, 100.0, 100.0), (90.0, 92.0, 89.0, 91.0)]
    result = run(bars, [1, 0, 0], venue="generic", cash=1_000.0, size_units=1.0, fee=0.0, stop_loss=0.05)
    assert (result.trades[0].exit_reason, result.trades[0].exit_price) == ("stop_loss", 90.0)


def test_stop_fills_first_when_stop_and_take_profit_touch_the_same_bar() -> None:
    bars = [FLAT, (100.0, 111.0, 94.0, 100.0), FLAT]
    result = run(bars, [1, 0, 0], venue="generic", cash=1_000.0, size_units=1.0, fee=0.0, stop_loss=0.05,
                 take_profit=0.10)
    assert (result.trades[0].exit_reason, result.trades[0].exit_price) == ("stop_loss", 95.0)


def test_take_profit_fills_at_its_price_with_the_maker_fee() -> None:
    bars = [FLAT, (100.0, 111.0, 99.0, 100.0), FLAT]
    result = run(bars, [1, 0, 0], venue="binance-usdm", cash=1_000.0, size_units=1.0, take_profit=0.10)
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price) == ("take_profit", pytest.approx(110.0))
    assert trade.entry_fee == pytest.approx(100.0 * 0.0005)  # taker at entry (market order)
    assert trade.exit_fee == pytest.approx(110.0 * 0.0002)   # maker at the take-profit (limit order)


def test_trailing_stop_moves_after_the_bar_and_acts_on_the_next() -> None:
    # Trail 10 % from the signal close 100 → 90. Bar 1 reaches 120 and 100: the new
    # level 108 is not active yet in bar 1 (whose low, 100, is below it). Bar 2 trades down to 100: filled at 108.
    bars = [FLAT, (100.0, 120.0, 100.0, 110.0), (110.0, 111.0, 100.0, 101.0), FLAT]
    result = run(bars, [1, 0, 0, 0], venue="generic", cash=1_000.0, size_units=1.0, fee=0.0,
                 trailing_stop=0.10)
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_bar, trade.exit_price) == ("trailing_stop", 2, pytest.approx(108.0))


def test_opposite_entry_reverses_the_position_at_the_next_open() -> None:
    bars = [FLAT, (100.0, 101.0, 99.0, 100.0), (102.0, 102.0, 101.0, 101.0), FLAT]
    result = run(bars, [1, -1, 0, 0], venue="generic", cash=1_000.0, size_units=1.0, fee=0.0)
    first, second = result.trades
    assert (first.side, first.exit_bar, first.exit_price, first.exit_reason) == ("long", 2, 102.0, "signal")
    assert (second.side, second.entry_bar, second.entry_price) == ("short", 2, 102.0)
    assert second.exit_reason == "open"


def test_same_direction_entry_does_not_pyramid() -> None:
    result = run([FLAT] * 4, [1, 1, 1, 0], venue="generic", cash=1_000.0, size_units=1.0, fee=0.0)
    assert len(result.trades) == 1


def test_isolated_liquidation_at_the_binance_price_loses_the_whole_margin() -> None:
    # Long 1 BTC at 20,000, 20x isolated on Binance USDⓈ-M: margin 1,000, tier 1 (MMR 0.4 %).
    expected_lp = rules.binance_usdm_liquidation_price(1, 1.0, 20_000.0, 1_000.0, 0.0, 0.0, 0.004, 0.0)
    assert expected_lp == pytest.approx((1_000.0 - 20_000.0) / (0.004 - 1.0))  # 19,076.3...
    call = rules.margin_ratio_price(1, 1.0, 20_000.0, 1_000.0, 0.0, 0.0, 0.004, 0.0, 0.8)
    assert call == pytest.approx(0.8 * (1_000.0 - 20_000.0) / (0.004 - 0.8))  # 19,095.5...
    bars = [(20_000.0,) * 4, (20_000.0, 20_100.0, 19_900.0, 20_000.0),
            (20_000.0, 20_050.0, 19_090.0, 19_500.0),   # reaches the call level, not the liquidation
            (19_500.0, 19_600.0, 19_000.0, 19_200.0),   # liquidated
            (19_200.0,) * 4]
    result = run(bars, [1, 0, 0, 0, 0], venue="binance-usdm", leverage=20, cash=10_000.0, size_units=1.0)
    (trade,) = result.trades
    assert trade.liquidation_price == pytest.approx(expected_lp)
    assert (trade.exit_reason, trade.exit_bar, trade.exit_price) == ("liquidation", 3, pytest.approx(expected_lp))
    entry_fee = 20_000.0 * 0.0005
    assert result.final_equity == pytest.approx(10_000.0 - entry_fee - 1_000.0)
    # Binance keeps what is left of the margin at the liquidation price as its fee.
    assert trade.exit_fee == pytest.approx(1_000.0 + (expected_lp - 20_000.0))
    (margin_call,) = result.margin_calls
    assert margin_call.time == datetime(2024, 1, 1, 2, tzinfo=UTC)
    assert margin_call.price == pytest.approx(call)
    assert math.isnan(result.liquidation_prices[4]) and result.liquidation_prices[1] == pytest.approx(expected_lp)


def test_a_margin_call_is_raised_again_after_the_position_recovers() -> None:
    touch = (20_000.0, 20_050.0, 19_090.0, 19_900.0)
    bars = [(20_000.0,) * 4, (20_000.0,) * 4, touch, touch, (19_900.0, 20_000.0, 19_800.0, 19_900.0), touch]
    result = run(bars, [1, 0, 0, 0, 0, 0], venue="binance-usdm", leverage=20, cash=10_000.0, size_units=1.0)
    assert [c.time.hour for c in result.margin_calls] == [2, 5]


def test_gap_through_the_liquidation_price_fills_at_the_open_and_loses_no_more_than_the_margin() -> None:
    bars = [(20_000.0,) * 4, (20_000.0,) * 4, (15_000.0, 15_000.0, 14_000.0, 14_500.0), (14_500.0,) * 4]
    result = run(bars, [1, 0, 0, 0], venue="binance-usdm", leverage=20, cash=10_000.0, size_units=1.0)
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price) == ("liquidation", 15_000.0)
    assert result.final_equity == pytest.approx(10_000.0 - 10.0 - 1_000.0)


def test_a_stop_above_the_liquidation_price_fills_before_it() -> None:
    bars = [(20_000.0,) * 4, (20_000.0,) * 4, (20_000.0, 20_050.0, 19_000.0, 19_500.0), (19_500.0,) * 4]
    result = run(bars, [1, 0, 0, 0], venue="binance-usdm", leverage=20, cash=10_000.0, size_units=1.0,
                 stop_loss=0.02)
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_price) == ("stop_loss", pytest.approx(19_600.0))
    assert result.liquidations == ()


def test_cross_margin_backs_the_position_with_the_whole_balance() -> None:
    bars = [(20_000.0,) * 4, (20_000.0,) * 4, (20_000.0, 20_050.0, 19_000.0, 19_500.0), (19_500.0,) * 4]
    result = run(bars, [1, 0, 0, 0], venue="binance-usdm", leverage=20, cash=10_000.0, size_units=1.0,
                 mode="cross")
    (trade,) = result.trades
    wallet = 10_000.0 - 10.0
    assert trade.liquidation_price == pytest.approx(
        rules.binance_usdm_liquidation_price(1, 1.0, 20_000.0, wallet, 0.0, 0.0, 0.004, 0.0))
    assert trade.liquidation_price < 19_000.0
    assert trade.exit_reason == "open"


def test_binance_interest_worked_example_two_hours_for_55_minutes() -> None:
    # Venue's example: borrow 1,000 at 0.001 %/h at 13:20, repay at 14:15 → 2 hours → 0.02.
    # A 2x long of 2 units at 1,000 borrows exactly 1,000. Five-minute bars from 13:20.
    start = int(datetime(2024, 3, 1, 13, 20, tzinfo=UTC).timestamp())
    n = 14  # bars at 13:15, 13:20, ..., 14:20
    bars = [(1_000.0,) * 4] * n
    entries = [0] * n
    exits = [False] * n
    entries[0] = 1    # decided at the 13:15 bar's close: fills at the 13:20 open
    exits[11] = True  # decided at the 14:10 bar's close: repaid at the 14:15 open
    result = run(bars, entries, exit_long=exits, step=300, start=start - 300, venue="binance-margin",
                 leverage=2, cash=10_000.0, size_units=2.0, fee=0.0, interest_rate=0.00001, rate_period="hour")
    (trade,) = result.trades
    assert trade.entry_time == datetime(2024, 3, 1, 13, 20, tzinfo=UTC)
    assert trade.exit_time == datetime(2024, 3, 1, 14, 15, tzinfo=UTC)
    assert trade.borrowed == pytest.approx(1_000.0)
    assert trade.interest_charges == 2
    assert trade.interest == pytest.approx(0.02)
    assert result.interest_paid == pytest.approx(0.02)
    assert result.final_equity == pytest.approx(10_000.0 - 0.02)


def test_kraken_charges_an_opening_fee_and_a_rollover_every_four_hours() -> None:
    # Long 1 at 20,000 at 5:1 held 9 hours: opening fee + 2 rollovers (at +4 h and +8 h),
    # 0.025 % each on the amount lent: the position value less the trader's margin, 16,000.
    bars = [(20_000.0,) * 4] * 11
    exits = [False] * 11
    exits[9] = True
    result = run(bars, [1] + [0] * 10, exit_long=exits, venue="kraken-margin", leverage=5, cash=10_000.0,
                 size_units=1.0, fee=0.0)
    (trade,) = result.trades
    assert trade.interest_charges == 3
    assert trade.interest == pytest.approx(16_000.0 * 0.00025 * 3)
    assert trade.interest == pytest.approx(rules.kraken_margin_fees(16_000.0, 0.00025, 0.00025, 0, 9 * 3600))
    assert result.final_equity == pytest.approx(10_000.0 - 12.0)


def test_short_interest_is_owed_in_base_units_and_bought_back_at_the_exit_price() -> None:
    start = int(datetime(2024, 3, 1, 0, 0, tzinfo=UTC).timestamp())
    bars = [(100.0,) * 4] * 3 + [(50.0,) * 4] * 2
    result = run(bars, [-1, 0, 0, 0, 0], exit_short=[False, False, False, True, False], start=start,
                 venue="binance-margin", leverage=2, cash=1_000.0, size_units=1.0, fee=0.0,
                 interest_rate=0.001, rate_period="hour")
    (trade,) = result.trades
    # Open 01:00, repaid 04:00: hours charged at 01:00, 02:00, 03:00 → 3 × 0.001 BTC.
    assert trade.interest_charges == 3
    assert trade.interest_units == pytest.approx(0.003)
    assert trade.interest == pytest.approx(0.003 * 50.0)
    assert result.final_equity == pytest.approx(1_000.0 + 50.0 - 0.15)


def test_funding_is_paid_by_longs_at_each_funding_time() -> None:
    bars = [(100.0,) * 4] * 20  # hourly from 00:00: funding at 08:00 and 16:00
    result = run(bars, [1] + [0] * 19, venue="binance-usdm", cash=1_000.0, size_units=1.0, fee=0.0,
                 funding_rate=0.001)
    assert result.funding == pytest.approx(-2 * 100.0 * 0.001)
    assert result.final_equity == pytest.approx(1_000.0 - 0.2)


def test_entries_the_balance_cannot_pay_are_skipped() -> None:
    result = run([FLAT] * 3, [1, 0, 0], venue="generic", cash=50.0, size_units=1.0, fee=0.0)
    assert result.trades == () and result.skipped_entries == 1


def test_size_fraction_commits_that_share_of_equity_with_the_fee() -> None:
    result = run([FLAT] * 3, [1, 0, 0], venue="generic", cash=1_000.0, size_fraction=0.5, leverage=4, fee=0.001)
    (trade,) = result.trades
    assert trade.margin + trade.entry_fee == pytest.approx(500.0)
    assert trade.quantity * 100.0 == pytest.approx(4 * trade.margin)
