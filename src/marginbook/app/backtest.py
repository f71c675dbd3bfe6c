"""Backtest use cases: run a strategy on a price file, export the run to the ledger CSV."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from marginbook.backtest.data import Bars, load_bars
from marginbook.backtest.results import BacktestResult
from marginbook.backtest.settings import BacktestSettings
from marginbook.domain.errors import InputError, InputProblem

_SYMBOL_IN_NAME = re.compile(r"^([A-Z0-9]+)[-_/]([A-Z0-9]+)")


def symbol_of(path: str | Path, given: str | None = None) -> tuple[str, str]:
    """The (base, quote) assets: from ``given`` (``BTC/USDT``) or the file name (``BTC-USDT_1d.csv``).

    Raises:
        InputError: when neither names a pair.
    """
    if given:
        base, sep, quote = given.upper().partition("/")
        if not sep or not base or not quote:
            problem = f"write BASE/QUOTE, e.g. BTC/USDT, got {given!r}"
            raise InputError(InputProblem("--symbol", None, "", problem))
        return base, quote
    match = _SYMBOL_IN_NAME.match(Path(path).name.upper())
    if not match:
        raise InputError(InputProblem("--symbol", None, "", f"cannot tell the pair from {Path(path).name!r}; "
                                      "give --symbol BASE/QUOTE"))
    return match.group(1), match.group(2)


def equity_curve(result: BacktestResult) -> list[dict[str, str]]:
    """The run's equity at each bar's close and its drawdown from the running peak (starting cash
    included, as ``max_drawdown_pct``), as the ``equity_curve`` of ``backtest --format json``:
    ``{"time": bar open time, "equity": "…", "drawdown_pct": "…"}``, decimal strings.

    The Backtests page of ``marginbook serve`` draws a stored run's chart from it; without it a
    stored document has only the trades and the summary figures.
    """
    from marginbook.backtest.results import decimal_text
    from marginbook.domain.events import format_timestamp

    bars = result.bars.timestamps.tolist()
    columns = zip(bars, result.equity.tolist(), result.drawdown.tolist(), strict=True)
    return [
        {
            "time": format_timestamp(datetime.fromtimestamp(int(seconds), UTC)),
            "equity": decimal_text(equity),
            "drawdown_pct": decimal_text(drawdown or 0.0),  # never "-0"
        }
        for seconds, equity, drawdown in columns
    ]


def run_strategy(bars: Bars, strategy: str, params: Mapping[str, float],
                 settings: BacktestSettings) -> BacktestResult:
    """Compute the strategy's signals on ``bars`` and run the margin kernel over them."""
    from marginbook.backtest.engine import run_backtest
    from marginbook.backtest.strategies import resolve_strategy

    chosen = resolve_strategy(strategy)
    signals = chosen.signals(bars, params)
    return run_backtest(bars, signals, settings,
                        strategy={"name": chosen.name, "params": {**chosen.defaults, **params}})


def run_file(data: str | Path, strategy: str, params: Mapping[str, float],
             settings: BacktestSettings) -> BacktestResult:
    """Load the price CSV ``data`` and backtest ``strategy`` on it."""
    return run_strategy(load_bars(data), strategy, params, settings)


def export_ledger(result: BacktestResult, path: str | Path, *, base: str, quote: str,
                  run_id: str | None = None) -> int:
    """Write the run's events as a ledger CSV at ``path`` (written whole or not at all).

    Returns:
        The number of events written.
    """
    import hashlib
    import os
    import tempfile

    from marginbook.backtest.ledger_export import ledger_events
    from marginbook.importers import ledger_csv
    from marginbook.margin.venues import profile

    settings = result.settings
    identity = run_id or "bt-" + hashlib.sha256(
        f"{result.bars.source}|{settings}|{result.strategy}".encode()).hexdigest()[:12]
    events = ledger_events(result, base=base, quote=quote, run_id=identity,
                           settlement=profile(settings.venue).settlement)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            count = ledger_csv.write(events, out)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
