"""A static HTML report of a ledger: portfolio, backtest charts, tax summary — one file, no network.

``make demo`` ends with it: the report is a single ``report.html`` whose charts work offline
(plotly.js is inlined once), so it can be opened from disk or mailed. Each section states
plainly when the part behind it is not available, instead of showing made-up numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from marginbook.app import charts
from marginbook.app.dashboard import Dashboard, TaxSource
from marginbook.app.features import EventStore, FeatureUnavailable, tax_document
from marginbook.app.portfolio import PriceLookup
from marginbook.domain.errors import MarginbookError
from marginbook.domain.events import format_timestamp
from marginbook.domain.numbers import cents, plain

REPORT_NAME = "report.html"

#: The report's Jinja2 template, bundled as package data.
TEMPLATE = ("data", "report", "report.html.j2")


@dataclass(frozen=True, slots=True)
class BacktestSection:
    """One backtest to show: a name and its JSON document (``equity_curve`` draws the chart)."""

    name: str
    document: dict[str, Any]


def backtest_section(
    name: str, document: dict[str, Any], times: Iterable[datetime | str], equity: Iterable[float]
) -> BacktestSection:
    """A backtest for the report from its ``--format json`` document and its equity per bar.

    The JSON contract of ``marginbook backtest`` has no equity curve; the run's result has one
    (equity at each bar's close), so the caller passes it with the bar times.
    """
    curve = [
        {"time": format_timestamp(time) if isinstance(time, datetime) else str(time), "equity": float(value)}
        for time, value in zip(times, equity, strict=True)
    ]
    return BacktestSection(name, {**document, "equity_curve": curve})


def run_backtest_section(
    strategy: str,
    data: Path,
    *,
    venue: str = "binance-usdm",
    leverage: float = 3.0,
    size_fraction: float = 0.25,
) -> BacktestSection:
    """Backtest ``strategy`` (a built-in name) on the price file ``data`` with the strategy's
    default parameters, isolated margin at ``leverage`` on ``venue``, each entry committing
    ``size_fraction`` of equity, and make its report section.

    Raises:
        FeatureUnavailable: when the backtest engine is not installed.
        InputError: for an unknown strategy, venue or a bad price file.
    """
    try:
        from marginbook.app.backtest import run_file
        from marginbook.backtest.settings import BacktestSettings
    except ImportError:
        raise FeatureUnavailable("backtests", "the backtest engine is not installed") from None
    settings = BacktestSettings(venue=venue, leverage=leverage, size_fraction=size_fraction)
    settings.validate()
    result = run_file(data, strategy, {}, settings)
    from marginbook.app.backtest import equity_curve

    name = f"{strategy} on {data.stem}, {venue} {leverage:g}x isolated, {size_fraction:g} of equity per entry"
    return BacktestSection(name, {**result.to_json(), "equity_curve": equity_curve(result)})


_HUNDREDTH = Decimal("0.01")


def two_decimals(value: object) -> str:
    """A backtest figure to two decimals with thousands separators (``376,128.55``).

    Backtest documents carry floats (``376128.5528653142``) or decimal strings; both read
    better to the cent. An integer (a count) stays whole, a missing value is "—", and text
    that is not a number is shown as it is.
    """
    if value is None or value == "":
        return "—"
    if isinstance(value, int):  # a count (bool is an int too)
        return f"{value:,}"
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if not number.is_finite():
        return str(value)
    return f"{number.quantize(_HUNDREDTH, rounding=ROUND_HALF_EVEN):,}"


def _environment() -> Any:
    from jinja2 import Environment, select_autoescape

    environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    environment.filters["money"] = lambda value: "—" if value is None else f"{cents(value):,}"
    environment.filters["qty"] = lambda value: "—" if value is None else plain(value)
    environment.filters["fixed2"] = two_decimals
    return environment


def write_report(
    out_dir: Path,
    *,
    store: EventStore,
    years: Sequence[int] = (),
    backtests: Sequence[BacktestSection] = (),
    backtest_problem: str = "",
    prices: PriceLookup | None = None,
    tax_source: TaxSource = tax_document,
    tax_profile: Path | None = None,
    serve_command: str = "marginbook serve",
) -> Path:
    """Write ``out_dir/report.html`` and return its path.

    Args:
        out_dir: the folder to write to (created when missing).
        store: the ledger.
        years: tax years to summarise (each computed by ``tax_source``; a failure is shown).
        backtests: backtest results to chart.
        backtest_problem: shown when ``backtests`` is empty (why there are none).
        prices: market prices for the valuation (``None``: the ledger's last prices).
        tax_source: builds a year's tax document (default: the tax engine).
        tax_profile: the tax profile TOML, when there is one.
        serve_command: the command the report suggests to explore the ledger.
    """
    from importlib import import_module

    dashboard = Dashboard(store, prices=prices, tax_source=tax_source, tax_profile=tax_profile)
    context: dict[str, Any] = {
        "written": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "events": store.count(),
        "serve_command": serve_command,
        "portfolio_problem": "",
        "backtest_problem": backtest_problem,
        "plotly_js": import_module("plotly.offline").get_plotlyjs().replace("</script", "<\\/script"),
    }
    try:
        portfolio = dashboard.portfolio()
        context.update(
            portfolio=portfolio,
            value_chart=charts.value_over_time(portfolio),
            allocation_chart=charts.allocation(portfolio),
            realized_by_year=list(portfolio.realized_by_year),
        )
    except MarginbookError as error:
        context["portfolio_problem"] = str(error)
    context["backtests"] = [
        {
            "name": run.name,
            "document": run.document,
            "chart": charts.backtest_equity(run.document, element_id=f"chart-backtest-{index}"),
        }
        for index, run in enumerate(backtests)
    ]
    taxes = []
    for year in years:
        try:
            taxes.append({"year": year, "document": dashboard.tax(year), "problem": ""})
        except (FeatureUnavailable, MarginbookError) as error:
            taxes.append({"year": year, "document": {}, "problem": str(error)})
    context["taxes"] = taxes
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_NAME
    template = resources.files("marginbook").joinpath(*TEMPLATE).read_text(encoding="utf-8")
    path.write_text(_environment().from_string(template).render(**context), encoding="utf-8")
    return path
