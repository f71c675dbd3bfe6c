"""``marginbook demo``: import a bundled two-year ledger into a fresh database, show holdings."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from marginbook.app.demo import DemoResult


class DemoOutput(StrEnum):
    """Output formats of ``marginbook demo``."""

    TABLE = "table"
    JSON = "json"


def demo_command(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Keep the demo ledger in this directory (default: a new temporary one). "
                     "Never the ledger of --db."),
    ] = None,
    output: Annotated[DemoOutput, typer.Option("--format", help="table or json.")] = DemoOutput.TABLE,
) -> None:
    """Import a small demo ledger into a fresh SQLite file and show holdings per wallet and asset."""
    from marginbook.app.demo import run_demo

    result = run_demo(directory)
    if output is DemoOutput.JSON:
        print(json.dumps(_result_json(result)))
    else:
        _print_result(result)


def _result_json(result: DemoResult) -> dict[str, object]:
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


def _print_result(result: DemoResult) -> None:
    from rich.console import Console
    from rich.table import Table

    from marginbook.domain.numbers import plain

    console = Console()
    console.print(
        f"Demo ledger: {result.event_count} events ({result.summary.added} added, "
        f"{result.summary.unchanged} already there) in {result.db_path}"
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
    console.print(f"Explore it: marginbook --db sqlite:///{result.db_path} ledger")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the command line."""
    app.command("demo")(demo_command)
