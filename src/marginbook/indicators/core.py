"""The indicators the built-in strategies use: SMA, EMA, RSI, Bollinger bands, ATR.

Each function takes one-dimensional float64 arrays (anything else is converted once, so the
TA-Lib C code sees contiguous doubles) and returns float64 arrays of the same length. The
first ``period - 1`` values (``period`` for RSI and ATR) are ``NaN``: an indicator is not
defined before its window is full, and a strategy must not trade on a half-filled window.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import talib

FloatArray = npt.NDArray[np.float64]


class BollingerBands(NamedTuple):
    """Bollinger bands: a moving average and bands ``k`` standard deviations around it.

    Attributes:
        upper: middle + k · population standard deviation over the window.
        middle: the simple moving average.
        lower: middle − k · population standard deviation.
    """

    upper: FloatArray
    middle: FloatArray
    lower: FloatArray


def _prices(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array, got {array.ndim} dimensions")
    return array


def _period(period: int, minimum: int = 2) -> int:
    if isinstance(period, bool) or int(period) != period or period < minimum:
        raise ValueError(f"period must be an integer of at least {minimum}, got {period!r}")
    return int(period)


def sma(close: npt.ArrayLike, period: int) -> FloatArray:
    """Simple moving average of the last ``period`` values.

    Raises:
        ValueError: when ``period`` is below 2 or ``close`` is not one-dimensional.
    """
    return np.asarray(talib.SMA(_prices(close, "close"), timeperiod=_period(period)))


def ema(close: npt.ArrayLike, period: int) -> FloatArray:
    """Exponential moving average, smoothing ``2 / (period + 1)``, seeded with the first SMA.

    Raises:
        ValueError: when ``period`` is below 2 or ``close`` is not one-dimensional.
    """
    return np.asarray(talib.EMA(_prices(close, "close"), timeperiod=_period(period)))


def rsi(close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Wilder's relative strength index, 0 to 100.

    Raises:
        ValueError: when ``period`` is below 2 or ``close`` is not one-dimensional.
    """
    return np.asarray(talib.RSI(_prices(close, "close"), timeperiod=_period(period)))


def bollinger(close: npt.ArrayLike, period: int = 20, k: float = 2.0) -> BollingerBands:
    """Bollinger bands around the ``period``-bar SMA, ``k`` standard deviations wide.

    Raises:
        ValueError: when ``period`` is below 2, ``k`` is not positive, or ``close`` is not
            one-dimensional.
    """
    if not k > 0:
        raise ValueError(f"k must be positive, got {k!r}")
    upper, middle, lower = talib.BBANDS(
        _prices(close, "close"), timeperiod=_period(period), nbdevup=float(k), nbdevdn=float(k),
        matype=0,  # type: ignore[arg-type]  # 0 is MA_Type.SMA, which talib does not re-export
    )
    return BollingerBands(np.asarray(upper), np.asarray(middle), np.asarray(lower))


def atr(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Wilder's average true range: how far price typically travels in one bar.

    Raises:
        ValueError: when ``period`` is below 1, the arrays differ in length, or one is not
            one-dimensional.
    """
    h, lo, c = _prices(high, "high"), _prices(low, "low"), _prices(close, "close")
    if not len(h) == len(lo) == len(c):
        raise ValueError(f"high, low and close differ in length: {len(h)}, {len(lo)}, {len(c)}")
    return np.asarray(talib.ATR(h, lo, c, timeperiod=_period(period, minimum=1)))
