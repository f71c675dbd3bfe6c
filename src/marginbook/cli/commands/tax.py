"""``marginbook tax``: Form 8949, Schedule D and Form 4952 figures for one tax year."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from marginbook.cli.context import state

if TYPE_CHECKING:
    from marginbook.tax.report import TaxReport


class OutputFormat(StrEnum):
    """``--format`` choices."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"
    TXF = "txf"
    TURBOTAX = "turbotax"


class Form8949Mode(StrEnum):
    """``--8949`` choices: a Form 8949 row per disposal, or Exception 2 summary rows."""

    DETAIL = "detail"
    SUMMARY = "summary"


class MethodChoice(StrEnum):
    """``--method`` choices."""

    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    LOFO = "lofo"


class ScopeChoice(StrEnum):
    """``--scope`` choices."""

    UNIVERSAL = "universal"
    WALLET = "wallet"
    TRANSITION = "transition"


def register(app: typer.Typer) -> None:
    """Add the ``tax`` command."""
    app.command("tax")(tax)


def tax(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", help="Tax year.")],
    method: Annotated[
        MethodChoice | None,
        typer.Option(
            "--method", help="Lot method for every year of this run (default: the profile's, else FIFO)."
        ),
    ] = None,
    scope: Annotated[
        ScopeChoice,
        typer.Option(
            "--scope", help="universal, wallet, or transition (universal before 2025, per wallet after)."
        ),
    ] = ScopeChoice.TRANSITION,
    profile: Annotated[Path | None, typer.Option("--profile", help="Taxpayer profile (TOML).")] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.TABLE,
    out: Annotated[Path | None, typer.Option("--out", help="Write files to this directory.")] = None,
    form_8949_mode: Annotated[
        Form8949Mode,
        typer.Option(
            "--8949",
            help="pdf: a Form 8949 row per disposal (detail), or one code-M row per box and wallet "
            "with the statement attached (summary, Exception 2).",
        ),
    ] = Form8949Mode.DETAIL,
    allocation: Annotated[
        Path | None,
        typer.Option(
            "--allocation", help="Rev. Proc. 2024-28 allocation CSV (asset,wallet,acquisition_id,quantity)."
        ),
    ] = None,
    allow_missing_basis: Annotated[
        bool,
        typer.Option("--allow-missing-basis", help="Use zero basis (with a warning) where no lots are left."),
    ] = False,
    ledger: Annotated[
        list[Path] | None,
        typer.Option("--ledger", help="Tax these ledger CSV files instead of the database."),
    ] = None,
) -> None:
    """Compute Form 8949, Schedule D and Form 4952 for one tax year."""
    from marginbook.app.tax_year import TaxRequest, tax_ledger_files
    from marginbook.app.tax_year import tax_year as tax_from_db
    from marginbook.domain.errors import MarginbookError
    from marginbook.tax.book import Scope
    from marginbook.tax.methods import Method

    request = TaxRequest(
        year=year,
        method=Method(method.value) if method else None,
        scope=Scope(scope.value),
        profile_path=profile,
        allocation_path=allocation,
        allow_missing_basis=allow_missing_basis,
    )
    if output_format is OutputFormat.PDF and out is None:
        raise MarginbookError("--format pdf needs --out DIR")
    # One short-lived run builds millions of acyclic objects (events, lots, rows, JSON); the
    # cyclic collector would rescan them all repeatedly, so it stays off for the command.
    gc.disable()
    with _progress_on_terminal():
        report = tax_ledger_files(ledger, request) if ledger else tax_from_db(state(ctx).db_url, request)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    with _progress_on_terminal():
        _emit(report, output_format, out, form_8949_mode)
    from marginbook.cli.process import done

    done()  # the console program ends here, without freeing the report object by object


