"""The engine's order handling and money movements, scenario by scenario."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.domain.events import EventKind
from marginbook.importers import ledger_csv
from marginbook.margin import venues
from marginbook.margin.orders import read_orders
from marginbook.margin.paper import replay
from marginbook.margin.prices import read_bars

from .helpers import bars, config, orders

NO_FEES = {"maker_fee": 0.0, "taker_fee": 0.0}
FLAT = (20_000.0, 20_000.0, 20_000.0, 20_000.0)


def _reasons(result: object) -> list[str]:
    return [t["reason"] for t in result.trades]  # type: ignore[attr-defined]


def test_take_profit_fills_and_cancels_its_stop(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,price,stop_price,leverage
2025-03-01T00:00:00Z,buy,market,1,,,2
2025-03-01T00:00:00Z,sell,stop,1,,19000,
2025-03-01T00:00:00Z,sell,take_profit,1,21000,,""",
    )
    market = bars([FLAT, (20_000, 21_500, 19_900, 21_200), (21_200, 21_300, 15_000, 15_500)])
    _, result = replay(config(venues.BINANCE_USDM, deposit="50000"), market, order_list)
    assert _reasons(result) == ["market", "take_profit"]
    assert result.trades[1]["price"] == Decimal("21000")
    assert result.open_positions == []


def test_stop_fills_before_take_profit_when_one_bar_touches_both(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,price,stop_price,leverage
2025-03-01T00:00:00Z,buy,market,1,,,2
2025-03-01T00:00:00Z,sell,stop,1,,19000,
2025-03-01T00:00:00Z,sell,take_profit,1,21000,,""",
    )
    market = bars([FLAT, (20_000, 21_500, 18_500, 20_000)])
    _, result = replay(config(venues.BINANCE_USDM, deposit="50000"), market, order_list)
    assert _reasons(result) == ["market", "stop"]
    assert result.trades[1]["price"] == Decimal("19000")


def test_a_stop_between_the_open_and_the_liquidation_price_saves_the_position(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,stop_price,leverage
2025-03-01T00:00:00Z,buy,market,1,,20
2025-03-01T00:00:00Z,sell,stop,1,19500,""",
    )
    market = bars([FLAT, (20_000, 20_100, 17_000, 17_500)])
    _, result = replay(config(venues.BINANCE_USDM, deposit="50000"), market, order_list)
    assert result.liquidations == []
    assert _reasons(result) == ["market", "stop"]
    assert result.trades[1]["price"] == Decimal("19500")


