"""The backtest part of ``marginbook demo``: the same strategy at 5× and at 20×, on real BTC.

"Start small" is the first advice every margin trader hears. This demo shows why on
bundled Binance BTC/USDT daily bars for 2020–2021: a 20/50-day SMA-cross long strategy on
Binance USDⓈ-M isolated margin survives at 5× leverage (and ends far ahead), while at 20×
its first position is liquidated by an ordinary 5 % dip in April 2020 — same signals, same
prices, only the leverage differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import numpy as np

from marginbook.backtest.data import Bars, load_bars
from marginbook.backtest.results import BacktestResult
from marginbook.backtest.settings import BacktestSettings
from marginbook.domain.errors import MarginbookError

STRATEGY = "sma-cross"
PARAMS = {"fast": 20.0, "slow": 50.0, "short": 0.0}
LEVERAGES = (5.0, 20.0)
VENUE = "binance-usdm"


@dataclass(frozen=True, slots=True)
class LeverageRun:
    """One leverage's outcome in the demo."""

    leverage: float
    final_equity: float
    return_pct: float
    max_drawdown_pct: float
    trades: int
    liquidations: int
    margin_calls: int
    first_liquidation: datetime | None
    plot: Path
    result: BacktestResult


def bundled_prices() -> Path:
    """The bundled daily BTC/USDT file (``marginbook/data/prices/BTC-USDT_1d.csv``).

    Raises:
        MarginbookError: when the package was installed without its price data.
    """
    path = Path(str(resources.files("marginbook") / "data" / "prices" / "BTC-USDT_1d.csv"))
    if not path.is_file():
        raise MarginbookError(f"the bundled price file is missing: {path}")
    return path


def _window(bars: Bars, start: date, end: date) -> Bars:
    first = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    last = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp())
    lo = int(np.searchsorted(bars.timestamps, first, side="left"))
    hi = int(np.searchsorted(bars.timestamps, last, side="right"))
    if hi - lo < 2:
        raise MarginbookError(f"no bars between {start} and {end} in {bars.source}")
    return bars.slice(lo, hi)


def run_leverage_demo(out_dir: str | Path, prices: str | Path | None = None,
                      start: date = date(2020, 1, 1), end: date = date(2021, 12, 31),
                      params: dict[str, float] | None = None) -> dict[str, object]:
    """Run the strategy at 5× and 20× and write one chart per run into ``out_dir``.

    Args:
        out_dir: where the charts go (created when missing).
        prices: a price CSV (default: the bundled BTC/USDT daily file).
        start, end: the window of bars used (inclusive).
        params: strategy parameters (default: 20/50-day SMA cross, long only).

    Returns:
        A summary: ``{"data", "window" ("START..END"), "strategy", "runs": [LeverageRun, ...], "survivors",
        "liquidated"}``; ``survivors``/``liquidated`` list the leverages by outcome.
    """
    from marginbook.app.backtest import run_strategy
    from marginbook.backtest.plot import write_html

    source = Path(prices) if prices is not None else bundled_prices()
    bars = _window(load_bars(source), start, end)
    out = Path(out_dir)
    runs: list[LeverageRun] = []
    for leverage in LEVERAGES:
        settings = BacktestSettings(venue=VENUE, leverage=leverage, mode="isolated", cash=10_000.0)
        result: BacktestResult = run_strategy(bars, STRATEGY, params or PARAMS, settings)
        plot = write_html(result, out / f"backtest-{leverage:g}x.html",
                          title=f"SMA cross at {leverage:g}× on {VENUE} (isolated): "
                                f"{len(result.liquidations)} liquidation(s), final equity "
                                f"{result.final_equity:,.2f} USDT")
        liquidations = result.liquidations
        runs.append(LeverageRun(
            leverage=leverage, final_equity=result.final_equity, return_pct=result.return_pct,
            max_drawdown_pct=result.max_drawdown_pct, trades=len(result.trades),
            liquidations=len(liquidations), margin_calls=len(result.margin_calls),
            first_liquidation=liquidations[0].exit_time if liquidations else None, plot=plot,
            result=result,
        ))
    return {
        "data": str(source), "window": f"{start.isoformat()}..{end.isoformat()}",
        "strategy": {"name": STRATEGY, "params": params or PARAMS, "venue": VENUE},
        "runs": runs,
        "survivors": [r.leverage for r in runs if r.liquidations == 0],
        "liquidated": [r.leverage for r in runs if r.liquidations > 0],
    }


def print_leverage_summary(summary: dict[str, object]) -> None:
    """Print what :func:`run_leverage_demo` found and where its charts are."""
    print(f"Backtest: {STRATEGY} 20/50 long on {VENUE}, BTC/USDT daily {summary['window']}")
    for run in summary["runs"]:  # type: ignore[attr-defined]
        fate = (f"LIQUIDATED on {run.first_liquidation:%Y-%m-%d}" if run.liquidations
                else "survived, never liquidated")
        print(f"  {run.leverage:>4g}x: {fate}; final equity {run.final_equity:,.2f} USDT "
              f"({run.return_pct:+.1f} %), max drawdown {run.max_drawdown_pct:.1f} %")
        print(f"        chart: {run.plot}")
    print("  Same signals, same prices: only the leverage differs. Start small.")


def print_leverage_demo(out_dir: str | Path) -> dict[str, object]:
    """Run :func:`run_leverage_demo` and print what happened and where the charts are."""
    summary = run_leverage_demo(out_dir)
    print_leverage_summary(summary)
    return summary
