"""``marginbook backtest`` and ``marginbook sweep``: strategies through the margin rules.

Thin over :mod:`marginbook.app.backtest`: parse the flags, run, render. Heavy imports
(numba, polars, plotly) happen inside the commands so that other commands start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from marginbook.domain.errors import InputError, InputProblem

if TYPE_CHECKING:  # pragma: no cover
    from marginbook.backtest.results import BacktestResult
    from marginbook.backtest.settings import BacktestSettings
    from marginbook.backtest.sweep import SweepRow


def _number(flag: str, text: str | None) -> float | None:
    """A flag's number, read as an exact decimal first so that ``1,5`` or ``5%`` is refused clearly."""
    if text is None:
        return None
    from marginbook.domain.numbers import D

    try:
        value = D(text)
    except (ValueError, TypeError):
        problem = f"not a number: {text!r} (rates are fractions: 0.0002)"
        raise InputError(InputProblem(flag, None, "", problem)) from None
    return float(value)


def _params(values: list[str] | None) -> dict[str, float]:
    params: dict[str, float] = {}
    for item in values or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InputError(InputProblem("--param", None, "", f"write K=V, got {item!r}"))
        number = _number(f"--param {key.strip()}", text.strip())
        assert number is not None
        params[key.strip()] = number
    return params


def _option(*names: str, help: str) -> Any:
    return typer.Option(*names, help=help)


Data = Annotated[Path, _option("--data", help="Price CSV: timestamp,open,high,low,close[,volume].")]
Strategy = Annotated[str, _option("--strategy", help="sma-cross | rsi | bollinger | module:function | "
                                                     "file.py:function.")]
Params = Annotated[list[str] | None, _option("--param", help="Strategy parameter K=V (repeatable).")]
VENUES_HELP = "binance-usdm | binance-margin | kraken-margin | bybit-linear | okx-swap | generic."
Venue = Annotated[str, _option("--venue", help=VENUES_HELP)]
Leverage = Annotated[str, _option("--leverage", help="Notional / initial margin.")]
Mode = Annotated[str, _option("--mode", help="isolated | cross.")]
Rate = Annotated[str | None, _option(help="A fraction of the signal bar's close (0.03 = 3 %).")]
Cash = Annotated[str, _option(help="Starting balance in the quote asset.")]
Size = Annotated[str | None, _option("--size", help="Fixed position size in base units.")]
SizeFraction = Annotated[str | None, _option(help="Fraction of equity each entry commits as margin.")]
Fee = Annotated[str | None, _option(help="Fee rate per fill (default: the venue's).")]
InterestRate = Annotated[str | None, _option(help="Interest rate per --rate-period on the amount lent.")]
RatePeriod = Annotated[str | None, _option(help="hour | 4h | day (default day).")]
FundingRate = Annotated[str | None, _option(help="Funding rate per funding time (perpetuals).")]
LiquidationFee = Annotated[str | None, _option(help="Liquidation fee rate (default: the venue's rule).")]
Symbol = Annotated[str | None, _option(help="BASE/QUOTE for the ledger (default: from the file name).")]
Format = Annotated[str, _option("--format", help="table | json.")]
ExportLedger = Annotated[Path | None, _option(help="Write the run's events as a ledger CSV.")]
PlotFile = Annotated[Path | None, _option(help="Write a self-contained HTML chart.")]
Grid = Annotated[list[str], _option("--grid", help="Axis K=START:STOP:STEP, STOP included (repeatable).")]
Workers = Annotated[int | None, _option(help="Local processes (default: CPU count).")]
RayAddress = Annotated[str | None, _option("--ray", help="Run on Ray at ADDRESS (auto, ray://..., local).")]
HeatmapFile = Annotated[Path | None, _option("--heatmap", help="Write a heatmap (HTML) of two grid axes.")]