def test_trailing_stop_moves_after_the_bar_and_acts_from_the_next(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,trail,leverage
2025-03-01T00:00:00Z,buy,market,1,,2
2025-03-01T00:00:00Z,sell,trailing_stop,1,0.05,""",
    )
    # bar 0 runs up to 22,000 and dips to 19,500: the stop is still 19,000 (from the open)
    market = bars([(20_000, 22_000, 19_500, 21_800), (21_000, 21_200, 20_800, 21_000)])
    _, result = replay(config(venues.BINANCE_USDM, deposit="50000"), market, order_list)
    assert _reasons(result) == ["market", "trailing_stop"]
    assert result.trades[1]["time"] == market.times[1]
    assert result.trades[1]["price"] == Decimal("20900")  # 22,000 × 0.95


def test_a_gap_through_the_bankruptcy_price_costs_only_the_collateral(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path, "timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,buy,market,1,10"
    )
    market = bars([FLAT, (12_000, 12_500, 11_000, 12_000)])  # a 40 % gap down at 10x
    _, result = replay(config(venues.BINANCE_USDM.with_overrides(**NO_FEES)), market, order_list)
    assert result.liquidations[0]["price"] == Decimal("12000")  # at the gapped open
    assert result.final_cash == Decimal("8000")  # 10,000 − the 2,000 margin: the venue eats the rest
    pnl = [e.amount for e in result.events if e.kind is EventKind.REALIZED_PNL]
    assert pnl == [Decimal("-2000")]


def test_margin_call_top_up_is_a_deposit_and_keeps_the_position_alive(tmp_path: Path) -> None:
    text = "timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,buy,market,1,20"
    # isolated 20x: call (margin ratio 80 %) at ≈19,096, liquidation at ≈19,076
    market = bars([FLAT, (20_000, 20_000, 19_090, 19_400), (19_400, 19_400, 19_000, 19_300)])
    venue = venues.BINANCE_USDM.with_overrides(**NO_FEES)
    _, without = replay(config(venue), market, orders(tmp_path, text))
    _, with_topup = replay(config(venue, topup="1000"), market, orders(tmp_path, text))
    assert len(without.margin_calls) == 1 and len(without.liquidations) == 1
    assert len(with_topup.margin_calls) == 1 and with_topup.liquidations == []
    call = with_topup.margin_calls[0]
    assert call["response"] == "topup 1000"
    deposits = [e.amount for e in with_topup.events if e.kind is EventKind.DEPOSIT]
    assert deposits == [Decimal("10000"), Decimal("1000")]


def test_funding_is_paid_by_longs_at_each_funding_time(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path, "timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,buy,market,1,2"
    )
    market = bars([FLAT, FLAT, FLAT], step_hours=24)
    _, result = replay(config(venues.BINANCE_USDM, deposit="50000", funding_rate=0.0001), market, order_list)
    funding = [e for e in result.events if e.kind is EventKind.FUNDING]
    # entered at the first bar's open, after its 00:00 funding time; then every 8 h: 08:00 ... 16:00 (day 3)
    assert len(funding) == 8
    assert all(e.amount == Decimal("-2") for e in funding)
    assert result.funding == Decimal("-16")


def test_kraken_liquidates_oldest_first_and_stops_once_healthy(tmp_path: Path) -> None:
    venue = venues.KRAKEN_MARGIN.with_overrides(**NO_FEES, opening_fee_rate=0.0, interest_rate=0.0)
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,leverage,position
2025-03-01T00:00:00Z,buy,market,1,5,old
2025-03-01T01:00:00Z,buy,market,0.2,5,new""",
    )
    market = bars([FLAT, FLAT, (20_000, 20_000, 13_000, 13_100)])
    _, result = replay(config(venue, mode="cross", quote="USD"), market, order_list)
    assert [liq["position"] for liq in result.liquidations] == ["test/old/1"]
    assert [p["position"] for p in result.open_positions] == ["test/new/2"]
    # (10,000 + 1.2·(P − 20,000)) / 4,800 = 0.4  →  P = 13,266.67
    assert result.liquidations[0]["price"] == pytest.approx(Decimal("13266.66666667"))


def test_orders_beyond_the_funds_or_the_leverage_cap_are_rejected(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,leverage
2025-03-01T00:00:00Z,buy,market,10,2
2025-03-01T00:00:00Z,buy,market,0.1,200""",
    )
    _, result = replay(config(venues.BINANCE_USDM), bars([FLAT]), order_list)
    reasons = [r["reason"] for r in result.rejected]
    assert reasons[0].startswith("insufficient margin")
    assert "above the venue's cap 125" in reasons[1]
    assert result.trades == []


@pytest.mark.parametrize(
    "venue_name", ["binance-usdm", "binance-margin", "kraken-margin", "bybit-linear", "okx-swap"]
)
def test_exported_ledger_reads_back_identically_and_reconciles_with_the_final_cash(
    tmp_path: Path, venue_name: str
) -> None:
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,price,stop_price,leverage,position
2025-03-01T00:00:00Z,buy,market,0.3,,,3,a
2025-03-01T00:00:00Z,sell,stop,0.3,,17000,,a
2025-03-01T02:00:00Z,sell,market,0.2,,,2,b
2025-03-01T05:00:00Z,buy,limit,0.2,19000,,,b
2025-03-01T06:00:00Z,sell,market,0.1,,,,a""",
    )
    rows = [(20_000 + 300 * i, 20_500 + 300 * i, 19_500 - 100 * i, 20_100 + 250 * i) for i in range(12)]
    _, result = replay(config(venues.profile(venue_name), funding_rate=0.0001), bars(rows), order_list)
    out = io.StringIO()
    ledger_csv.write(result.events, out)
    back = ledger_csv.read_text(io.StringIO(out.getvalue()), "run.csv")
    assert [e.fingerprint() for e in back] == [e.fingerprint() for e in result.events]
    assert [e.id for e in back] == [e.id for e in result.events]
    quote = Decimal(0)
    for event in back:
        sign = {EventKind.DEPOSIT: 1, EventKind.BORROW: 1, EventKind.REALIZED_PNL: 1, EventKind.FUNDING: 1,
                EventKind.REPAY: -1, EventKind.INTEREST: -1, EventKind.FEE: -1}.get(event.kind)  # fmt: skip
        if event.asset == "USDT" and sign is not None:
            quote += sign * event.amount
        if event.kind is EventKind.BUY and event.counter_asset == "USDT":
            quote -= event.counter_amount or 0
        if event.kind in (EventKind.SELL, EventKind.LIQUIDATION) and event.counter_asset == "USDT":
            quote += event.counter_amount or 0
        if event.fee_asset == "USDT":
            quote -= event.fee_amount or 0
    assert quote == result.final_cash
    assert all(e.origin.source == "sim:test" for e in result.events)
    assert all(e.amount == e.amount.quantize(Decimal("1e-8")) for e in result.events)


