"""The live feed against a local fake exchange: closed bars only, in order, with reconnects.

No network: the fake answers ``fetch_ohlcv`` from a scripted list and its clock moves only
when the feed sleeps.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from marginbook.domain.errors import InputError, MarginbookError
from marginbook.margin import venues
from marginbook.margin.live import PollingFeed, make_exchange
from marginbook.margin.paper import run_live

from .helpers import config, orders

MINUTE_MS = 60_000
T0 = 1_740_787_200_000  # 2025-03-01T00:00:00Z


class FakeExchange:
    """Serves one-minute candles up to its clock; fails on the calls it is told to."""

    def __init__(self, prices: list[float], failing_calls: set[int] | None = None) -> None:
        self.candles = [[T0 + i * MINUTE_MS, p, p * 1.01, p * 0.99, p, 1.0] for i, p in enumerate(prices)]
        self.now = T0 + 30_000
        self.calls = 0
        self.failing_calls = failing_calls or set()
        self.slept: list[float] = []

    def milliseconds(self) -> int:
        return self.now

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None
    ):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls in self.failing_calls:
            raise ccxt.NetworkError("connection reset by peer")
        start = since or 0
        return [c for c in self.candles if start <= c[0] <= self.now][: limit or 500]

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += int(seconds * 1000)


def _take(feed: PollingFeed, count: int) -> list:  # type: ignore[type-arg]
    out = []
    for bar in feed.bars():
        out.append(bar)
        if len(out) == count:
            break
    return out


def test_feed_yields_each_closed_bar_once_in_order_and_never_a_forming_one() -> None:
    exchange = FakeExchange([100.0 + i for i in range(20)])
    feed = PollingFeed(exchange, "BTC/USDT", "1m", poll_seconds=10, sleep=exchange.sleep)
    seen = []
    for bar in feed.bars():
        assert bar.epoch * 1000 + MINUTE_MS <= exchange.now  # closed when delivered
        seen.append(bar)
        if len(seen) == 5:
            break
    assert [b.epoch * 1000 for b in seen] == [T0 + i * MINUTE_MS for i in range(5)]
    assert [b.close for b in seen] == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert feed.reconnects == 0


def test_feed_reconnects_with_exponential_backoff_and_loses_nothing() -> None:
    exchange = FakeExchange([100.0 + i for i in range(20)], failing_calls={2, 3, 4})
    feed = PollingFeed(exchange, "BTC/USDT", "1m", poll_seconds=10, base_delay=1.0, sleep=exchange.sleep)
    bars = _take(feed, 4)
    assert [b.close for b in bars] == [100.0, 101.0, 102.0, 103.0]
    assert feed.reconnects == 3
    backoffs = [s for s in exchange.slept if s != 10]
    assert backoffs == [1.0, 2.0, 4.0]


def test_feed_gives_up_after_too_many_failures_in_a_row() -> None:
    exchange = FakeExchange([100.0] * 5, failing_calls=set(range(1, 100)))
    feed = PollingFeed(exchange, "BTC/USDT", "1m", max_failures=4, sleep=exchange.sleep)
    with pytest.raises(MarginbookError, match="4 failures in a row"):
        _take(feed, 1)
    assert exchange.slept == [1.0, 2.0, 4.0]


def test_paper_run_on_the_live_feed_trades_through_the_engine(tmp_path: Path) -> None:
    prices = [20_000.0, 20_100.0, 20_300.0, 20_600.0, 21_000.0, 21_500.0, 22_000.0, 22_600.0]
    exchange = FakeExchange(prices)
    feed = PollingFeed(exchange, "BTC/USDT", "1m", poll_seconds=5, sleep=exchange.sleep)
    order_list = orders(
        tmp_path,
        """timestamp,side,type,quantity,price,leverage
2025-03-01T00:00:00Z,buy,market,0.5,,5
2025-03-01T00:00:00Z,sell,take_profit,0.5,21000,""",
    )
    result = run_live(config(venues.BINANCE_USDM), order_list, feed, max_bars=6)
    assert result.bars == 6
    assert [t["reason"] for t in result.trades] == ["market", "take_profit"]
    assert result.trades[1]["price"] == Decimal("21000")
    assert result.final_cash == result.final_equity


def test_unknown_exchange_id_is_bad_input() -> None:
    with pytest.raises(InputError, match="unknown ccxt exchange"):
        make_exchange("no-such-exchange")


class TickingExchange(FakeExchange):
    """A fake whose clock moves a minute every time it is read (no real sleeping needed)."""

    def milliseconds(self) -> int:
        self.now += MINUTE_MS
        return self.now


def test_paper_live_command_runs_on_a_fake_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from marginbook.cli.main import app
    from marginbook.margin import live

    exchange = TickingExchange([20_000.0 + 50 * i for i in range(30)])
    monkeypatch.setattr(live, "make_exchange", lambda exchange_id: exchange)
    orders_file = tmp_path / "orders.csv"
    orders_file.write_text("timestamp,side,type,quantity,leverage\n2025-03-01T00:00:00Z,buy,market,0.1,2\n")
    ledger = tmp_path / "live.csv"
    result = CliRunner().invoke(
        app,
        [
            "paper",
            "--venue",
            "bybit-linear",
            "--orders",
            str(orders_file),
            "--live",
            "--exchange",
            "fake",
            "--symbol",
            "BTC/USDT",
            "--max-bars",
            "3",
            "--format",
            "json",
            "--export-ledger",
            str(ledger),
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bars"] == 3
    assert document["base"] == "BTC"
    assert [t["side"] for t in document["trades"]] == ["buy"]
    assert ledger.read_text().count("\n") == document["events"] + 1
