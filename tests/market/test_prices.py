"""The fair-market-value look-up: close of the bar containing the moment; missing is an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.domain.errors import InputError
from marginbook.domain.prices import MissingPriceError
from marginbook.market import prices
from marginbook.market.prices import USER, PriceSeries, SeriesPriceSource, default_price_source


@pytest.fixture(autouse=True)
def _no_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINBOOK_PRICES_DIR", str(tmp_path / "user-prices"))
    monkeypatch.setenv("MARGINBOOK_PRICE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def bundled() -> SeriesPriceSource:
    return SeriesPriceSource(prices.bundled_series())


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# Spot-check closes published in data/prices/SOURCES.md (UTC day close, USDT).
@pytest.mark.parametrize(
    ("asset", "day", "close"),
    [
        ("BTC", "2018-12-31", "3702.90"),
        ("BTC", "2020-12-31", "28923.63"),
        ("BTC", "2024-12-31", "93576.00"),
        ("BTC", "2025-12-31", "87648.22"),
        ("ETH", "2018-12-31", "131.45"),
        ("ETH", "2022-12-31", "1196.13"),
        ("ETH", "2025-12-31", "2971.64"),
        ("SOL", "2020-12-31", "1.5073"),
        ("SOL", "2023-12-31", "101.72"),
        ("SOL", "2025-12-31", "124.65"),
    ],
)
def test_last_hour_of_a_day_prices_at_the_published_day_close(
    bundled: SeriesPriceSource, asset: str, day: str, close: str
) -> None:
    # At 23:30 the hourly bar (where there is one) closes with the day, so both rules agree.
    moment = datetime.fromisoformat(day).replace(hour=23, minute=30, tzinfo=UTC)
    assert bundled.usd_price(asset, moment) == Decimal(close)


def test_hourly_bar_is_preferred_over_the_daily_bar(bundled: SeriesPriceSource) -> None:
    quote = bundled.quote("BTC", utc(2024, 3, 2, 14, 5))
    assert quote.rule == "close of the 1h bar opened 2024-03-02T14:00:00+00:00 (USDT taken as USD)"
    assert quote.source.endswith("BTC-USDT_1h.csv") and quote.quote == "USDT"


def test_an_hourly_gap_falls_back_to_the_daily_close(bundled: SeriesPriceSource) -> None:
    # 2018-02-08 00:00 → 2018-02-09 10:00 is missing from the hourly file (SOURCES.md, gaps).
    quote = bundled.quote("BTC", utc(2018, 2, 8, 5))
    assert quote.source.endswith("BTC-USDT_1d.csv")


def test_after_the_hourly_file_ends_the_daily_close_is_used(bundled: SeriesPriceSource) -> None:
    assert bundled.quote("BTC", utc(2025, 6, 1, 12)).rule.startswith("close of the 1d bar opened 2025-06-01")


@pytest.mark.parametrize(
    ("asset", "moment"),
    [
        ("SOL", utc(2020, 8, 10, 23, 59)),
        ("BTC", utc(2026, 1, 1)),
        ("DOGE", utc(2021, 5, 8)),
    ],
)
def test_a_missing_price_names_asset_and_time_and_is_never_zero(
    bundled: SeriesPriceSource, asset: str, moment: datetime
) -> None:
    with pytest.raises(MissingPriceError) as caught:
        bundled.usd_price(asset, moment)
    assert caught.value.asset == asset and caught.value.at == moment
    assert asset in str(caught.value) and moment.isoformat() in str(caught.value)


def test_usd_and_stablecoins_are_one(bundled: SeriesPriceSource) -> None:
    assert bundled.usd_price("USD", utc(2010, 1, 1)) == 1
    assert bundled.usd_price("usdc", utc(2023, 3, 11)) == 1


def test_a_naive_time_is_refused(bundled: SeriesPriceSource) -> None:
    with pytest.raises(ValueError, match="timezone"):
        bundled.usd_price("BTC", datetime(2024, 1, 1))


def _write_bars(path: Path, bars: list[tuple[str, str]]) -> Path:
    path.write_text(
        "timestamp,open,high,low,close,volume\n" + "".join(f"{t},{c},{c},{c},{c},1\n" for t, c in bars),
        encoding="utf-8",
    )
    return path


def test_user_files_come_before_bundled_data_and_can_price_a_stablecoin(tmp_path: Path) -> None:
    user_dir = tmp_path / "user-prices"
    user_dir.mkdir()
    _write_bars(user_dir / "BTC-USD_1d.csv", [("2024-03-02T00:00:00Z", "62000.5")])
    _write_bars(user_dir / "USDT-USD_1d.csv", [("2020-03-12T00:00:00Z", "1.0123")])
    source = default_price_source()
    assert source.quote("BTC", utc(2024, 3, 2, 14, 5)).usd == Decimal("62000.5")
    assert source.quote("BTC", utc(2024, 3, 3, 14, 5)).source.endswith("BTC-USDT_1h.csv")
    assert source.usd_price("USDT", utc(2020, 3, 12, 9)) == Decimal("1.0123")
    assert source.usd_price("USDT", utc(2020, 3, 13, 9)) == 1


def test_a_bar_contains_its_open_and_not_its_end(tmp_path: Path) -> None:
    path = _write_bars(
        tmp_path / "ETH-USD_1h.csv", [("2024-01-01T00:00:00Z", "10"), ("2024-01-01T02:00:00Z", "12")]
    )
    source = SeriesPriceSource([PriceSeries.from_file_name(path)])  # type: ignore[list-item]
    assert source.usd_price("ETH", utc(2024, 1, 1, 0)) == 10
    assert source.usd_price("ETH", utc(2024, 1, 1, 0, 59, 59)) == 10
    with pytest.raises(MissingPriceError):
        source.usd_price("ETH", utc(2024, 1, 1, 1))  # the 01:00 bar is missing: no neighbour stands in
    assert source.usd_price("ETH", utc(2024, 1, 1, 2, 30)) == 12


def test_a_malformed_price_file_names_file_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "ETH-USD_1d.csv"
    path.write_text(
        "timestamp,open,high,low,close\n2024-01-01T00:00:00Z,1,1,1,5\n2024-01-02T00:00:00Z,1,1,1,0\n"
        "later,1,1,1,1\n2023-12-31T00:00:00Z,1,1,1,2\n",
        encoding="utf-8",
    )
    source = SeriesPriceSource([PriceSeries.from_file_name(path)])  # type: ignore[list-item]
    with pytest.raises(InputError) as caught:
        source.usd_price("ETH", utc(2024, 1, 1))
    assert [(p.source, p.row, p.field) for p in caught.value.problems] == [
        (str(path), 3, "close"), (str(path), 4, "timestamp"), (str(path), 5, "timestamp"),
    ]


def test_file_names_give_asset_quote_and_bar() -> None:
    series = PriceSeries.from_file_name(Path("sol-usdc_15m_2024.csv"))
    assert series is not None and (series.base, series.quote, series.bar, series.origin) == (
        "SOL",
        "USDC",
        900,
        USER,
    )
    assert PriceSeries.from_file_name(Path("prices.csv")) is None


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.integers(1, 3), min_size=1, max_size=30),
    offset=st.integers(-2 * 3600, 80 * 3600),
)
def test_bisection_agrees_with_a_linear_scan(
    tmp_path_factory: pytest.TempPathFactory, gaps: list[int], offset: int
) -> None:
    start = utc(2024, 1, 1)
    opens, moment_hours = [], 0
    for gap in gaps:
        opens.append(start + timedelta(hours=moment_hours))
        moment_hours += gap
    path = _write_bars(
        tmp_path_factory.mktemp("p") / "XRP-USD_1h.csv",
        [(o.isoformat(), f"{i + 1}.5") for i, o in enumerate(opens)],
    )
    source = SeriesPriceSource([PriceSeries.from_file_name(path)])  # type: ignore[list-item]
    moment = start + timedelta(seconds=offset)
    expected = next(
        (Decimal(f"{i + 1}.5") for i, o in enumerate(opens) if o <= moment < o + timedelta(hours=1)), None
    )
    if expected is None:
        with pytest.raises(MissingPriceError):
            source.usd_price("XRP", moment)
    else:
        assert source.usd_price("XRP", moment) == expected
