"""A liquidation at a gapped open comes before the orders due at that open.

The venue's liquidation engine acts before the trader's order: a short whose liquidation
price the bar has opened above is liquidated at the open, and the market buy-to-close due at
that same open finds nothing to close. It must be dropped, not read as an order to open a
long. Before the fix the buy filled first, at the gapped open, and the short lost more than
its margin (the backtest kernel had the same fault: tests/backtest/test_gap_through_liquidation.py).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.events import EventKind
from marginbook.margin import venues
from marginbook.margin.paper import replay

from .helpers import bars, config, orders

NO_FEES = {"maker_fee": 0.0, "taker_fee": 0.0}
FLAT = (20_000.0, 20_000.0, 20_000.0, 20_000.0)
# Bar 2 opens 20 % above the entry: past a 10x short's liquidation price (≈ 21,900).
GAP = (24_000.0, 24_500.0, 23_800.0, 24_200.0)
SHORT_THEN_CLOSE = """timestamp,side,type,quantity,leverage
2025-03-01T00:00:00Z,sell,market,1,10
2025-03-01T02:00:00Z,buy,market,{close},10"""


def test_a_buy_to_close_due_at_a_gapped_open_is_dropped_after_the_liquidation(tmp_path: Path) -> None:
    order_list = orders(tmp_path, SHORT_THEN_CLOSE.format(close="1"))
    engine, result = replay(config(venues.BINANCE_USDM.with_overrides(**NO_FEES)), bars([FLAT, FLAT, GAP]),
                            order_list)
    [liquidation] = result.liquidations
    assert liquidation["price"] == Decimal("24000")  # at the gapped open
    assert liquidation["side"] == "buy"
    assert [t["reason"] for t in result.trades] == ["market", "liquidation"]
    # The short loses its 2,000 margin and no more (the venue eats the rest of the gap).
    assert [e.amount for e in result.events if e.kind is EventKind.REALIZED_PNL] == [Decimal("-2000")]
    assert result.final_cash == Decimal("8000")
    # The buy found nothing to close and opened no long.
    buy = engine.pending[1]
    assert buy.status == "cancelled" and "liquidated" in buy.note
    assert result.open_positions == [] and result.rejected == []


def test_only_the_part_meant_to_close_is_dropped_a_reversal_still_opens(tmp_path: Path) -> None:
    """A buy of 2 on a short of 1 closes 1 and opens a long of 1: after the liquidation, the long opens."""
    order_list = orders(tmp_path, SHORT_THEN_CLOSE.format(close="2"))
    engine, result = replay(config(venues.BINANCE_USDM.with_overrides(**NO_FEES)), bars([FLAT, FLAT, GAP]),
                            order_list)
    assert [t["reason"] for t in result.trades] == ["market", "liquidation", "market"]
    opened = result.trades[2]
    assert (opened["side"], opened["price"], opened["quantity"]) == ("buy", Decimal("24000"), Decimal("1"))
    assert engine.pending[1].status == "filled"
    [position] = result.open_positions
    assert position["side"] == "long" and position["quantity"] == Decimal("1")


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_without_a_gap_the_buy_closes_the_short(tmp_path: Path, mode: str) -> None:
    """Control: the same orders on bars that stay below the liquidation price close normally."""
    order_list = orders(tmp_path, SHORT_THEN_CLOSE.format(close="1"))
    calm = (21_000.0, 21_100.0, 20_900.0, 21_000.0)
    _, result = replay(config(venues.BINANCE_USDM.with_overrides(**NO_FEES), mode=mode),
                       bars([FLAT, FLAT, calm]), order_list)
    assert result.liquidations == []
    assert [(t["reason"], t["price"]) for t in result.trades] == [("market", Decimal("20000")),
                                                                   ("market", Decimal("21000"))]
    assert result.final_cash == Decimal("9000")


def test_a_cross_account_gapped_through_is_liquidated_before_the_buy(tmp_path: Path) -> None:
    """Cross: the whole 10,000 backs the short, so its liquidation price is near 29,900; open at 32,000."""
    order_list = orders(tmp_path, SHORT_THEN_CLOSE.format(close="1"))
    crash = (32_000.0, 32_500.0, 31_800.0, 32_000.0)
    engine, result = replay(config(venues.BINANCE_USDM.with_overrides(**NO_FEES), mode="cross"),
                            bars([FLAT, FLAT, crash]), order_list)
    [liquidation] = result.liquidations
    assert liquidation["price"] == Decimal("32000")
    assert [t["reason"] for t in result.trades] == ["market", "liquidation"]
    assert engine.pending[1].status == "cancelled"
    assert result.open_positions == []
