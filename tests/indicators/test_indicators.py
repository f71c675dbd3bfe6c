"""The indicator wrappers return TA-Lib's numbers, which must match the textbook definitions.

Each indicator is checked against an independent, deliberately plain numpy implementation
of its published definition (Wilder, 1978, for RSI and ATR; Bollinger's population standard
deviation), so a wrong parameter passed to TA-Lib (period, deviation, MA type) shows up.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from marginbook.indicators import atr, bollinger, ema, rsi, sma


def _walk(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n))))


def _plain_sma(x: np.ndarray, period: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for i in range(period - 1, len(x)):
        out[i] = x[i - period + 1 : i + 1].mean()
    return out


def _wilder(values: np.ndarray, period: int, first: int) -> np.ndarray:
    """Wilder's smoothing: seed with the mean of ``period`` values starting at ``first``."""
    out = np.full(len(values), np.nan)
    seed_end = first + period
    out[seed_end - 1] = values[first:seed_end].mean()
    for i in range(seed_end, len(values)):
        out[i] = (out[i - 1] * (period - 1) + values[i]) / period
    return out


def test_sma_is_the_window_mean() -> None:
    close = _walk(300)
    np.testing.assert_allclose(sma(close, 20), _plain_sma(close, 20), rtol=1e-12, equal_nan=True)


def test_sma_worked_example() -> None:
    # 3-bar SMA of 1..6: undefined twice, then 2, 3, 4, 5.
    result = sma(np.arange(1.0, 7.0), 3)
    assert np.isnan(result[:2]).all()
    assert result[2:].tolist() == [2.0, 3.0, 4.0, 5.0]


def test_ema_follows_the_recurrence_seeded_by_the_sma() -> None:
    close, period = _walk(200), 10
    alpha = 2.0 / (period + 1)
    expected = np.full(len(close), np.nan)
    expected[period - 1] = close[:period].mean()
    for i in range(period, len(close)):
        expected[i] = alpha * close[i] + (1 - alpha) * expected[i - 1]
    np.testing.assert_allclose(ema(close, period), expected, rtol=1e-12, equal_nan=True)


def test_rsi_is_wilders_definition() -> None:
    close, period = _walk(400), 14
    change = np.diff(close)
    gains = np.concatenate([[np.nan], np.where(change > 0, change, 0.0)])
    losses = np.concatenate([[np.nan], np.where(change < 0, -change, 0.0)])
    avg_gain, avg_loss = _wilder(gains, period, 1), _wilder(losses, period, 1)
    expected = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    np.testing.assert_allclose(rsi(close, period), expected, rtol=1e-9, equal_nan=True)


def test_rsi_of_a_rising_series_is_100_and_of_a_falling_one_is_0() -> None:
    assert rsi(np.arange(1.0, 40.0), 14)[-1] == pytest.approx(100.0)
    assert rsi(np.arange(40.0, 1.0, -1.0), 14)[-1] == pytest.approx(0.0)


def test_bollinger_uses_population_deviation_around_the_sma() -> None:
    close, period, k = _walk(250), 20, 2.5
    bands = bollinger(close, period, k)
    middle = _plain_sma(close, period)
    deviation = np.full(len(close), np.nan)
    for i in range(period - 1, len(close)):
        deviation[i] = close[i - period + 1 : i + 1].std(ddof=0)
    np.testing.assert_allclose(bands.middle, middle, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(bands.upper, middle + k * deviation, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(bands.lower, middle - k * deviation, rtol=1e-9, equal_nan=True)


def test_atr_is_wilder_smoothed_true_range() -> None:
    close = _walk(300, seed=3)
    rng = np.random.default_rng(5)
    high = close * (1 + rng.uniform(0, 0.02, len(close)))
    low = close * (1 - rng.uniform(0, 0.02, len(close)))
    previous = np.concatenate([[np.nan], close[:-1]])
    true_range = np.maximum.reduce([high - low, np.abs(high - previous), np.abs(low - previous)])
    expected = _wilder(true_range, 14, 1)
    np.testing.assert_allclose(atr(high, low, close, 14), expected, rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("period", [1, 0, -3, 2.5])
def test_bad_period_is_refused(period: float) -> None:
    with pytest.raises(ValueError, match="period"):
        sma(_walk(50), period)  # type: ignore[arg-type]


def test_two_dimensional_input_is_refused() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        rsi(np.ones((3, 3)))


def test_atr_refuses_arrays_of_different_length() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        atr(np.ones(5), np.ones(4), np.ones(5))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(30, 120), elements=st.floats(1.0, 1e6)))
def test_rsi_stays_within_0_and_100_and_bands_are_ordered(close: np.ndarray) -> None:
    value = rsi(close, 14)
    defined = value[~np.isnan(value)]
    assert ((defined >= 0.0) & (defined <= 100.0 + 1e-9)).all()
    bands = bollinger(close, 20, 2.0)
    ok = ~np.isnan(bands.middle)
    # TA-Lib's running sums can leave a tiny negative variance on flat windows: allow ulp noise.
    tolerance = 1e-9 * np.abs(bands.middle[ok])
    assert (bands.upper[ok] >= bands.middle[ok] - tolerance).all()
    assert (bands.middle[ok] >= bands.lower[ok] - tolerance).all()
