"""``marginbook demo``: the product on bundled data, end to end.

Imports a two-year demo ledger into a fresh SQLite file, shows holdings per wallet, taxes
2024 and 2025 onto the IRS's own forms, backtests one strategy at 5× and at 20× leverage on
real BTC prices, and writes a self-contained HTML report. ``--ledger-only`` stops after the
holdings (fast; what the ledger tests use).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from marginbook.app.demo import DemoResult, DemoTour


class DemoOutput(StrEnum):
    """Output formats of ``marginbook demo``."""

    TABLE = "table"
    JSON = "json"


def demo_command(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Write the demo ledger and its outputs here (default: a new temporary "
                     "directory). Never the ledger of --db."),
    ] = None,
    output: Annotated[DemoOutput, typer.Option("--format", help="table or json.")] = DemoOutput.TABLE,
    ledger_only: Annotated[
        bool, typer.Option("--ledger-only", help="Only import the ledger and show holdings.")
    ] = False,
) -> None:
    """Run marginbook on bundled data: ledger, holdings, taxes on the IRS forms, backtests, report."""
    if ledger_only:
        from marginbook.app.demo import run_demo

        result = run_demo(directory)
        if output is DemoOutput.JSON:
            print(json.dumps(_ledger_json(result)))
        else:
            _print_ledger(result)
        return
    import tempfile

    from marginbook.app.demo import run_tour

    target = directory if directory is not None else Path(tempfile.mkdtemp(prefix="marginbook-demo-"))
    tour = run_tour(target)
    if output is DemoOutput.JSON:
        print(json.dumps(_tour_json(tour)))
    else:
        _print_tour(tour)


def _ledger_json(result: DemoResult) -> dict[str, object]:
    from marginbook.domain.numbers import plain

    return {
        "db": str(result.db_path),
        "events": result.event_count,
        "added": result.summary.added,
        "unchanged": result.summary.unchanged,
        "holdings": [
            {"wallet": h.wallet, "asset": h.asset, "balance": plain(h.balance), "borrowed": plain(h.borrowed),
             "net": plain(h.net)}
            for h in result.holdings
        ],
    }


def _tour_json(tour: DemoTour) -> dict[str, object]:
    runs = tour.backtest["runs"]
    return {
        **_ledger_json(tour.ledger),
        "taxes": [
            {"year": t.year, "schedule_d": t.document["schedule_d"], "form_4952": t.document["form_4952"],
             "form_8949_rows": len(t.document["form_8949"]),  # type: ignore[arg-type]
             "files": [str(path) for path in t.files]}
            for t in tour.taxes
        ],
        "backtest": [
            {"leverage": run.leverage, "final_equity": f"{run.final_equity:.2f}",
             "liquidations": run.liquidations, "plot": str(run.plot)}
            for run in runs  # type: ignore[attr-defined]
        ],
        "report": str(tour.report),
        "serve": tour.serve_command,
    }


def _print_ledger(result: DemoResult) -> None:
    from rich.console import Console
    from rich.table import Table

    from marginbook.domain.numbers import plain

    console = Console()
    console.print(
        f"Demo ledger: {result.event_count} events ({result.summary.added} added, "
        f"{result.summary.unchanged} already there) in {result.db_path}",
        soft_wrap=True,
    )
    table = Table(title="Holdings per wallet and asset", title_justify="left")
    table.add_column("wallet")
    table.add_column("asset")
    table.add_column("balance", justify="right")
    table.add_column("borrowed", justify="right")
    table.add_column("net", justify="right")
    for h in result.holdings:
        table.add_row(h.wallet, h.asset, plain(h.balance), plain(h.borrowed), plain(h.net))
    console.print(table)
    console.print(f"Explore it: marginbook --db sqlite:///{result.db_path} ledger", soft_wrap=True)


def _print_tour(tour: DemoTour) -> None:
    from rich.console import Console
    from rich.table import Table

    from marginbook.app.demo_backtest import print_leverage_summary

    _print_ledger(tour.ledger)
    console = Console()
    # Short headers (an 80-column terminal shows every figure whole); the caption names the lines.
    table = Table(
        title="Taxes from the same ledger (FIFO; per-wallet pools from 2025)",
        title_justify="left",
        caption="Form 8949 rows. Schedule D: short-term = line 7, long-term = line 15, net = line 16. "
        "Form 4952: margin interest = line 1, deductible = line 8.",
        caption_justify="left",
    )
    for column in ("year", "rows", "short-term", "long-term", "net", "margin interest", "deductible"):
        table.add_column(column, justify="right")
    for t in tour.taxes:
        sched: dict[str, str] = t.document["schedule_d"]  # type: ignore[assignment]
        form: dict[str, str] = t.document["form_4952"]  # type: ignore[assignment]
        table.add_row(str(t.year), str(len(t.document["form_8949"])),  # type: ignore[arg-type]
                      sched["line_7"], sched["line_15"], sched["line_16"], form["line_1"], form["line_8"])
    console.print(table)
    for t in tour.taxes:
        names = ", ".join(path.name for path in t.files)
        console.print(f"  {t.year} IRS forms, filled: {t.files[0].parent}/ ({names})", soft_wrap=True)
    print_leverage_summary(tour.backtest)
    console.print(f"Report (open in a browser, works offline): {tour.report.resolve()}", soft_wrap=True)
    console.print(f"Dashboard on the demo ledger: {tour.serve_command}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the command line."""
    app.command("demo")(demo_command)
