"""Read price bars from CSV into plain numpy arrays, the only shape the kernel accepts.

The file format is that of the bundled data: ``timestamp,open,high,low,close[,volume]``,
timestamps ISO-8601 UTC (``2024-01-01T00:00:00Z``), one row per bar, oldest first. Bad rows
raise :class:`~marginbook.domain.errors.InputError` naming the file, the row (header = row 1)
and the column, because a backtest on silently repaired data is a backtest of nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from marginbook.domain.errors import InputError, InputProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close")
_MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class Bars:
    """OHLC bars as parallel arrays.

    Attributes:
        timestamps: bar open times, integer seconds since 1970-01-01 UTC, strictly increasing.
        open: first trade price of each bar.
        high: highest price of each bar.
        low: lowest price of each bar.
        close: last trade price of each bar.
        volume: base-asset volume, zeros when the file has none.
        source: where the bars came from (a file path or ``synthetic``), for messages.
    """

    timestamps: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    source: str = "synthetic"

    def __len__(self) -> int:
        return len(self.close)

    def time_of(self, index: int) -> datetime:
        """The open time of bar ``index`` as an aware UTC datetime."""
        return datetime.fromtimestamp(int(self.timestamps[index]), tz=UTC)

    def slice(self, start: int, stop: int) -> Bars:
        """Bars ``start`` to ``stop - 1`` (copies, so the slice can outlive the original)."""
        return Bars(
            self.timestamps[start:stop].copy(), self.open[start:stop].copy(),
            self.high[start:stop].copy(), self.low[start:stop].copy(),
            self.close[start:stop].copy(), self.volume[start:stop].copy(), self.source,
        )


def bars_from_arrays(
    timestamps: npt.ArrayLike, open_: npt.ArrayLike, high: npt.ArrayLike, low: npt.ArrayLike,
    close: npt.ArrayLike, volume: npt.ArrayLike | None = None, source: str = "synthetic",
) -> Bars:
    """Build validated :class:`Bars` from arrays (timestamps in seconds since the epoch, UTC).

    Raises:
        InputError: for the first rows that break the OHLC rules (see :func:`validate`).
    """
    ts = np.ascontiguousarray(timestamps, dtype=np.int64)
    columns = [np.ascontiguousarray(a, dtype=np.float64) for a in (open_, high, low, close)]
    vol = np.zeros(len(ts)) if volume is None else np.ascontiguousarray(volume, dtype=np.float64)
    bars = Bars(ts, columns[0], columns[1], columns[2], columns[3], vol, source)
    validate(bars)
    return bars


def validate(bars: Bars) -> None:
    """Check what the kernel relies on: positive finite prices, low ≤ open, close ≤ high, time order.

    Raises:
        InputError: listing up to 50 problems, each naming the CSV row (data row 1 = row 2).
    """
    n = len(bars.timestamps)
    if not all(len(a) == n for a in (bars.open, bars.high, bars.low, bars.close, bars.volume)):
        raise InputError(InputProblem(bars.source, None, "", "the price columns differ in length"))
    if n == 0:
        raise InputError(InputProblem(bars.source, None, "", "no bars: the file has a header but no rows"))
    problems: list[InputProblem] = []

    def report(mask: npt.NDArray[np.bool_], field: str, problem: str) -> None:
        for index in np.flatnonzero(mask)[: _MAX_PROBLEMS - len(problems)]:
            problems.append(InputProblem(bars.source, int(index) + 2, field, problem))

    for name in ("open", "high", "low", "close"):
        values = getattr(bars, name)
        report(~np.isfinite(values) | (values <= 0), name, "must be a positive number")
    report(bars.high < np.maximum(bars.open, bars.close), "high", "is below open or close")
    report(bars.low > np.minimum(bars.open, bars.close), "low", "is above open or close")
    report(~np.isfinite(bars.volume) | (bars.volume < 0), "volume", "must not be negative")
    if n > 1:
        report(np.concatenate([[False], np.diff(bars.timestamps) <= 0]), "timestamp",
               "is not after the previous row's (bars must be sorted, oldest first, no duplicates)")
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.field))
        raise InputError(problems[:_MAX_PROBLEMS])


def load_bars(path: str | Path) -> Bars:
    """Read a price CSV (``timestamp,open,high,low,close[,volume]``) with polars.

    Raises:
        InputError: for a missing file or column, an unreadable number or timestamp, or bars
            that break the OHLC rules; each problem names the file, row and column.
    """
    import polars as pl

    source = str(path)
    if not Path(path).is_file():
        raise InputError(InputProblem(source, None, "", "no such file"))
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as error:
        raise InputError(InputProblem(source, None, "", f"not a readable CSV file ({error})")) from None
    header = [name.strip().lower() for name in frame.columns]
    frame.columns = header
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InputError(InputProblem(source, 1, missing[0], "missing column (the header needs "
                                      "timestamp,open,high,low,close and may add volume)"))
    problems: list[InputProblem] = []
    raw_time = frame["timestamp"].str.strip_chars()
    has_zone = raw_time.str.contains(r"(Z|[+-]\d{2}:?\d{2})$")
    parsed_time = raw_time.str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
    # polars reads a time without a zone as UTC; the file format demands the zone be written.
    parsed_time = pl.select(pl.when(has_zone).then(parsed_time).otherwise(None)).to_series()
    _collect_nulls(problems, source, frame["timestamp"], parsed_time, "timestamp",
                   "not an ISO-8601 time with a zone (write 2024-01-01T00:00:00Z)")
    numbers: dict[str, FloatArray] = {}
    for name in ("open", "high", "low", "close", "volume"):
        if name not in header:
            continue
        column = frame[name].str.strip_chars().cast(pl.Float64, strict=False)
        _collect_nulls(problems, source, frame[name], column, name, "not a number")
        numbers[name] = column.fill_null(np.nan).to_numpy().astype(np.float64)
    if problems:
        raise InputError(problems[:_MAX_PROBLEMS])
    seconds = (parsed_time.dt.epoch(time_unit="us").to_numpy() // 1_000_000).astype(np.int64)
    return bars_from_arrays(
        seconds, numbers["open"], numbers["high"], numbers["low"], numbers["close"],
        numbers.get("volume"), source=source,
    )


def _collect_nulls(problems: list[InputProblem], source: str, raw: object, parsed: object,
                   field: str, problem: str) -> None:
    import polars as pl

    assert isinstance(raw, pl.Series) and isinstance(parsed, pl.Series)
    bad = (parsed.is_null()).to_numpy()
    for index in np.flatnonzero(bad)[: _MAX_PROBLEMS - len(problems)]:
        value = raw[int(index)]
        problems.append(InputProblem(source, int(index) + 2, field, f"{problem}, got {value!r}"))


def synthetic_bars(n: int, seed: int = 42, start: int = 1_704_067_200, step: int = 60,
                   volatility: float = 0.001, price: float = 100.0) -> Bars:
    """A lognormal random walk of ``n`` bars, for tests and benchmarks (never committed as data).

    Each bar's close is the previous close times ``exp(N(0, volatility))``; its open is the
    previous close; high and low add a half-normal excursion beyond open and close.
    """
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, volatility, n)))
    open_ = np.empty(n)
    open_[0] = price
    open_[1:] = close[:-1]
    spread = np.abs(rng.normal(0.0, volatility / 2, (2, n)))
    high = np.maximum(open_, close) * (1.0 + spread[0])
    low = np.minimum(open_, close) * (1.0 - spread[1])
    timestamps = start + step * np.arange(n, dtype=np.int64)
    return Bars(timestamps, open_, high, low, close, np.zeros(n), "synthetic")
