"""Invariants of the engine, checked on random markets and random order flows (hypothesis)."""

from __future__ import annotations

import dataclasses
import math
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marginbook.domain.events import EventKind
from marginbook.margin import rules, venues
from marginbook.margin.broker.engine import Engine
from marginbook.margin.ledger import to_decimal
from marginbook.margin.orders import Order
from marginbook.margin.prices import Bars

from .helpers import START, bars, config

VENUES = ["binance-usdm", "binance-margin", "kraken-margin", "bybit-linear", "okx-swap"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def markets(draw: st.DrawFn, min_bars: int = 8, max_bars: int = 40) -> Bars:
    """A random walk of bars, with gaps, wicks and crashes."""
    count = draw(st.integers(min_bars, max_bars))
    price = 20_000.0
    rows = []
    for _ in range(count):
        gap = draw(st.one_of(st.floats(-0.03, 0.03), st.floats(-0.3, 0.3)))
        move = draw(st.floats(-0.15, 0.15))
        open_ = price * (1 + gap)
        close = open_ * (1 + move)
        high = max(open_, close) * (1 + draw(st.floats(0, 0.05)))
        low = min(open_, close) * (1 - draw(st.floats(0, 0.05)))
        rows.append((open_, high, low, close))
        price = close
    return bars(rows)


@st.composite
def order_flows(draw: st.DrawFn, count: int) -> list[Order]:
    """Random orders on two named positions, live at random bars."""
    flow = []
    for row in range(draw(st.integers(1, 8))):
        at = START + timedelta(hours=draw(st.integers(0, count - 1)))
        kind = draw(st.sampled_from(["market", "market", "limit", "stop", "take_profit", "trailing_stop"]))
        reference = 20_000.0 * draw(st.floats(0.7, 1.3))
        flow.append(
            Order(
                row=row + 2,
                at=at,
                epoch=int(at.timestamp()),
                side=draw(st.sampled_from([1, -1])),
                type=kind,
                quantity=Decimal(draw(st.sampled_from(["0.01", "0.05", "0.1", "0.25"]))),
                price=reference if kind in ("limit", "take_profit") else math.nan,
                stop_price=reference if kind == "stop" else math.nan,
                trail=draw(st.floats(0.01, 0.2)) if kind == "trailing_stop" else math.nan,
                leverage=draw(st.sampled_from([1.0, 2.0, 3.0])),
                position=draw(st.sampled_from(["a", "b"])),
            )
        )
    flow.sort(key=lambda o: o.epoch)
    return flow


def _event_balances(engine: Engine) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Balances and outstanding loans per asset, folded from the emitted events alone."""
    debt: dict[str, Decimal] = {}
    for event in engine.sink.events:
        if event.kind is EventKind.BORROW:
            debt[event.asset] = debt.get(event.asset, Decimal(0)) + event.amount
        elif event.kind is EventKind.REPAY:
            debt[event.asset] = debt.get(event.asset, Decimal(0)) - event.amount
    return engine.sink.balances(), debt


@SETTINGS
@given(
    data=st.data(),
    venue_name=st.sampled_from(VENUES),
    mode=st.sampled_from(["isolated", "cross"]),
    coins=st.sampled_from(["0", "0", "0.5"]),
)
def test_equity_is_cash_plus_positions_minus_debt_and_interest_at_every_step(
    data: st.DataObject, venue_name: str, mode: str, coins: str
) -> None:
    market = data.draw(markets())
    flow = data.draw(order_flows(len(market)))
    run = config(venues.profile(venue_name), mode=mode, deposit="20000", funding_rate=0.0001)
    engine = Engine(dataclasses.replace(run, base_deposit=Decimal(coins)), flow)
    account = engine.account
    for i in range(len(market)):
        next_epoch = market.epochs[i] + 3600
        engine.on_bar(market.times[i], market.epochs[i], market.open[i], market.high[i], market.low[i],
                      market.close[i], next_epoch)  # fmt: skip
        price = market.close[i]
        balances, debt = _event_balances(engine)
        cash = float(balances.get("USDT", Decimal(0)))
        assert cash == pytest_approx(account.cash)
        positions = list(account.positions.values())
        coins_held = float(balances.get("BTC", Decimal(0)))
        if account.venue.settlement == "spot":
            held = account.base_collateral + sum(p.quantity for p in positions if p.side > 0)
            assert float(balances.get("BTC", Decimal(0))) == pytest_approx(held)
            quote_debt = float(debt.get("USDT", Decimal(0)))
            base_debt = float(debt.get("BTC", Decimal(0)))
            assert quote_debt == pytest_approx(sum(p.borrowed for p in positions if p.side > 0))
            assert base_debt == pytest_approx(sum(p.borrowed for p in positions if p.side < 0))
            accrued = sum(p.accrued * (1.0 if p.side > 0 else price) for p in positions)
            expected = (
                cash
                + float(balances.get("BTC", Decimal(0))) * price
                - quote_debt
                - base_debt * price
                - accrued
            )
        else:
            assert not debt
            assert coins_held == pytest_approx(account.base_collateral)
            expected = (
                cash
                + coins_held * price
                + sum(rules.unrealized_pnl(p.side, p.quantity, p.entry_price, price) for p in positions)
            )
        assert account.equity(price) == pytest_approx(expected)


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, rel=1e-9, abs=1e-6)


@SETTINGS
@given(
    market=markets(min_bars=4, max_bars=30),
    venue_name=st.sampled_from(VENUES),
    side=st.sampled_from([1, -1]),
    leverage=st.sampled_from([2.0, 3.0, 5.0, 10.0, 25.0]),
    quantity=st.sampled_from(["0.05", "0.1", "0.3"]),
)
def test_isolated_losses_never_exceed_the_collateral_plus_fees(
    market: Bars, venue_name: str, side: int, leverage: float, quantity: str
) -> None:
    venue = venues.profile(venue_name)
    leverage = min(leverage, venue.max_leverage)
    entry = Order(row=2, at=START, epoch=int(START.timestamp()), side=side, type="market",
                  quantity=Decimal(quantity), leverage=leverage)  # fmt: skip
    engine = Engine(config(venue, mode="isolated", deposit="20000"), [entry])
    for i in range(len(market)):
        engine.on_bar(market.times[i], market.epochs[i], market.open[i], market.high[i], market.low[i],
                      market.close[i], market.epochs[i] + 3600)  # fmt: skip
    collateral = to_decimal(float(quantity) * market.open[0] / leverage)
    totals = engine.executor.totals
    trading_fees = sum(t["fee"] for t in totals.trades)
    lost = Decimal(20000) - engine.sink.cash("USDT")
    if engine.account.positions:  # still open: count what it holds against what it owes
        lost = Decimal(20000) - to_decimal(engine.account.equity(market.close[-1]))
    assert lost <= collateral + trading_fees + totals.interest + Decimal("0.000001")
    assert engine.sink.cash("USDT") >= 0


@SETTINGS
@given(
    market=markets(min_bars=4, max_bars=40),
    venue_name=st.sampled_from(["binance-usdm", "bybit-linear", "okx-swap", "kraken-margin"]),
    side=st.sampled_from([1, -1]),
    leverage=st.sampled_from([3.0, 5.0, 10.0, 20.0]),
)
def test_liquidation_happens_at_the_first_bar_whose_adverse_extreme_crosses_and_never_before(
    market: Bars, venue_name: str, side: int, leverage: float
) -> None:
    venue = venues.profile(venue_name).with_overrides(interest_rate=0.0, opening_fee_rate=0.0)
    leverage = min(leverage, venue.max_leverage)
    entry_price, quantity = market.open[0], 0.5
    collateral = float(to_decimal(quantity * entry_price / leverage))
    if venue_name == "bybit-linear":
        expected_price = rules.bybit_liquidation_price(side, entry_price, quantity, leverage, 0.005, 0.0,
                                                       collateral - quantity * entry_price / leverage)  # fmt: skip
    elif venue_name == "okx-swap":
        expected_price = rules.okx_isolated_liquidation_price(
            side, entry_price, quantity, collateral, 0.004, 0.0005
        )
    elif venue_name == "kraken-margin":
        expected_price = rules.kraken_margin_level_price(
            side, quantity, entry_price, leverage, collateral, 0, 0, 0.4
        )
    else:
        expected_price = rules.binance_usdm_liquidation_price_tiered(
            side,
            quantity,
            entry_price,
            collateral,
            0.0,
            0.0,
            venue.tier_floors,
            venue.tier_mmrs,  # type: ignore[arg-type]
        )
    expected_bar = next(
        (
            i
            for i in range(len(market))
            if (market.low[i] <= expected_price if side > 0 else market.high[i] >= expected_price)
        ),
        None,
    )
    entry = Order(row=2, at=START, epoch=int(START.timestamp()), side=side, type="market",
                  quantity=Decimal("0.5"), leverage=leverage)  # fmt: skip
    engine = Engine(config(venue, mode="isolated", deposit="100000"), [entry])
    for i in range(len(market)):
        engine.on_bar(market.times[i], market.epochs[i], market.open[i], market.high[i], market.low[i],
                      market.close[i], market.epochs[i] + 3600)  # fmt: skip
    liquidations = engine.executor.totals.liquidations
    if expected_bar is None:
        assert liquidations == []
    else:
        assert [liq["time"] for liq in liquidations] == [market.times[expected_bar]]
        gap_open = market.open[expected_bar]
        fill = min(gap_open, expected_price) if side > 0 else max(gap_open, expected_price)
        assert float(liquidations[0]["price"]) == pytest_approx(fill)


def test_cross_liquidation_price_moves_when_another_positions_pnl_moves() -> None:
    venue = venues.BINANCE_USDM
    long_a = Order(row=2, at=START, epoch=int(START.timestamp()), side=1, type="market",
                   quantity=Decimal("1"), leverage=10.0, position="a")  # fmt: skip
    short_b = Order(row=3, at=START, epoch=int(START.timestamp()), side=-1, type="market",
                    quantity=Decimal("0.5"), leverage=10.0, position="b")  # fmt: skip
    engine = Engine(config(venue, mode="cross", deposit="5000"), [long_a, short_b])
    engine.on_bar(
        START, int(START.timestamp()), 20_000, 20_000, 20_000, 20_000, int(START.timestamp()) + 3600
    )
    a = engine.account.positions["a"]
    at_20000 = engine.account.position_liquidation_price(a, 20_000.0)
    at_19000 = engine.account.position_liquidation_price(a, 19_000.0)  # the short gains 500 → a's price falls
    at_21000 = engine.account.position_liquidation_price(a, 21_000.0)  # the short loses 500 → a's price rises
    assert at_19000 < at_20000 < at_21000
