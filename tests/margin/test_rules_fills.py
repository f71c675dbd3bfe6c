"""The intrabar fill rule (spec/margin-rules.md, "Fills inside a bar"), case by case."""

from __future__ import annotations

import math

import pytest

from marginbook.margin import rules
from marginbook.margin.rules import LIQUIDATION, LONG, NO_FILL, SHORT, STOP, TAKE_PROFIT

NAN = math.nan


def test_touched_liquidation_happens_even_if_bar_closes_back() -> None:
    assert rules.exit_fill(LONG, 100.0, 105.0, 89.0, NAN, NAN, 90.0) == (LIQUIDATION, 90.0)
    assert rules.exit_fill(SHORT, 100.0, 111.0, 95.0, NAN, NAN, 110.0) == (LIQUIDATION, 110.0)


def test_liquidation_gapped_through_fills_at_open() -> None:
    assert rules.exit_fill(LONG, 85.0, 88.0, 80.0, NAN, NAN, 90.0) == (LIQUIDATION, 85.0)
    assert rules.exit_fill(SHORT, 120.0, 125.0, 118.0, NAN, NAN, 110.0) == (LIQUIDATION, 120.0)


def test_stop_between_open_and_liquidation_fills_first() -> None:
    assert rules.exit_fill(LONG, 100.0, 101.0, 80.0, 95.0, NAN, 90.0) == (STOP, 95.0)
    assert rules.exit_fill(SHORT, 100.0, 120.0, 99.0, 105.0, NAN, 110.0) == (STOP, 105.0)


def test_stop_beyond_liquidation_never_gets_the_chance() -> None:
    assert rules.exit_fill(LONG, 100.0, 101.0, 80.0, 85.0, NAN, 90.0) == (LIQUIDATION, 90.0)
    assert rules.exit_fill(SHORT, 100.0, 120.0, 99.0, 115.0, NAN, 110.0) == (LIQUIDATION, 110.0)


def test_gap_through_stop_but_not_liquidation_fills_stop_at_open() -> None:
    assert rules.exit_fill(LONG, 93.0, 94.0, 80.0, 95.0, NAN, 90.0) == (STOP, 93.0)


def test_gap_through_both_is_a_liquidation_at_open() -> None:
    assert rules.exit_fill(LONG, 88.0, 89.0, 80.0, 95.0, NAN, 90.0) == (LIQUIDATION, 88.0)


def test_stop_beats_take_profit_in_the_same_bar() -> None:
    assert rules.exit_fill(LONG, 100.0, 120.0, 90.0, 95.0, 110.0, NAN) == (STOP, 95.0)
    assert rules.exit_fill(SHORT, 100.0, 110.0, 80.0, 105.0, 90.0, NAN) == (STOP, 105.0)


def test_take_profit_alone_fills_at_its_price_or_better_open() -> None:
    assert rules.exit_fill(LONG, 100.0, 120.0, 99.0, 95.0, 110.0, 90.0) == (TAKE_PROFIT, 110.0)
    assert rules.exit_fill(LONG, 115.0, 120.0, 112.0, 95.0, 110.0, 90.0) == (TAKE_PROFIT, 115.0)
    assert rules.exit_fill(SHORT, 100.0, 101.0, 85.0, 105.0, 90.0, NAN) == (TAKE_PROFIT, 90.0)


def test_nothing_touched_is_no_fill() -> None:
    code, price = rules.exit_fill(LONG, 100.0, 104.0, 96.0, 95.0, 110.0, 90.0)
    assert code == NO_FILL
    assert math.isnan(price)


@pytest.mark.parametrize(
    ("buy", "kind", "bar", "price", "expected"),
    [
        (True, rules.MARKET, (100.0, 101.0, 99.0), NAN, 100.0),
        (True, rules.LIMIT, (100.0, 101.0, 94.0), 95.0, 95.0),
        (True, rules.LIMIT, (93.0, 101.0, 92.0), 95.0, 93.0),  # opened below the limit
        (True, rules.LIMIT, (100.0, 101.0, 96.0), 95.0, NAN),
        (False, rules.LIMIT, (100.0, 106.0, 99.0), 105.0, 105.0),
        (True, rules.STOP_MARKET, (100.0, 106.0, 99.0), 105.0, 105.0),
        (True, rules.STOP_MARKET, (107.0, 108.0, 106.0), 105.0, 107.0),  # gap: the worse open
        (False, rules.STOP_MARKET, (100.0, 101.0, 94.0), 95.0, 95.0),
        (False, rules.STOP_MARKET, (100.0, 101.0, 96.0), 95.0, NAN),
    ],
)
def test_order_fill_price(
    buy: bool, kind: int, bar: tuple[float, float, float], price: float, expected: float
) -> None:
    got = rules.order_fill_price(buy, kind, bar[0], bar[1], bar[2], price)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_trailing_stop_only_tightens() -> None:
    assert rules.trailing_stop_level(LONG, NAN, 100.0, 0.05) == pytest.approx(95.0)
    assert rules.trailing_stop_level(LONG, 95.0, 110.0, 0.05) == pytest.approx(104.5)
    assert rules.trailing_stop_level(LONG, 104.5, 100.0, 0.05) == 104.5
    assert rules.trailing_stop_level(SHORT, NAN, 100.0, 0.05) == pytest.approx(105.0)
    assert rules.trailing_stop_level(SHORT, 105.0, 90.0, 0.05) == pytest.approx(94.5)
    assert rules.trailing_stop_level(SHORT, 94.5, 99.0, 0.05) == 94.5
