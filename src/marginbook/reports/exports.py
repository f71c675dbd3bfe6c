"""Write the tax year's files: filled IRS forms (pdf), CSV, TXF or TurboTax CSV.

This is what ``marginbook tax --format pdf|csv|txf|turbotax --out DIR`` calls. Each file
is written beside its final name and renamed into place only when every file of the
format has been produced, so a failure leaves no half-written set behind.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter

from marginbook.domain.errors import InputError, InputProblem, MarginbookError
from marginbook.domain.numbers import D
from marginbook.reports.aggregate import summary_rows
from marginbook.reports.csv_export import csv_text
from marginbook.reports.document import TaxDocument, read_document
from marginbook.reports.fields import (
    FORM_4952,
    SCHEDULE_D,
    form_year,
    nearest_year_warning,
    template_bytes,
)
from marginbook.reports.form4952_pdf import fill_form_4952, has_investment_interest
from marginbook.reports.form8949_pdf import fill_form_8949, layout_for
from marginbook.reports.lot_statement import lot_statement_pdf
from marginbook.reports.pdf_fill import FormFiller
from marginbook.reports.schedule_d_pdf import fill_schedule_d
from marginbook.reports.statements import stamp_pdf, summary_pdf, worksheet_pdf
from marginbook.reports.taxpayer import Taxpayer, taxpayer_of
from marginbook.reports.turbotax import turbotax_text
from marginbook.reports.txf import txf_text
from marginbook.reports.worksheet import carryover_worksheet
from marginbook.tax.profile import Profile

log = logging.getLogger(__name__)

FORMATS = ("pdf", "csv", "txf", "turbotax")
FORM_8949_MODES = ("detail", "summary")

_LETTER = (612.0, 792.0)


def _taxable_income(document: TaxDocument, profile: Profile | None) -> Decimal | None:
    """Form 1040 taxable income of the year, for worksheet line 1.

    The engine's document carries it (``taxable_income``, from the profile's ``[year.Y]``);
    a document without it falls back on the profile given, else ``None`` (not known).
    """
    value = document.extra.get("taxable_income")
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        try:
            return D(value)
        except ValueError:
            raise InputError(
                InputProblem("document", None, "taxable_income", f"not a number: {value!r}")
            ) from None
    if profile is None:
        return None
    return profile.year(document.year).taxable_income


def _filler(form: str, tax_year: int, output: PdfWriter, notes: list[str]) -> tuple[FormFiller, int]:
    year = form_year(form, tax_year)
    warning = nearest_year_warning(form, tax_year)
    stamp = None
    if warning is not None:
        notes.append(warning)
        log.warning(warning)
        stamp = stamp_pdf(f"DRAFT — form of tax year {year}", *_LETTER)
    return FormFiller(template_bytes(form, year), output, stamp), year


def _write_pdf(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _append(writer: PdfWriter, pdf: bytes) -> None:
    writer.append(PdfReader(io.BytesIO(pdf)))


def _pdf_files(
    document: TaxDocument, taxpayer: Taxpayer, profile: Profile | None, form_8949_mode: str
) -> dict[str, Callable[[], bytes]]:
    """File name -> a function that renders it (called in order; notes of earlier files reach the summary)."""
    year = document.year
    notes: list[str] = []
    files: dict[str, Callable[[], bytes]] = {}

    if document.rows:

        def form_8949() -> bytes:
            output = PdfWriter()
            filler, used = _filler("f8949", year, output, notes)
            rows = list(document.rows) if form_8949_mode == "detail" else summary_rows(document.rows)
            fill_form_8949(output, filler, layout_for(used), rows, taxpayer)
            return _write_pdf(output)

        files[f"form-8949-{year}.pdf"] = form_8949

    def schedule_d() -> bytes:
        output = PdfWriter()
        filler, used = _filler("f1040sd", year, output, notes)
        fill_schedule_d(filler, SCHEDULE_D[used], document.schedule_d, taxpayer)
        sd = document.schedule_d
        if sd.line("line_16") < 0 or sd.line("line_21") < 0:
            sheet = carryover_worksheet(
                sd.line("line_7"), sd.line("line_15"), sd.line("line_21"), _taxable_income(document, profile)
            )
            _append(
                output, worksheet_pdf(year, sheet, sd.carryover_short_term, sd.carryover_long_term, taxpayer)
            )
        return _write_pdf(output)

    files[f"schedule-d-{year}.pdf"] = schedule_d

    if has_investment_interest(document.form_4952):
        lines = document.form_4952 or {}

        def form_4952() -> bytes:
            output = PdfWriter()
            filler, used = _filler("f4952", year, output, notes)
            fill_form_4952(filler, FORM_4952[used], lines, taxpayer)
            return _write_pdf(output)

        files[f"form-4952-{year}.pdf"] = form_4952

    if document.rows:
        files[f"form-8949-statement-{year}.pdf"] = lambda: lot_statement_pdf(year, document.rows, taxpayer)
    files[f"summary-{year}.pdf"] = lambda: summary_pdf(document, taxpayer, notes)
    return files


def export_text(fmt: str, document: Mapping[str, Any]) -> str:
    """The text of a ``csv``, ``txf`` or ``turbotax`` export, for printing when no ``--out`` is given.

    Raises:
        InputError: an unknown or non-text format, or a malformed document.
    """
    typed = read_document(document)
    if fmt == "csv":
        return csv_text(typed.rows)
    if fmt == "txf":
        return txf_text(typed.rows, datetime.now(UTC).date())
    if fmt == "turbotax":
        return turbotax_text(typed.rows)
    raise InputError(InputProblem("--format", None, "format", f"expected csv, txf or turbotax, got {fmt!r}"))


def write_export(
    fmt: str,
    document: Mapping[str, Any],
    out_dir: Path,
    profile: Profile | None = None,
    *,
    form_8949_mode: str = "detail",
) -> list[Path]:
    """Write the files of one export format for one tax year.

    Args:
        fmt: ``pdf`` (filled IRS forms and our statements), ``csv`` (Form 8949 rows),
            ``txf`` (TXF V042) or ``turbotax`` (TurboTax Online crypto CSV).
        document: the tax engine's JSON document (``marginbook tax --format json``).
        out_dir: the directory to write into (created if missing).
        profile: the tax engine's profile, for the name and TIN on the forms (and the
            taxable income of the carryover worksheet when the document lacks it);
            ``None`` leaves them blank.
        form_8949_mode: ``detail`` (a Form 8949 row per disposal) or ``summary`` (one
            code-M row per box and wallet, the statement attached: Exception 2). PDF only.

    Returns:
        The paths written, in a stable order.

    Raises:
        InputError: an unknown format or mode, or a malformed document (nothing is written).
        MarginbookError: a row whose box the form in use does not have.
    """
    if fmt not in FORMATS:
        raise InputError(
            InputProblem("--format", None, "format", f"expected one of {', '.join(FORMATS)}, got {fmt!r}")
        )
    if form_8949_mode not in FORM_8949_MODES:
        raise InputError(
            InputProblem("--8949", None, "mode", f"expected detail or summary, got {form_8949_mode!r}")
        )
    typed = read_document(document)
    year = typed.year
    renderers: dict[str, Callable[[], bytes]]
    if fmt == "pdf":
        renderers = _pdf_files(typed, taxpayer_of(profile), profile, form_8949_mode)
    elif fmt == "csv":
        renderers = {f"form-8949-{year}.csv": lambda: csv_text(typed.rows).encode("utf-8")}
    elif fmt == "txf":
        today = datetime.now(UTC).date()
        renderers = {f"form-8949-{year}.txf": lambda: txf_text(typed.rows, today).encode("ascii")}
    else:
        renderers = {f"turbotax-crypto-{year}.csv": lambda: turbotax_text(typed.rows).encode("utf-8")}
    out_dir.mkdir(parents=True, exist_ok=True)
    pending: list[tuple[Path, Path]] = []
    try:
        for name, render in renderers.items():
            final = out_dir / name
            temporary = out_dir / f".{name}.partial"
            temporary.write_bytes(render())
            pending.append((temporary, final))
    except BaseException:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in pending:
        os.replace(temporary, final)
    return [final for _, final in pending]


__all__ = ["FORMATS", "FORM_8949_MODES", "MarginbookError", "export_text", "write_export"]