def test_bad_order_rows_are_named_by_file_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "timestamp,side,type,quantity,price\n"
        "2025-03-01T00:00:00Z,buy,market,1,\n"
        "2025-03-01T00:00:00Z,hold,market,1,\n"
        "2025-03-01T00:00:00Z,buy,limit,1,\n"
        "2025-03-01,buy,market,-2,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_orders(path)
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        f"{path}:3: side: must be buy or sell, got 'hold'",
        f"{path}:4: price: a limit order needs a price",
        f"{path}:5: quantity: must be a positive decimal, got '-2'",
    ]


def test_bad_price_rows_are_named_and_unknown_columns_refused(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(
        "timestamp,open,high,low,close\n2025-03-01T00:00:00Z,1,2,0.5,1.5\n2025-03-01T01:00:00,1,2,0.5,1.5\n"
        "2025-03-01T02:00:00Z,1,0.9,0.5,1.5\n2025-03-01T03:00:00Z,x,2,0.5,1.5\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_bars(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(3, "timestamp"), (4, "high"), (5, "open")]
    path.write_text("timestamp,open,high,low,close,vwap\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown column"):
        read_bars(path)


def test_a_bracket_placed_with_a_limit_entry_waits_for_the_entry(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,price,stop_price,leverage
2025-03-01T00:00:00Z,buy,limit,1,19500,,2
2025-03-01T00:00:00Z,sell,stop,1,,18000,
2025-03-01T00:00:00Z,sell,take_profit,1,21000,,""",
    )
    market = bars([(20_000, 20_100, 19_400, 19_600), (19_600, 21_100, 19_550, 21_000)])
    _, result = replay(config(venues.BINANCE_USDM, deposit="50000"), market, order_list)
    assert [(t["reason"], t["side"], t["price"]) for t in result.trades] == [
        ("limit", "buy", Decimal("19500")),
        ("take_profit", "sell", Decimal("21000")),
    ]


def test_a_stop_without_exposure_is_a_breakout_entry(tmp_path: Path) -> None:
    order_list = orders(
        tmp_path, "timestamp,side,type,quantity,stop_price,leverage\n2025-03-01T00:00:00Z,buy,stop,1,20500,2"
    )
    market = bars([(20_000, 20_400, 19_900, 20_300), (20_600, 20_900, 20_550, 20_800)])
    _, result = replay(config(venues.BINANCE_USDM, deposit="50000"), market, order_list)
    assert [(t["time"], t["side"], t["price"]) for t in result.trades] == [
        (market.times[1], "buy", Decimal("20600"))  # gapped over the stop: the worse open
    ]


def test_coins_deposited_as_collateral_back_a_cross_short_and_pay_its_loss(tmp_path: Path) -> None:
    import dataclasses

    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,leverage
2025-03-01T00:00:00Z,sell,market,1,20
2025-03-01T03:00:00Z,buy,market,1,""",
    )
    market = bars([FLAT, (20_000, 30_000, 20_000, 30_000), (30_000, 40_000, 30_000, 40_000), (40_000,) * 4])
    venue = venues.BINANCE_USDM.with_overrides(**NO_FEES)
    run = dataclasses.replace(config(venue, mode="cross", deposit="1000"), base_deposit=Decimal("1"))
    _, result = replay(run, market, order_list)
    assert result.liquidations == []  # 1 BTC of collateral hedges the 1 BTC short
    sales = [e for e in result.events if e.kind is EventKind.SELL]
    assert [(e.asset, e.amount, e.counter_amount) for e in sales] == [
        ("BTC", Decimal("0.475"), Decimal("19000"))
    ]
    assert result.final_cash == Decimal("0")
    assert result.final_equity == Decimal("21000")  # 0.525 BTC at 40,000
