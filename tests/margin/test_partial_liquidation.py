"""Partial liquidation by tier (Binance USDⓈ-M, Bybit USDT perpetual), worked by hand.

What the venues publish (see ``rules.partial_liquidation_quantity``): a position above the
lowest tier is first cut down to the bound of a lower tier whose maintenance margin the rest
then satisfies (after the realized loss and the fee on the part sold); only when no lower
tier does is the whole position liquidated. Each example below is checked by hand from the
tier tables of the profiles:

- Binance USDⓈ-M BTCUSDT: tier 2 is (50,000, 250,000] at 0.5 % (maintenance amount 50),
  tier 3 (250,000, 1,000,000] at 1 % (amount 50 + 250,000 · 0.5 % = 1,300); taker 0.05 %.
- Bybit BTCUSDT: levels of 2,000,000 USDT, MMR 0.5 % / 1 % / 1.5 %, MM deduction 0 /
  10,000 / 30,000 (2,000,000 · 0.5 % + 4,000,000 · 0.5 %); taker 0.055 %.

Each engine example is also replayed through the backtest kernel, which must agree.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.strategies import Signals
from marginbook.domain.events import EventKind
from marginbook.margin import rules
from marginbook.margin.broker.engine import Engine
from marginbook.margin.orders import Order
from marginbook.margin.venues import BINANCE_USDM, BYBIT_LINEAR

from .helpers import START, bars, config

B_FLOORS, B_MMRS = BINANCE_USDM.tier_floors, BINANCE_USDM.tier_mmrs
Y_FLOORS, Y_MMRS = BYBIT_LINEAR.tier_floors, BYBIT_LINEAR.tier_mmrs


def _partial(*args: object) -> tuple[float, int]:
    return rules.partial_liquidation_quantity(*args)  # type: ignore[arg-type]


# ----- the rule, by hand ----------------------------------------------------------------
def test_binance_long_in_the_third_tier_is_cut_to_250000_of_value() -> None:
    # Long 10 BTC at 40,000 (400,000 USDT, tier 3) with 22,500 of margin: at 38,000 the
    # margin balance is 22,500 − 20,000 = 2,500 and the maintenance 380,000 · 1 % − 1,300 =
    # 2,500, so 38,000 is its liquidation price. Cut to 250,000 of value: keep 250,000/38,000
    # = 6.5789… BTC, sell 3.4210… BTC (130,000 USDT), fee 65; 2,435 left > tier 2's 1,200.
    sold, tier = _partial(10.0, 38_000.0, 38_000.0, 2_500.0, 0.0, B_FLOORS, B_MMRS, 0.0005, 99)
    assert sold == pytest.approx(10.0 - 250_000.0 / 38_000.0, rel=1e-12)
    assert sold * 38_000.0 == pytest.approx(130_000.0, rel=1e-12)
    assert tier == 1
    assert rules.binance_usdm_liquidation_price_tiered(
        1, 10.0, 40_000.0, 22_500.0, 0.0, 0.0, B_FLOORS, B_MMRS  # type: ignore[arg-type]
    ) == pytest.approx(38_000.0, rel=1e-12)


def test_binance_gap_too_deep_for_any_lower_tier_closes_the_whole_position() -> None:
    # The same long at a gapped open of 36,000: balance 22,500 − 40,000 < 0; no tier helps.
    assert _partial(10.0, 36_000.0, 36_000.0, -17_500.0, 0.0, B_FLOORS, B_MMRS, 0.0005, 99) == (10.0, 2)


def test_the_lowest_tier_and_a_single_tier_are_closed_whole() -> None:
    # 40,000 USDT of value sits in Binance's first tier: nothing lower to go to.
    assert _partial(1.0, 40_000.0, 40_000.0, 150.0, 0.0, B_FLOORS, B_MMRS, 0.0005, 99) == (1.0, 0)
    assert _partial(100.0, 50_000.0, 50_000.0, 1e6, 0.0, (0.0,), (0.005,), 0.00055, 99) == (100.0, 0)


def test_the_risk_tier_caps_the_tier_a_position_is_reduced_from() -> None:
    # A short cut to 250,000 at 38,000 whose value grew with the price: measured by value it is
    # in tier 3 again, but its risk tier is now 2, so only tier 1 (50,000) is below it.
    sold, tier = _partial(250_000.0 / 38_000.0, 38_100.0, 38_100.0, 2_000.0, 0.0, B_FLOORS, B_MMRS, 0.0005, 1)
    assert tier == 0 and sold == pytest.approx(250_000.0 / 38_000.0 - 50_000.0 / 38_100.0, rel=1e-12)
    assert _partial(5.0, 38_100.0, 38_100.0, 2_000.0, 0.0, B_FLOORS, B_MMRS, 0.0005, 0) == (5.0, 0)


def test_bybit_long_on_the_third_level_is_cut_to_the_second() -> None:
    # Long 100 BTC at 50,000 (5,000,000 USDT, level 3: MMR 1.5 %, deduction 30,000), 25x:
    # IM 200,000, MM 75,000 − 30,000 = 45,000, LP = 50,000 − (200,000 − 45,000)/100 = 48,450.
    # Bybit values the position at its entry price: keep 4,000,000 / 50,000 = 80 BTC, sell 20;
    # fee 20 · 48,450 · 0.055 % = 532.95; 45,000 − 532.95 > level 2's 40,000 − 10,000.
    assert rules.bybit_liquidation_price(1, 50_000.0, 100.0, 25.0, 0.015, 30_000.0, 0.0) == 48_450.0
    assert _partial(100.0, 48_450.0, 50_000.0, 45_000.0, 0.0, Y_FLOORS, Y_MMRS, 0.00055, 99) == (20.0, 1)


# ----- through the engine, and the kernel agrees -----------------------------------------
def _entry(side: int, quantity: str, leverage: float) -> Order:
    at = START + timedelta(hours=1)
    return Order(row=2, at=at, epoch=int(at.timestamp()), side=side, type="market",
                 quantity=Decimal(quantity), leverage=leverage)  # fmt: skip


def _replay(venue_name: str, rows: list[tuple[float, float, float, float]], order: Order, deposit: str) -> Engine:
    venue = BINANCE_USDM if venue_name == "binance-usdm" else BYBIT_LINEAR
    engine = Engine(config(venue, mode="isolated", deposit=deposit), [order])
    market = bars(rows)
    for i in range(len(market)):
        engine.on_bar(market.times[i], market.epochs[i], market.open[i], market.high[i], market.low[i],
                      market.close[i], market.epochs[i] + 3600)  # fmt: skip
    return engine


def _kernel_agrees(venue: str, rows: list[tuple[float, float, float, float]], side: int, size: float,
                   leverage: float, cash: float) -> None:
    from tests.backtest.helpers import make_bars
    from tests.backtest.test_agreement_with_paper import Scenario, assert_agree

    signals = Signals.from_arrays([side] + [0] * (len(rows) - 1))
    settings = BacktestSettings(venue=venue, leverage=leverage, cash=cash, size_units=size)
    counts = assert_agree(Scenario(make_bars(rows, start=int(START.timestamp())), signals, settings))
    assert counts["partial"] >= 1


BYBIT_ROWS = [
    (50_000.0, 50_000.0, 50_000.0, 50_000.0),  # the signal bar
    (50_000.0, 50_100.0, 49_900.0, 50_000.0),  # long 100 BTC at the open, 25x
    (49_000.0, 49_100.0, 48_400.0, 48_500.0),  # touches 48,450: 20 BTC are sold
    (48_500.0, 48_600.0, 48_000.0, 48_100.0),  # touches the rest's 48,269.16: 40 more
    (47_500.0, 47_600.0, 47_400.0, 47_500.0),  # opens below the last 40's price: all of it
]


def test_bybit_engine_sells_20_then_40_then_the_rest_and_loses_exactly_the_margin() -> None:
    engine = _replay("bybit-linear", BYBIT_ROWS, _entry(1, "100", 25.0), "1000000")
    records = engine.executor.totals.liquidations
    assert [(r["partial"], r["quantity"]) for r in records] == [
        (True, Decimal("20")), (True, Decimal("40")), (False, Decimal("40"))]
    # First cut, at 48,450: realized 20 · (48,450 − 50,000) = −31,000, fee 532.95.
    assert records[0]["price"] == Decimal("48450")
    first = [e for e in engine.sink.events if e.timestamp == START + timedelta(hours=2)]
    assert [(e.kind, e.amount, e.note) for e in first] == [
        (EventKind.REALIZED_PNL, Decimal("-31000"), "partial liquidation of 20.00000000 BTC"),
        (EventKind.FEE, Decimal("532.95"), "liquidation fee (partial liquidation)"),
    ]
    # The rest, 80 BTC on level 2 (MMR 1 %, deduction 10,000), keeps the margin less loss and
    # fee, 168,467.05: LP = 50,000 − (160,000 − 30,000 + 8,467.05)/80 = 48,269.161875.
    # Second cut there: keep 2,000,000 / 50,000 = 40 BTC, sell 40, fee 1,061.92156125.
    assert float(records[1]["price"]) == pytest.approx(48_269.161875, rel=1e-12)
    assert records[1]["fee"] == Decimal("1061.92156125")
    # The last 40 BTC (level 1) are closed whole at the gapped open 47,500: the loss there,
    # 100,000, is capped at the margin left, 200,000 − 31,000 − 532.95 − 69,233.525 −
    # 1,061.92156125 = 98,171.60343875, and no fee is left to take. The position has lost
    # exactly its 200,000 of margin (the cuts' losses and fees came out of it) and its entry fee.
    assert (records[2]["price"], records[2]["fee"]) == (Decimal("47500"), Decimal("0"))
    last = [e for e in engine.sink.events if e.kind is EventKind.REALIZED_PNL][-1]
    assert last.amount == Decimal("-98171.60343875")
    assert not engine.account.positions
    entry_fee = Decimal("2750")  # 5,000,000 · 0.055 %
    assert Decimal("1000000") - engine.sink.cash("USDT") == Decimal("200000") + entry_fee
    _kernel_agrees("bybit-linear", BYBIT_ROWS, 1, 100.0, 25.0, 1_000_000.0)


BINANCE_LP = 378_700.0 / 9.9  # (20,000 + 1,300 − 400,000) / (10 · 1 % − 10): 38,252.5252…
BINANCE_ROWS = [
    (40_000.0, 40_000.0, 40_000.0, 40_000.0),  # the signal bar
    (40_000.0, 40_100.0, 39_900.0, 40_000.0),  # long 10 BTC at the open, 20x: 20,000 of margin
    (39_000.0, 39_100.0, 38_200.0, 38_300.0),  # touches 38,252.53: cut to 250,000 of value
    (38_300.0, 38_400.0, 38_250.0, 38_300.0),  # the rest's price (about 38,060) is not reached
]


def test_binance_engine_cuts_the_long_to_the_second_tier_and_keeps_the_rest_open() -> None:
    engine = _replay("binance-usdm", BINANCE_ROWS, _entry(1, "10", 20.0), "100000")
    (record,) = engine.executor.totals.liquidations
    sold = 10.0 - 250_000.0 / BINANCE_LP  # 3.4644… BTC, 132,525.25 USDT of value
    assert record["partial"] is True
    assert float(record["price"]) == pytest.approx(BINANCE_LP, rel=1e-12)
    assert float(record["quantity"]) == pytest.approx(sold, abs=1e-8)
    fee = (10.0 * BINANCE_LP - 250_000.0) * 0.0005  # 66.2626…
    assert float(record["fee"]) == pytest.approx(fee, abs=0.5e-8)  # the event's amount: to the unit
    (position,) = engine.account.positions.values()
    assert position.quantity * BINANCE_LP == pytest.approx(250_000.0, rel=1e-12)
    loss = sold * (BINANCE_LP - 40_000.0)  # −6,054.36…
    assert position.collateral == pytest.approx(20_000.0 + loss - fee, rel=1e-12)
    # The rest is compliant: margin balance 2,525.25 − 66.26 = 2,458.99 against tier 2's
    # 250,000 · 0.5 % − 50 = 1,200 at this price; its own liquidation price is lower.
    balance = position.collateral + position.quantity * (BINANCE_LP - 40_000.0)
    assert balance == pytest.approx(2_525.2525252525 - 66.2626262626, rel=1e-9)
    rest_price = engine.account.position_levels(position).liquidation_price
    assert 38_000.0 < rest_price < 38_250.0
    _kernel_agrees("binance-usdm", BINANCE_ROWS, 1, 10.0, 20.0, 100_000.0)


def test_binance_gapped_open_too_deep_liquidates_the_whole_position() -> None:
    rows = [*BINANCE_ROWS[:2], (36_000.0, 36_100.0, 35_900.0, 36_000.0)]
    engine = _replay("binance-usdm", rows, _entry(1, "10", 20.0), "100000")
    (record,) = engine.executor.totals.liquidations
    assert (record["partial"], record["quantity"], record["price"]) == (False, Decimal("10"), Decimal("36000"))
    assert not engine.account.positions
    assert Decimal("100000") - engine.sink.cash("USDT") == Decimal("20000") + Decimal("200")  # margin + entry fee
