"""The demo: a small, believable ledger imported into a fresh database, then its holdings.

The bundled ``data/demo/demo-ledger.csv`` tells two years of one trader's story: buys of BTC
and ETH on Coinbase and Kraken with fees, coins moved to a Ledger Nano (network fee paid in
coin), ETH staking income, a 2x BTC long on Kraken with borrowed USD that pays Kraken's
opening and rollover fees and is liquidated in the August 2024 crash, then a few more trades.

The demo never touches the user's real ledger: it writes a new SQLite file in a temporary
directory, or in a directory the user names.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from marginbook.app.holdings import Holding, fold_holdings
from marginbook.app.ledger_io import ImportSummary, import_files
from marginbook.ledger import open_store

DEMO_DB_NAME = "marginbook-demo.db"


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo did and found.

    Attributes:
        db_path: the SQLite file holding the demo ledger (kept, to explore further).
        summary: the import of the bundled file.
        holdings: balances per wallet and asset after every event.
        event_count: events in the demo ledger.
    """

    db_path: Path
    summary: ImportSummary
    holdings: list[Holding]
    event_count: int


def demo_ledger_path() -> Path:
    """The bundled demo ledger CSV."""
    return Path(str(resources.files("marginbook").joinpath("data", "demo", "demo-ledger.csv")))


def run_demo(directory: Path | None = None) -> DemoResult:
    """Import the demo ledger into ``directory/marginbook-demo.db`` and fold its holdings.

    Args:
        directory: where to keep the demo database; a new temporary directory when ``None``.
            Running the demo again on the same directory changes nothing (ids are stable).
    """
    target = Path(tempfile.mkdtemp(prefix="marginbook-demo-")) if directory is None else directory
    db_path = target / DEMO_DB_NAME
    with open_store(f"sqlite:///{db_path}") as store:
        summary = import_files(store, [demo_ledger_path()], format_name="marginbook")
        holdings = fold_holdings(store.events())
        count = store.count()
    return DemoResult(db_path=db_path, summary=summary, holdings=holdings, event_count=count)


#: The tax years the demo ledger spans.
DEMO_TAX_YEARS = (2024, 2025)


@dataclass(frozen=True, slots=True)
class DemoTaxYear:
    """One tax year of the demo ledger, computed by the tax engine and filled on the IRS forms.

    Attributes:
        year: the tax year.
        document: the engine's JSON document (the ``marginbook tax --format json`` contract).
        files: the filled PDFs (Form 8949, Schedule D, Form 4952 when there is interest,
            lot statement, summary).
    """

    year: int
    document: dict[str, object]
    files: list[Path]


@dataclass(frozen=True, slots=True)
class DemoTour:
    """Everything ``marginbook demo`` shows: ledger, taxes, backtests, the HTML report."""

    ledger: DemoResult
    taxes: list[DemoTaxYear]
    backtest: dict[str, object]
    report: Path
    serve_command: str


def tax_demo_years(db_path: Path, out_dir: Path) -> list[DemoTaxYear]:
    """Tax each demo year from the demo ledger and write its filled forms under ``out_dir``."""
    from marginbook.app.tax_year import TaxRequest, tax_year
    from marginbook.reports.exports import write_export
    from marginbook.tax.document import to_document

    years = []
    for year in DEMO_TAX_YEARS:
        document = to_document(tax_year(f"sqlite:///{db_path}", TaxRequest(year=year)))
        files = write_export("pdf", document, out_dir / f"tax-{year}")
        years.append(DemoTaxYear(year=year, document=document, files=files))
    return years


def run_tour(out_dir: Path) -> DemoTour:
    """Run the whole demo into ``out_dir``: import the ledger, tax 2024 and 2025 onto the IRS
    forms, backtest at 5× and 20×, and write the self-contained HTML report.

    Running it again on the same directory re-imports nothing and rewrites the outputs.
    """
    from marginbook.app.demo_backtest import run_leverage_demo
    from marginbook.app.demo_report import backtest_section, write_report
    from marginbook.app.features import market_price_lookup
    from marginbook.backtest.results import BacktestResult

    out_dir.mkdir(parents=True, exist_ok=True)
    ledger = run_demo(out_dir)
    taxes = tax_demo_years(ledger.db_path, out_dir)
    backtest = run_leverage_demo(out_dir)
    sections = []
    for run in backtest["runs"]:  # type: ignore[attr-defined]
        result: BacktestResult = run.result
        times = [datetime.fromtimestamp(int(seconds), UTC) for seconds in result.bars.timestamps]
        name = f"SMA cross 20/50 long, binance-usdm isolated {run.leverage:g}x"
        sections.append(backtest_section(name, result.to_json(), times, result.equity.tolist()))
    serve_command = f"marginbook --db sqlite:///{ledger.db_path.resolve()} serve"
    with open_store(f"sqlite:///{ledger.db_path}") as store:
        report = write_report(
            out_dir, store=store, years=DEMO_TAX_YEARS, backtests=sections,
            prices=market_price_lookup(), serve_command=serve_command,
        )
    return DemoTour(ledger=ledger, taxes=taxes, backtest=backtest, report=report, serve_command=serve_command)