def _settings(venue: str, leverage: str, mode: str, stop_loss: str | None, take_profit: str | None,
              trailing_stop: str | None, cash: str, size: str | None, size_fraction: str | None,
              fee: str | None, interest_rate: str | None, rate_period: str | None,
              funding_rate: str | None, liquidation_fee: str | None) -> BacktestSettings:
    from marginbook.backtest.settings import BacktestSettings

    if mode not in ("isolated", "cross"):
        raise InputError(InputProblem("--mode", None, "", f"must be isolated or cross, got {mode!r}"))
    settings = BacktestSettings(
        venue=venue, leverage=_number("--leverage", leverage) or 0.0, mode=mode,  # type: ignore[arg-type]
        cash=_number("--cash", cash) or 0.0, size_units=_number("--size", size),
        size_fraction=_number("--size-fraction", size_fraction), fee=_number("--fee", fee),
        stop_loss=_number("--stop-loss", stop_loss), take_profit=_number("--take-profit", take_profit),
        trailing_stop=_number("--trailing-stop", trailing_stop),
        interest_rate=_number("--interest-rate", interest_rate), rate_period=rate_period,
        funding_rate=_number("--funding-rate", funding_rate) or 0.0,
        liquidation_fee=_number("--liquidation-fee", liquidation_fee),
    )
    settings.validate()
    return settings


