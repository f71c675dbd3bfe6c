"""``marginbook import`` and ``marginbook ledger``: put events into the ledger, look at them.

Thin over :mod:`marginbook.app.ledger_io`; heavy imports (SQLAlchemy, Rich) happen inside
the commands so that other commands start fast.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from marginbook.cli.context import state

if TYPE_CHECKING:
    from collections.abc import Iterable

    from marginbook.app.ledger_io import ImportSummary
    from marginbook.domain.events import LedgerEvent


class ImportOutput(StrEnum):
    """Output formats of ``marginbook import``."""

    TABLE = "table"
    JSON = "json"


class LedgerOutput(StrEnum):
    """Output formats of ``marginbook ledger``."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def import_command(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Files to import, in this order.", show_default=False)],
    format_name: Annotated[
        str,
        typer.Option("--format", help="File format: auto (detect from the header), marginbook, coinbase, "
                     "kraken, binance ..."),
    ] = "auto",
    wallet: Annotated[
        str | None, typer.Option("--wallet", help="Wallet for rows or formats that do not name one.")
    ] = None,
    output: Annotated[ImportOutput, typer.Option("--output", help="Summary as a table or JSON.")] = (
        ImportOutput.TABLE
    ),
) -> None:
    """Import files into the ledger, all in one transaction (a bad row anywhere writes nothing)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from marginbook.app.ledger_io import import_files
    from marginbook.ledger import open_store

    err = Console(stderr=True)
    with open_store(state(ctx).db_url) as store, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    ) as bar:
        tasks: dict[Path, TaskID] = {}

        def progress(path: Path, done: int, expected: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(path.name, total=expected)
            bar.update(tasks[path], completed=done, total=expected)

        summary = import_files(store, files, format_name=format_name, wallet=wallet, progress=progress)
        target = store.describe()
    if output is ImportOutput.JSON:
        print(json.dumps(_summary_json(summary, target)))
    else:
        _print_summary(summary, target)


def _summary_json(summary: ImportSummary, target: str) -> dict[str, object]:
    return {
        "ledger": target,
        "added": summary.added,
        "unchanged": summary.unchanged,
        "files": [
            {"path": str(f.path), "format": f.format_name, "events": f.events, "added": f.added,
             "unchanged": f.unchanged}
            for f in summary.files
        ],
    }


def _print_summary(summary: ImportSummary, target: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Imported into {target}", title_justify="left")
    for name, justify in (("file", "left"), ("format", "left"), ("events", "right"), ("added", "right"),
                          ("unchanged", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in summary.files:
        table.add_row(str(f.path), f.format_name, str(f.events), str(f.added), str(f.unchanged))
    console = Console()
    console.print(table)
    console.print(f"{summary.added} added, {summary.unchanged} unchanged")


def ledger_command(
    ctx: typer.Context,
    wallet: Annotated[
        str | None, typer.Option("--wallet", help="Only this wallet (and transfers into it).")
    ] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="Only events that move this asset.")] = None,
    first_day: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")] = None,
    last_day: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), included.")
    ] = None,
    output: Annotated[LedgerOutput, typer.Option("--format", help="table, csv (the ledger CSV) or json.")] = (
        LedgerOutput.TABLE
    ),
) -> None:
    """Show the ledger's events in order (time, then import order)."""
    from marginbook.app.ledger_io import day_range, parse_day
    from marginbook.ledger import open_store

    start, end = day_range(
        None if first_day is None else parse_day(first_day, "--from"),
        None if last_day is None else parse_day(last_day, "--to"),
    )
    with open_store(state(ctx).db_url) as store:
        events = store.events(wallet=wallet, asset=asset, start=start, end=end)
        if output is LedgerOutput.CSV:
            from marginbook.importers.ledger_csv import write

            write(events, sys.stdout)
        elif output is LedgerOutput.JSON:
            _write_json(events)
        else:
            _print_events(events)


def _write_json(events: Iterable[LedgerEvent]) -> None:
    """One JSON array, written event by event so a large ledger is never held in memory."""
    from marginbook.app.ledger_io import event_to_json

    out = sys.stdout
    out.write("[")
    for i, event in enumerate(events):
        out.write(",\n" if i else "\n")
        out.write(json.dumps(event_to_json(event)))
    out.write("\n]\n")


def _print_events(events: Iterable[LedgerEvent]) -> None:
    from rich.console import Console
    from rich.table import Table

    from marginbook.domain.events import format_timestamp
    from marginbook.domain.numbers import plain

    table = Table()
    for name in ("timestamp", "type", "wallet", "asset", "amount", "counter", "fee", "to_wallet", "id"):
        table.add_column(name, justify="right" if name in {"amount", "counter", "fee"} else "left")
    count = 0
    for e in events:
        counter = "" if e.counter_amount is None else f"{plain(e.counter_amount)} {e.counter_asset}"
        fee = "" if e.fee_amount is None else f"{plain(e.fee_amount)} {e.fee_asset}"
        table.add_row(format_timestamp(e.timestamp), e.kind.value, e.wallet, e.asset, plain(e.amount),
                      counter, fee, e.to_wallet or "", e.id)
        count += 1
    console = Console()
    console.print(table)
    console.print(f"{count} event{'s' * (count != 1)}")


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``ledger`` to the command line."""
    app.command("import")(import_command)
    app.command("ledger")(ledger_command)
