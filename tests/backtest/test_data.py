"""Price files load into arrays exactly, and bad rows are named by file, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from marginbook.backtest.data import load_bars, synthetic_bars
from marginbook.domain.errors import InputError

FIXTURE = Path(__file__).parent / "fixtures" / "BTC-USDT_1d_2021-10_2022-07.csv"


def test_real_btc_slice_loads_with_its_published_prices() -> None:
    bars = load_bars(FIXTURE)
    assert len(bars) == 304
    assert bars.time_of(0).isoformat() == "2021-10-01T00:00:00+00:00"
    # 2021-12-31 close, as spot-checked in the data's SOURCES.md: 46,216.93.
    index = int(np.flatnonzero(bars.timestamps == 1_640_908_800)[0])
    assert bars.close[index] == 46_216.93
    assert (np.diff(bars.timestamps) == 86_400).all()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_number_names_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n"
                            "2024-01-02T00:00:00Z,1.5,abc,1,1.2\n")
    with pytest.raises(InputError) as error:
        load_bars(path)
    assert str(error.value).startswith(f"{path}:3: high: not a number")


def test_timestamp_without_zone_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,open,high,low,close\n2024-01-01 00:00:00,1,2,0.5,1.5\n")
    with pytest.raises(InputError, match=r":2: timestamp: not an ISO-8601 time with a zone"):
        load_bars(path)


def test_high_below_close_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,open,high,low,close\n2024-01-01T00:00:00Z,1,1.2,0.5,1.5\n")
    with pytest.raises(InputError, match=r":2: high: is below open or close"):
        load_bars(path)


def test_unsorted_rows_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,open,high,low,close\n2024-01-02T00:00:00Z,1,2,0.5,1.5\n"
                            "2024-01-01T00:00:00Z,1,2,0.5,1.5\n")
    with pytest.raises(InputError, match=r":3: timestamp: is not after the previous row"):
        load_bars(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,open,high,close\n2024-01-01T00:00:00Z,1,2,1.5\n")
    with pytest.raises(InputError, match=r":1: low: missing column"):
        load_bars(path)


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,open,high,low,close\n2024-01-01T00:00:00Z,-1,2,0.5,1.5\n"
                            "2024-01-02T00:00:00Z,1,2,0.5,0\n")
    with pytest.raises(InputError) as error:
        load_bars(path)
    assert {(p.row, p.field) for p in error.value.problems} >= {(2, "open"), (3, "close")}


def test_synthetic_bars_are_reproducible_and_consistent() -> None:
    a, b = synthetic_bars(1_000, seed=3), synthetic_bars(1_000, seed=3)
    assert np.array_equal(a.close, b.close)
    assert (a.high >= np.maximum(a.open, a.close)).all() and (a.low <= np.minimum(a.open, a.close)).all()
    assert np.array_equal(a.open[1:], a.close[:-1])
