"""Built-in strategies emit signals exactly where their rules say; user strategies load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from marginbook.backtest.data import synthetic_bars
from marginbook.backtest.strategies import BUILTIN, Signals, crossed_above, resolve_strategy
from marginbook.domain.errors import InputError
from marginbook.indicators import bollinger, rsi, sma

BARS = synthetic_bars(3_000, seed=11, volatility=0.01)


def test_crossed_above_marks_only_the_crossing_bar() -> None:
    a = np.array([1.0, 2.0, 3.0, 2.0, 4.0])
    b = np.array([2.0, 2.0, 2.0, 2.5, 2.5])
    assert crossed_above(a, b).tolist() == [False, False, True, False, True]


def test_sma_cross_enters_long_and_short_at_the_crosses() -> None:
    signals = BUILTIN["sma-cross"].signals(BARS, {"fast": 10, "slow": 30})
    fast, slow = sma(BARS.close, 10), sma(BARS.close, 30)
    for i in np.flatnonzero(signals.entries):
        if signals.entries[i] == 1:
            assert fast[i] > slow[i] and fast[i - 1] <= slow[i - 1]
        else:
            assert fast[i] < slow[i] and fast[i - 1] >= slow[i - 1]
    above = fast > slow
    crossings = int(np.count_nonzero(above[31:] != above[30:-1]))
    assert np.count_nonzero(signals.entries) == crossings
    # Long and short alternate: each cross reverses.
    nonzero = signals.entries[signals.entries != 0]
    assert (nonzero[1:] != nonzero[:-1]).all()


def test_sma_cross_long_only_has_no_short_entries() -> None:
    signals = BUILTIN["sma-cross"].signals(BARS, {"short": 0})
    assert (signals.entries >= 0).all() and signals.exit_long.any()


def test_rsi_enters_when_rsi_falls_through_the_lower_threshold() -> None:
    signals = BUILTIN["rsi"].signals(BARS, {"period": 14, "lower": 30, "upper": 70})
    value = rsi(BARS.close, 14)
    entries = np.flatnonzero(signals.entries == 1)
    assert len(entries) > 0
    assert all(value[i] < 30 <= value[i - 1] for i in entries)
    exits = np.flatnonzero(signals.exit_long)
    assert all(value[i] > 70 >= value[i - 1] for i in exits)


def test_bollinger_reversion_and_breakout_are_mirror_images() -> None:
    bands = bollinger(BARS.close, 20, 2.0)
    reversion = BUILTIN["bollinger"].signals(BARS, {"breakout": 0})
    breakout = BUILTIN["bollinger"].signals(BARS, {"breakout": 1, "short": 1})
    for i in np.flatnonzero(reversion.entries == 1):
        assert BARS.close[i] < bands.lower[i]
    for i in np.flatnonzero(breakout.entries == 1):
        assert BARS.close[i] > bands.upper[i]
    for i in np.flatnonzero(breakout.entries == -1):
        assert BARS.close[i] < bands.lower[i]
    assert (np.flatnonzero(reversion.entries == 1) == np.flatnonzero(breakout.entries == -1)).all()


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(InputError, match="sma-cross has no such parameter"):
        BUILTIN["sma-cross"].signals(BARS, {"fsat": 5})


def test_fast_must_be_below_slow() -> None:
    with pytest.raises(InputError, match="must be below slow"):
        BUILTIN["sma-cross"].signals(BARS, {"fast": 50, "slow": 20})


def test_user_strategy_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        "import numpy as np\n"
        "from marginbook.backtest.strategies import Signals\n"
        "def every_tenth(bars, params):\n"
        "    entries = np.zeros(len(bars), np.int8)\n"
        "    entries[:: int(params.get('every', 10))] = 1\n"
        "    return Signals.from_arrays(entries, exit_long=np.roll(entries, 5) == 1)\n",
        encoding="utf-8",
    )
    strategy = resolve_strategy(f"{path}:every_tenth")
    signals = strategy.signals(BARS, {"every": 100})
    assert np.flatnonzero(signals.entries).tolist() == list(range(0, len(BARS), 100))


def test_unknown_strategy_lists_the_built_in_ones() -> None:
    with pytest.raises(InputError, match="sma-cross, rsi, bollinger"):
        resolve_strategy("macd")


def test_signals_refuse_values_other_than_minus_one_zero_one() -> None:
    with pytest.raises(ValueError, match="-1"):
        Signals.from_arrays([0, 2, 0])


def test_the_documented_user_strategy_example_runs(tmp_path: Path) -> None:
    """The example in docs/backtest.md is real code: extract it and run it."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "backtest.md"
    text = docs.read_text(encoding="utf-8")
    start = text.index("```python\n", text.index("### Your own strategy")) + len("```python\n")
    code = text[start : text.index("```", start)]
    path = tmp_path / "my_strategy.py"
    path.write_text(code, encoding="utf-8")
    signals = resolve_strategy(f"{path}:ema_breakout").signals(BARS, {"period": 30})
    assert (signals.entries == 1).any() and signals.exit_long.any() and not (signals.entries == -1).any()
