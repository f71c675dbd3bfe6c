"""The calculator and the simulator cannot disagree: ``risk``'s liquidation price is where the
engine liquidates the same position, venue by venue (differential test)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.margin import venues
from marginbook.margin.paper import replay
from marginbook.margin.risk import RiskQuestion, assess

from .helpers import bars, config, orders

CASES = [
    ("binance-usdm", "isolated", 1, 20.0, None),
    ("binance-usdm", "isolated", -1, 10.0, None),
    ("binance-usdm", "cross", 1, 10.0, 5_000.0),
    ("bybit-linear", "isolated", 1, 50.0, None),
    ("bybit-linear", "isolated", -1, 25.0, None),
    ("okx-swap", "isolated", 1, 20.0, None),
    ("okx-swap", "isolated", -1, 20.0, None),
    ("kraken-margin", "cross", 1, 5.0, 10_000.0),
    ("kraken-margin", "cross", -1, 5.0, 5_000.0),
    ("binance-margin", "cross", 1, 3.0, None),
    ("binance-margin", "cross", -1, 3.0, None),
]


@pytest.mark.parametrize(("venue_name", "mode", "side", "leverage", "balance"), CASES)
def test_risk_liquidation_price_is_where_the_engine_liquidates(
    tmp_path: Path, venue_name: str, mode: str, side: int, leverage: float, balance: float | None
) -> None:
    venue = venues.profile(venue_name).with_overrides(
        maker_fee=0.0, taker_fee=0.0, interest_rate=0.0, opening_fee_rate=0.0, extra={}
    )
    figures = assess(RiskQuestion(venue, side, 20_000.0, 1.0, leverage, mode, balance))  # type: ignore[arg-type]
    price = figures["liquidation_price"]
    deposit = str(balance) if balance is not None else str(figures["initial_margin"])
    order_list = orders(
        tmp_path,
        f"timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,{'buy' if side > 0 else 'sell'},market,1,{leverage}",
    )
    far = price * (0.5 if side > 0 else 1.5)
    market = bars([(20_000, 20_000, 20_000, 20_000), (20_000, max(20_000, far), min(20_000, far), far)])
    _, result = replay(config(venue, mode=mode, deposit=deposit), market, order_list)
    assert len(result.liquidations) == 1
    assert float(result.liquidations[0]["price"]) == pytest.approx(price, rel=1e-9)
    assert result.liquidations[0]["quantity"] == Decimal("1")
