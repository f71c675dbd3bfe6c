"""Strategies: functions from bars and parameters to signal arrays.

A strategy never touches money. It says, for each bar, what it wants after that bar's close:
enter long, enter short, leave a long, leave a short. The kernel turns those wishes into
orders that fill at the next bar's open, and the margin rules decide what really happens.

Built-in strategies (parameters with defaults; ``--param K=V`` on the command line):

``sma-cross``
    ``fast=20``, ``slow=100``, ``short=1``. Enter long when the fast SMA crosses above the
    slow one, enter short (when ``short=1``) when it crosses below; the opposite cross
    closes the position and reverses it.
``rsi``
    ``period=14``, ``lower=30``, ``upper=70``, ``short=0``. Enter long when RSI crosses below
    ``lower`` (oversold), leave when it crosses above ``upper``. With ``short=1``, also enter
    short when RSI crosses above ``upper`` and leave when it crosses below ``lower``.
``bollinger``
    ``period=20``, ``k=2``, ``breakout=0``, ``short=0``. Mean reversion (``breakout=0``):
    enter long when the close falls below the lower band, leave when it reaches the middle;
    short mirror-wise from the upper band. Breakout (``breakout=1``): enter long when the
    close rises above the upper band, leave when it falls back below the middle; short
    mirror-wise below the lower band.

User strategies: any function ``f(bars: Bars, params: dict[str, float]) -> Signals``, named
on the command line as ``module:function`` or ``path/to/file.py:function`` (see
``docs/backtest.md``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from marginbook.backtest.data import Bars
from marginbook.domain.errors import InputError, InputProblem
from marginbook.indicators import bollinger, rsi, sma

BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]

LONG = 1
SHORT = -1


@dataclass(frozen=True, slots=True)
class Signals:
    """What a strategy wants after each bar's close; all arrays have one value per bar.

    Attributes:
        entries: ``+1`` enter long, ``-1`` enter short, ``0`` nothing. An entry against an
            open position closes it first (a reversal); an entry in the direction already
            held is ignored (no pyramiding).
        exit_long: leave an open long.
        exit_short: leave an open short.
    """

    entries: Int8Array
    exit_long: BoolArray
    exit_short: BoolArray

    @classmethod
    def from_arrays(cls, entries: npt.ArrayLike, exit_long: npt.ArrayLike | None = None,
                    exit_short: npt.ArrayLike | None = None) -> Signals:
        """Build signals from any array-likes (missing exits = never), checking their values.

        Raises:
            ValueError: when ``entries`` holds values other than -1, 0, 1 or lengths differ.
        """
        raw = np.asarray(entries)
        if raw.ndim != 1:
            raise ValueError("entries must be a one-dimensional array")
        if not np.isin(raw, (-1, 0, 1)).all():
            raise ValueError("entries may only hold -1 (short), 0 (nothing) and 1 (long)")
        n = len(raw)
        longs = np.zeros(n, np.bool_) if exit_long is None else np.asarray(exit_long, dtype=np.bool_)
        shorts = np.zeros(n, np.bool_) if exit_short is None else np.asarray(exit_short, dtype=np.bool_)
        if len(longs) != n or len(shorts) != n:
            raise ValueError(f"signal arrays differ in length: {n}, {len(longs)}, {len(shorts)}")
        return cls(np.ascontiguousarray(raw, dtype=np.int8), np.ascontiguousarray(longs),
                   np.ascontiguousarray(shorts))


StrategyFunction = Callable[[Bars, Mapping[str, float]], Signals]


@dataclass(frozen=True, slots=True)
class Strategy:
    """A named strategy with its parameters' defaults (all numbers; flags are 0 or 1)."""

    name: str
    function: StrategyFunction
    defaults: Mapping[str, float]
    summary: str

    def signals(self, bars: Bars, params: Mapping[str, float] | None = None) -> Signals:
        """Run the strategy with its defaults overridden by ``params``.

        Raises:
            InputError: for a parameter the strategy does not have.
        """
        given = dict(params or {})
        if self.defaults:
            unknown = sorted(set(given) - set(self.defaults))
            if unknown:
                raise InputError(InputProblem("--param", None, unknown[0],
                                              f"{self.name} has no such parameter "
                                              f"(it has {', '.join(sorted(self.defaults))})"))
        result = self.function(bars, {**self.defaults, **given})
        if not isinstance(result, Signals):
            raise TypeError(f"strategy {self.name} returned {type(result).__name__}, not Signals")
        if len(result.entries) != len(bars):
            count = len(result.entries)
            raise ValueError(f"strategy {self.name} returned {count} signals for {len(bars)} bars")
        return result