@contextmanager
def _progress_on_terminal() -> Iterator[None]:
    """Show the tax run's stages (:mod:`marginbook.tax.progress`) as a progress bar on stderr,
    when stderr is a terminal; the bar goes away when the block ends. Elsewhere (a pipe, a
    file, a test) nothing is shown and nothing listens."""
    if not sys.stderr.isatty():
        yield
        return
    from rich import progress as rich
    from rich.console import Console

    from marginbook.tax.progress import listen

    # "done/total" only for the stages that count (a pulsing bar alone for the others).
    count = rich.TextColumn("{task.fields[count]}")
    with rich.Progress(
        rich.SpinnerColumn(), rich.TextColumn("{task.description}"), rich.BarColumn(), count,
        rich.TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:  # fmt: skip

        def show(stage: str, done: int | None, total: int | None) -> None:
            """One task a stage (its own count and elapsed time): the bar's only task."""
            counted = f"{done or 0:,}/{total:,}" if total is not None else ""
            if bar.tasks and bar.tasks[-1].description == stage:
                bar.update(bar.tasks[-1].id, completed=done or 0, count=counted)
                return
            for task in bar.tasks:
                bar.remove_task(task.id)
            bar.add_task(stage, total=total, completed=done or 0, count=counted)

        with listen(show):
            yield


def _emit(report: TaxReport, output_format: OutputFormat, out: Path | None, mode: Form8949Mode) -> None:
    from marginbook.tax.document import allocation_csv, allocation_fields, to_document
    from marginbook.tax.progress import report as report_progress

    report_progress(f"writing {output_format.value}")

    # The allocation's texts, made once for its CSV and the JSON document (only those use them).
    wanted = output_format is OutputFormat.JSON or (out is not None and bool(report.allocation))
    allocation = allocation_fields(report.allocation) if wanted else []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if report.allocation:
            (out / "allocation-2025-01-01.csv").write_text(
                allocation_csv(report.allocation, allocation), encoding="utf-8"
            )
    if output_format is OutputFormat.JSON:
        # ``json.dumps(to_document(report))``, its long lists written without building dicts.
        from marginbook.tax.document_json import write_document_json

        if out is None:
            write_document_json(report, sys.stdout, allocation)
        else:
            path = out / f"tax-{report.year}.json"
            with path.open("w", encoding="utf-8") as stream:
                write_document_json(report, stream, allocation)
            print(f"wrote {path}", file=sys.stderr)
    elif output_format is OutputFormat.TABLE:
        _table(report)
    else:
        # pdf, csv, txf, turbotax: the forms part renders the engine's document.
        from marginbook.reports.exports import export_text, write_export

        document = to_document(report)
        if out is None:
            # pdf has been refused without --out; the text formats print their one file.
            sys.stdout.write(export_text(output_format.value, document))
            return
        for path in write_export(
            output_format.value, document, out, report.profile, form_8949_mode=mode.value
        ):
            print(f"wrote {path}", file=sys.stderr)


def _table(report: TaxReport) -> None:
    from rich.console import Console
    from rich.table import Table

    from marginbook.domain.numbers import plain
    from marginbook.tax.document import usd

    console = Console()
    rows = Table(title=f"Form 8949, tax year {report.year} ({report.method.value}, {report.scope})")
    for column in ("box", "description", "acquired", "sold", "proceeds", "basis", "gain", "wallet"):
        rows.add_column(column, justify="right" if column in ("proceeds", "basis", "gain") else "left")
    for row in report.rows:
        rows.add_row(
            row.box,
            row.description,
            row.date_acquired.isoformat() if row.date_acquired else "VARIOUS",
            row.date_sold.isoformat(),
            usd(row.proceeds),
            usd(row.cost_basis),
            usd(row.gain),
            row.wallet,
        )
    console.print(rows)
    sched = report.schedule_d
    summary = Table(title="Schedule D and Form 4952")
    summary.add_column("line")
    summary.add_column("amount", justify="right")
    for name, value in (
        ("Sch. D line 7 (net short-term)", sched.line_7),
        ("Sch. D line 15 (net long-term)", sched.line_15),
        ("Sch. D line 16", sched.line_16),
        ("Sch. D line 21", sched.line_21),
        ("carryover short-term", sched.carryover.short_term),
        ("carryover long-term", sched.carryover.long_term),
        ("Form 4952 line 8 (deduction)", report.form_4952.line_8),
        ("Form 4952 line 7 (carried forward)", report.form_4952.line_7),
    ):
        summary.add_row(name, usd(value))
    console.print(summary)
    if report.income:
        total = sum((i.usd_value for i in report.income), start=type(sched.line_7)(0))
        console.print(f"income: {len(report.income)} item(s), {usd(total)} USD")
    if report.gifts:
        console.print(
            f"gifts and donations: {len(report.gifts)} item(s); units: "
            + ", ".join(f"{plain(g.quantity)} {g.asset}" for g in report.gifts)
        )
