"""Price bars with the indicators the Positions page draws: Bollinger bands and RSI.

Charts are for the eye, so bars are floats here (a numeric kernel's right, STYLE §9); nothing
computed in this module reaches the ledger or a tax figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from marginbook.domain.errors import InputError, InputProblem

FloatArray = npt.NDArray[np.float64]
COLUMNS = ("timestamp", "open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class Candles:
    """OHLC bars with their indicators, oldest first.

    Attributes:
        source: the file the bars came from.
        time: bar open times (UTC).
        open, high, low, close: prices.
        bb_upper, bb_middle, bb_lower: Bollinger bands (20 bars, 2 σ); NaN until the window fills.
        rsi: Wilder's RSI (14 bars); NaN until the window fills.
    """

    source: str
    time: list[datetime]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    bb_upper: FloatArray
    bb_middle: FloatArray
    bb_lower: FloatArray
    rsi: FloatArray

    def tail(self, bars: int) -> Candles:
        """The last ``bars`` bars (indicators computed on the whole history, then cut)."""
        cut = slice(max(len(self.time) - bars, 0), None)
        return Candles(
            self.source,
            self.time[cut],
            self.open[cut],
            self.high[cut],
            self.low[cut],
            self.close[cut],
            self.bb_upper[cut],
            self.bb_middle[cut],
            self.bb_lower[cut],
            self.rsi[cut],
        )


def _indicators(close: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    try:
        from marginbook.indicators import bollinger, rsi  # type: ignore[import-not-found,unused-ignore]

        bands = bollinger(close, 20, 2.0)
        return bands.upper, bands.middle, bands.lower, rsi(close, 14)
    except ImportError:
        import talib

        upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
        return (
            np.asarray(upper),
            np.asarray(middle),
            np.asarray(lower),
            np.asarray(talib.RSI(close, timeperiod=14)),
        )


@lru_cache(maxsize=4)
def _load(path_text: str, modified_ns: int) -> Candles:
    import polars as pl

    path = Path(path_text)
    try:
        frame = pl.read_csv(path, try_parse_dates=False)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise InputError(InputProblem(str(path), None, "", f"cannot read price file: {error}")) from None
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise InputError(InputProblem(str(path), 1, missing[0], "column missing from the price file"))
    times = frame["timestamp"].str.to_datetime(time_zone="UTC", strict=False)
    if times.null_count():
        row = int(times.is_null().arg_max() or 0) + 2
        raise InputError(InputProblem(str(path), row, "timestamp", "not an ISO-8601 time"))
    values = {name: frame[name].cast(pl.Float64).to_numpy() for name in COLUMNS[1:]}
    close = np.ascontiguousarray(values["close"])
    upper, middle, lower, rsi = _indicators(close)
    return Candles(
        str(path),
        list(times.to_list()),
        values["open"],
        values["high"],
        values["low"],
        close,
        upper,
        middle,
        lower,
        rsi,
    )


def load_candles(path: Path) -> Candles:
    """Read an OHLCV CSV (``timestamp,open,high,low,close[,volume]``) and compute the indicators.

    Cached per file and modification time, so a page view does not re-read the file.

    Raises:
        InputError: naming the file (and row and column) when it cannot be read.
    """
    return _load(str(path), path.stat().st_mtime_ns)