def crossed_above(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> BoolArray:
    """True on the bars where ``a`` moves from at or below ``b`` to above it (NaN never crosses)."""
    above = a > b
    result = np.zeros(len(a), np.bool_)
    result[1:] = above[1:] & (a[:-1] <= b[:-1])
    return result


def _flag(params: Mapping[str, float], name: str) -> bool:
    value = params[name]
    if value not in (0, 1):
        raise InputError(InputProblem("--param", None, name, f"must be 0 or 1, got {value:g}"))
    return bool(value)


def _int_param(params: Mapping[str, float], name: str, minimum: int = 2) -> int:
    value = params[name]
    if value != int(value) or value < minimum:
        problem = f"must be a whole number ≥ {minimum}, got {value:g}"
        raise InputError(InputProblem("--param", None, name, problem))
    return int(value)


def sma_cross(bars: Bars, params: Mapping[str, float]) -> Signals:
    """Moving-average cross: long on the fast SMA crossing above the slow, short on the reverse."""
    fast, slow = _int_param(params, "fast"), _int_param(params, "slow")
    if fast >= slow:
        raise InputError(InputProblem("--param", None, "fast", f"must be below slow ({fast} ≥ {slow})"))
    fast_line, slow_line = sma(bars.close, fast), sma(bars.close, slow)
    up, down = crossed_above(fast_line, slow_line), crossed_above(slow_line, fast_line)
    entries = up.astype(np.int8)
    if _flag(params, "short"):
        entries[down] = SHORT
    return Signals(entries, down, up)


def rsi_thresholds(bars: Bars, params: Mapping[str, float]) -> Signals:
    """RSI: enter long when RSI falls through ``lower``, leave when it rises through ``upper``."""
    lower, upper = float(params["lower"]), float(params["upper"])
    if not 0 < lower < upper < 100:
        raise InputError(InputProblem("--param", None, "lower", "need 0 < lower < upper < 100"))
    value = rsi(bars.close, _int_param(params, "period"))
    lower_line, upper_line = np.full(len(value), lower), np.full(len(value), upper)
    into_oversold = crossed_above(lower_line, value)
    into_overbought = crossed_above(value, upper_line)
    entries = into_oversold.astype(np.int8)
    if _flag(params, "short"):
        entries[into_overbought] = SHORT
    return Signals(entries, into_overbought, into_oversold)


def bollinger_bands(bars: Bars, params: Mapping[str, float]) -> Signals:
    """Bollinger bands, mean reversion (default) or breakout (``breakout=1``)."""
    bands = bollinger(bars.close, _int_param(params, "period"), float(params["k"]))
    close = bars.close
    above_upper, below_lower = crossed_above(close, bands.upper), crossed_above(bands.lower, close)
    if _flag(params, "breakout"):
        long_in, short_in = above_upper, below_lower
        long_out, short_out = crossed_above(bands.middle, close), crossed_above(close, bands.middle)
    else:
        long_in, short_in = below_lower, above_upper
        long_out, short_out = crossed_above(close, bands.middle), crossed_above(bands.middle, close)
    entries = long_in.astype(np.int8)
    if _flag(params, "short"):
        entries[short_in] = SHORT
    return Signals(entries, long_out, short_out)


BUILTIN: dict[str, Strategy] = {
    "sma-cross": Strategy("sma-cross", sma_cross, {"fast": 20, "slow": 100, "short": 1},
                          "SMA cross: long above, short below"),
    "rsi": Strategy("rsi", rsi_thresholds, {"period": 14, "lower": 30, "upper": 70, "short": 0},
                    "RSI thresholds: buy oversold, sell overbought"),
    "bollinger": Strategy("bollinger", bollinger_bands, {"period": 20, "k": 2, "breakout": 0, "short": 0},
                          "Bollinger bands: mean reversion or breakout"),
}


def resolve_strategy(name: str) -> Strategy:
    """Find a built-in strategy by name, or load ``module:function`` / ``file.py:function``.

    A user strategy takes any ``--param`` (it has no declared defaults).

    Raises:
        InputError: when the name is neither built in nor a loadable function.
    """
    if name in BUILTIN:
        return BUILTIN[name]
    if ":" not in name:
        raise InputError(InputProblem("--strategy", None, "", f"unknown strategy {name!r} (built in: "
                                      f"{', '.join(BUILTIN)}; or module:function, file.py:function)"))
    target, _, attribute = name.rpartition(":")
    try:
        if target.endswith(".py"):
            path = Path(target)
            spec = importlib.util.spec_from_file_location(f"marginbook_user_strategy_{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                raise ImportError(f"no such file {target}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
        function = getattr(module, attribute)
    except (ImportError, AttributeError, SyntaxError) as error:
        raise InputError(InputProblem("--strategy", None, "", f"cannot load {name}: {error}")) from None
    if not callable(function):
        raise InputError(InputProblem("--strategy", None, "", f"{name} is not a function"))
    return Strategy(name, function, {}, getattr(function, "__doc__", None) or name)
