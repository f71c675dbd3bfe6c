"""The pre-trade calculator and the loan-interest use case, figure by figure."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marginbook.domain.errors import InputError
from marginbook.margin import rules, venues
from marginbook.margin.interest import loan_interest
from marginbook.margin.risk import RiskQuestion, assess, with_flag_overrides


def test_binance_margin_cross_long_3x_levels() -> None:
    # 1 BTC at 20,000 on 3x: own 6,666.67, borrowed 13,333.33; ML = P / 13,333.33.
    figures = assess(RiskQuestion(venues.BINANCE_MARGIN, 1, 20_000.0, 1.0, 3.0, "cross"))
    borrowed = 20_000.0 - 20_000.0 / 3
    assert figures["liquidation_price"] == pytest.approx(1.1 * borrowed)
    assert figures["margin_call_price"] == pytest.approx(1.3 * borrowed)
    assert figures["interest_per_day"] == pytest.approx(borrowed * 0.0002)


def test_binance_usdm_risk_uses_the_tier_table_unless_overridden() -> None:
    question = RiskQuestion(
        venues.BINANCE_USDM, 1, 20_000.0, 10.0, 20.0, "isolated"
    )  # 200,000 notional: tier 2
    tiered = assess(question)
    assert tiered["maintenance_margin"] == pytest.approx(200_000 * 0.005 - 50)
    expected = rules.binance_usdm_liquidation_price_tiered(
        1,
        10.0,
        20_000.0,
        10_000.0,
        0.0,
        0.0,
        venues.BINANCE_USDM.tier_floors,
        venues.BINANCE_USDM.tier_mmrs,  # type: ignore[arg-type]
    )
    assert tiered["liquidation_price"] == pytest.approx(expected)
    flat = assess(
        RiskQuestion(
            with_flag_overrides(venues.BINANCE_USDM, 0.01, 0.0, None), 1, 20_000.0, 10.0, 20.0, "isolated"
        )
    )
    assert flat["maintenance_margin"] == pytest.approx(2_000.0)
    assert flat["liquidation_price"] > tiered["liquidation_price"]


def test_a_larger_cross_balance_moves_the_liquidation_price_away() -> None:
    thin = assess(RiskQuestion(venues.BINANCE_USDM, -1, 20_000.0, 1.0, 10.0, "cross"))
    thick = assess(
        RiskQuestion(venues.BINANCE_USDM, -1, 20_000.0, 1.0, 10.0, "cross", wallet_balance=10_000.0)
    )
    assert thick["liquidation_price"] > thin["liquidation_price"] > 20_000.0
    assert thick["max_loss"] == 10_000.0


def test_leverage_above_the_cap_is_bad_input() -> None:
    with pytest.raises(InputError, match="above binance-usdm's cap of 20"):
        assess(RiskQuestion(venues.BINANCE_USDM, 1, 20_000.0, 100.0, 50.0, "isolated"))  # 2M notional


def test_generic_interest_charges_every_period_begun() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    result = loan_interest(
        "generic", Decimal("5000"), Decimal("0.001"), "day", start, start.replace(day=2, hour=12)
    )
    assert result.periods_charged == 2
    assert result.interest == Decimal("10")


def test_futures_venues_lend_nothing() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    with pytest.raises(InputError, match="lends nothing"):
        loan_interest("binance-usdm", Decimal("1"), Decimal("0.001"), "day", start, start)
