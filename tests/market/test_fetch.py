"""Downloading bars into the price cache, offline through a recorded exchange, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from marginbook.cli.main import app
from marginbook.domain.errors import InputError
from marginbook.domain.prices import MissingPriceError
from marginbook.market import fetch
from marginbook.market.prices import PriceSeries, SeriesPriceSource

DAY_MS = 86_400_000
START_MS = 1_502_928_000_000  # 2017-08-17T00:00:00Z, the first bar of the bundled BTC file
# Binance BTC/USDT daily bars as ccxt returns them (floats), from data/prices/BTC-USDT_1d.csv.
RECORDED = [
    [START_MS, 4261.48, 4485.39, 4200.74, 4285.08, 795.150377],
    [START_MS + DAY_MS, 4285.08, 4371.52, 3938.77, 4108.37, 1199.888264],
    [START_MS + 2 * DAY_MS, 4108.37, 4184.69, 3850.0, 4139.98, 381.309763],
    [START_MS + 3 * DAY_MS, 4120.98, 4211.08, 4032.62, 4086.29, 467.083022],
]


class RecordedExchange:
    """Serves recorded bars page by page, like ccxt's fetch_ohlcv with since and limit."""

    id = "binance"

    def __init__(self, bars: list[list[Any]]) -> None:
        self.bars = bars
        self.calls: list[tuple[int | None, int | None]] = []

    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[list[Any]]:
        self.calls.append((since, limit))
        chosen = [bar for bar in self.bars if since is None or bar[0] >= since]
        return chosen[: limit or len(chosen)]


def test_fetch_pages_through_and_writes_exact_decimal_text(tmp_path: Path) -> None:
    exchange = RecordedExchange(RECORDED)
    now = datetime(2017, 8, 20, 12, tzinfo=UTC)  # the 2017-08-20 bar is still forming
    bars = fetch.fetch_bars(
        exchange, "BTC/USDT", "1d", datetime(2017, 8, 17, tzinfo=UTC), now=now, page_limit=2
    )
    assert [bar[0] for bar in bars] == [
        "2017-08-17T00:00:00Z",
        "2017-08-18T00:00:00Z",
        "2017-08-19T00:00:00Z",
    ]
    assert bars[0] == ("2017-08-17T00:00:00Z", "4261.48", "4485.39", "4200.74", "4285.08", "795.150377")
    assert bars[2][3] == "3850"
    assert exchange.calls[:2] == [(START_MS, 2), (START_MS + 2 * DAY_MS, 2)]


def test_cache_merge_is_idempotent_and_readable_by_the_price_lookup(tmp_path: Path) -> None:
    target = fetch.cache_file(tmp_path, "BTC/USDT", "1d")
    assert target.name == "BTC-USDT_1d.csv"
    now = datetime(2017, 8, 25, tzinfo=UTC)
    first = fetch.fetch_bars(
        RecordedExchange(RECORDED[:2]), "BTC/USDT", "1d", datetime(2017, 8, 17, tzinfo=UTC), now=now
    )
    assert fetch.merge_into_cache(target, first) == 2
    everything = fetch.fetch_bars(
        RecordedExchange(RECORDED), "BTC/USDT", "1d", datetime(2017, 8, 17, tzinfo=UTC), now=now
    )
    assert fetch.merge_into_cache(target, everything) == 4
    once = target.read_text()
    assert fetch.merge_into_cache(target, everything) == 4
    assert target.read_text() == once
    source = SeriesPriceSource([PriceSeries.from_file_name(target)])  # type: ignore[list-item]
    assert source.usd_price("BTC", datetime(2017, 8, 19, 15, tzinfo=UTC)) == Decimal("4139.98")


def test_a_symbol_that_is_not_base_quote_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="BASE/QUOTE"):
        fetch.cache_file(tmp_path, "BTCUSDT", "1d")


def test_an_unknown_exchange_is_bad_input() -> None:
    with pytest.raises(InputError, match="no exchange 'nosuchex'"):
        fetch.public_exchange("nosuchex")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARGINBOOK_PRICES_DIR", str(tmp_path / "user"))
    monkeypatch.setenv("MARGINBOOK_PRICE_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_cli_prices_fetch_then_show(folders: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bars = [
        [int(datetime(2025, 11, 2, tzinfo=UTC).timestamp()) * 1000, 30000.5, 31000.0, 29000.0, 30500.25, 12.5]
    ]
    monkeypatch.setattr(fetch, "public_exchange", lambda exchange_id: RecordedExchange(bars))
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "prices",
            "fetch",
            "--exchange",
            "binance",
            "--symbol",
            "DOGE/USDT",
            "--since",
            "2025-11-01",
            "--until",
            "2025-11-05",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (folders / "cache" / "DOGE-USDT_1d.csv").exists()
    shown = runner.invoke(app, ["prices", "show", "DOGE", "--at", "2025-11-02T10:00:00Z", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["usd"] == "30500.25" and document["quote"] == "USDT"
    assert document["rule"] == "close of the 1d bar opened 2025-11-02T00:00:00+00:00 (USDT taken as USD)"


def test_cli_prices_show_a_missing_price_is_an_error(folders: Path) -> None:
    result = CliRunner().invoke(app, ["prices", "show", "DOGE", "--at", "2021-05-08"])
    assert isinstance(result.exception, MissingPriceError)
    assert "DOGE" in str(result.exception) and "2021-05-08" in str(result.exception)