def _summary_table(result: BacktestResult) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result.strategy.get('name', '')} on {result.bars.source}", show_header=False)
    rows = [
        ("venue", f"{result.settings.venue} {result.settings.mode} {result.settings.leverage:g}×"),
        ("bars", f"{len(result.bars):,}"),
        ("final equity", f"{result.final_equity:,.2f}"),
        ("return", f"{result.return_pct:.2f} %"),
        ("max drawdown", f"{result.max_drawdown_pct:.2f} %"),
        ("trades", f"{len(result.trades)}"),
        ("liquidations", f"{len(result.liquidations)}"),
        ("margin calls", f"{len(result.margin_calls)}"),
        ("interest paid", f"{result.interest_paid:,.2f}"),
        ("fees paid", f"{result.fees_paid:,.2f}"),
        ("funding", f"{result.funding:,.2f}"),
        ("kernel time", f"{result.elapsed_s * 1000:.1f} ms"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)
    for record in result.to_json()["liquidations"]:
        what = "partly liquidated" if record["partial"] else "liquidated"
        Console().print(f"[red]{what}[/red] {record['side']} {float(record['quantity']):g} at "
                        f"{float(record['price']):,.2f} on {record['time']}")


def backtest(
    data: Data,
    strategy: Strategy,
    param: Params = None,
    venue: Venue = "generic",
    leverage: Leverage = "1",
    mode: Mode = "isolated",
    stop_loss: Rate = None,
    take_profit: Rate = None,
    trailing_stop: Rate = None,
    cash: Cash = "10000",
    size: Size = None,
    size_fraction: SizeFraction = None,
    fee: Fee = None,
    interest_rate: InterestRate = None,
    rate_period: RatePeriod = None,
    funding_rate: FundingRate = None,
    liquidation_fee: LiquidationFee = None,
    symbol: Symbol = None,
    output_format: Format = "table",
    export_ledger: ExportLedger = None,
    plot: PlotFile = None,
) -> None:
    """Backtest a strategy on a price file through a venue's margin rules."""
    from marginbook.app.backtest import equity_curve, run_file, symbol_of
    from marginbook.app.backtest import export_ledger as write_ledger

    if output_format not in ("table", "json"):
        raise InputError(InputProblem("--format", None, "", f"must be table or json, not {output_format!r}"))
    settings = _settings(venue, leverage, mode, stop_loss, take_profit, trailing_stop, cash, size,
                         size_fraction, fee, interest_rate, rate_period, funding_rate, liquidation_fee)
    base_quote = symbol_of(data, symbol) if export_ledger else None
    result = run_file(data, strategy, _params(param), settings)
    document: dict[str, Any] = result.to_json()
    if output_format == "json":  # what `serve --backtests DIR` draws a stored run's chart from
        document["equity_curve"] = equity_curve(result)
    if export_ledger is not None and base_quote is not None:
        count = write_ledger(result, export_ledger, base=base_quote[0], quote=base_quote[1])
        document["ledger"] = {"file": str(export_ledger), "events": count}
        print(f"wrote {count} ledger events to {export_ledger}", file=sys.stderr)
    if plot is not None:
        from marginbook.backtest.plot import write_html

        write_html(result, plot)
        document["plot"] = str(plot)
        print(f"wrote the chart to {plot}", file=sys.stderr)
    if output_format == "json":
        typer.echo(json.dumps(document))
    else:
        _summary_table(result)


def sweep(
    data: Data,
    strategy: Strategy,
    grid: Grid,
    param: Params = None,
    venue: Venue = "generic",
    leverage: Leverage = "1",
    mode: Mode = "isolated",
    stop_loss: Rate = None,
    take_profit: Rate = None,
    trailing_stop: Rate = None,
    cash: Cash = "10000",
    size: Size = None,
    size_fraction: SizeFraction = None,
    fee: Fee = None,
    interest_rate: InterestRate = None,
    rate_period: RatePeriod = None,
    funding_rate: FundingRate = None,
    workers: Workers = None,
    ray: RayAddress = None,
    output_format: Format = "table",
    heatmap_file: HeatmapFile = None,
) -> None:
    """Backtest every point of a parameter grid; print a results table (and a heatmap)."""
    from marginbook.backtest.data import load_bars
    from marginbook.backtest.sweep import grid_points, heatmap, parse_axis, run_sweep

    if output_format not in ("table", "json"):
        raise InputError(InputProblem("--format", None, "", f"must be table or json, not {output_format!r}"))
    if workers is not None and ray is not None:
        raise InputError(InputProblem("--workers", None, "", "give --workers or --ray, not both"))
    if workers is not None and workers < 1:
        raise InputError(InputProblem("--workers", None, "", f"must be at least 1, got {workers}"))
    axes = [parse_axis(text) for text in grid]
    settings = _settings(venue, leverage, mode, stop_loss, take_profit, trailing_stop, cash, size,
                         size_fraction, fee, interest_rate, rate_period, funding_rate, None)
    points = grid_points(axes)
    bars = load_bars(data)
    rows = run_sweep(bars, strategy, _params(param), settings, points, workers=workers, ray_address=ray)
    if heatmap_file is not None:
        if len(axes) < 2:
            raise InputError(InputProblem("--heatmap", None, "", "needs at least two --grid axes"))
        figure = heatmap(rows, axes[0][0], axes[1][0])
        heatmap_file.parent.mkdir(parents=True, exist_ok=True)
        figure.write_html(str(heatmap_file), include_plotlyjs=True)  # type: ignore[attr-defined]
        print(f"wrote the heatmap to {heatmap_file}", file=sys.stderr)
    if output_format == "json":
        typer.echo(json.dumps({"points": [_row_json(row) for row in rows], "count": len(rows)}))
    else:
        _sweep_table(rows, [key for key, _ in axes])


def _row_json(row: SweepRow) -> dict[str, Any]:
    from marginbook.backtest.results import decimal_text

    return {
        "params": {k: decimal_text(v) for k, v in row.point.items()},
        "final_equity": decimal_text(row.final_equity), "return_pct": decimal_text(row.return_pct),
        "max_drawdown_pct": decimal_text(row.max_drawdown_pct), "trades": row.trades,
        "liquidations": row.liquidations, "margin_calls": row.margin_calls,
        "fees_paid": decimal_text(row.fees_paid), "interest_paid": decimal_text(row.interest_paid),
    }


def _sweep_table(rows: list[SweepRow], keys: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} backtests, best return first")
    for key in keys:
        table.add_column(key, justify="right")
    for name in ("final equity", "return %", "max DD %", "trades", "liquidations"):
        table.add_column(name, justify="right")
    for row in sorted(rows, key=lambda r: -r.return_pct)[:50]:
        table.add_row(*[f"{row.point[k]:g}" for k in keys], f"{row.final_equity:,.2f}",
                      f"{row.return_pct:.2f}", f"{row.max_drawdown_pct:.2f}", str(row.trades),
                      str(row.liquidations))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``backtest`` and ``sweep`` to the command line."""
    app.command("backtest")(backtest)
    app.command("sweep")(sweep)


__all__ = ["register"]
