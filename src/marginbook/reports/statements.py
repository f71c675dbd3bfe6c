"""Pages in our own layout: the year's summary, the carryover worksheet, the DRAFT stamp.

These are drawn with fpdf2 (the IRS has no form for them); the lot detail statement, which
shares the page style, is in :mod:`marginbook.reports.lot_statement`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from marginbook.domain.numbers import D
from marginbook.reports.document import (
    LONG_TERM_BOXES,
    SHORT_TERM_BOXES,
    TaxDocument,
)
from marginbook.reports.form4952_pdf import has_investment_interest
from marginbook.reports.form8949_pdf import page_totals
from marginbook.reports.formatting import form_amount
from marginbook.reports.taxpayer import Taxpayer
from marginbook.reports.worksheet import CarryoverWorksheet

_FONT = "Helvetica"
_ENCODING = "windows-1252"


def printable(text: str) -> str:
    """Text the standard PDF fonts can show (Windows-1252); anything else becomes '?'."""
    return text.encode(_ENCODING, errors="replace").decode(_ENCODING)


def stamp_pdf(text: str, width_pt: float, height_pt: float) -> bytes:
    """A transparent page with ``text`` in red at its top, to draw over a form page."""
    pdf = FPDF(unit="pt", format=(width_pt, height_pt))
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font(_FONT, "B", 14)
    pdf.set_text_color(200, 0, 0)
    pdf.set_xy(0, 8)
    pdf.cell(width_pt, 16, printable(text), align="C")
    return bytes(pdf.output())


class OwnPage(FPDF):
    """A letter page with our header line, in points."""

    def __init__(self, title: str, *, landscape: bool = False) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="pt", format="letter")
        self.core_fonts_encoding = _ENCODING
        self.set_margins(36, 36, 36)
        self.set_auto_page_break(True, margin=36)
        self._title = title
        self.set_title(printable(title))
        self.set_creator("marginbook")

    def header(self) -> None:
        self.set_font(_FONT, "B", 11)
        self.cell(0, 14, printable(self._title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(_FONT, "", 8)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-28)
        self.set_font(_FONT, "", 7)
        self.cell(0, 10, f"Page {self.page_no()}", align="R")

    def heading(self, text: str) -> None:
        self.ln(6)
        self.set_font(_FONT, "B", 9)
        self.cell(0, 12, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(_FONT, "", 8)

    def line_text(self, text: str, *, bold: bool = False) -> None:
        self.set_font(_FONT, "B" if bold else "", 8)
        self.multi_cell(0, 10, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_row(
        self,
        cells: Sequence[str],
        widths: Sequence[float],
        aligns: str,
        *,
        bold: bool = False,
        height: float = 10,
    ) -> None:
        self.set_font(_FONT, "B" if bold else "", 7.5)
        for text, width, align in zip(cells, widths, aligns, strict=True):
            self.cell(width, height, printable(text), align=align)
        self.ln(height)


def taxpayer_line(taxpayer: Taxpayer) -> str:
    """The taxpayer as our pages name them: name and TIN, or a note that neither was given."""
    parts = [part for part in (taxpayer.name, f"TIN {taxpayer.tin}" if taxpayer.tin else "") if part]
    return ", ".join(parts) if parts else "Taxpayer: (name and TIN not given)"


def _amount_of(record: Any) -> str:
    for key in ("usd_value", "amount_usd", "value_usd", "income", "amount"):
        if key in record:
            return str(record[key])
    return ""


_INCOME_SHOWN = 12


def _income_table(pdf: OwnPage, income: Sequence[Mapping[str, Any]]) -> None:
    """The engine's income records as a table (date, kind, wallet, units, USD value) and their total."""
    if not income:
        pdf.line_text("None recorded.")
        return
    widths = (55, 60, 80, 110, 75, 110)
    aligns = "LLLRRL"
    pdf.table_row(("Date", "Kind", "Wallet", "Units", "USD value", "Ledger id"), widths, aligns, bold=True)
    total = Decimal(0)
    for record in income:
        value = _decimal_or_none(record.get("usd_value"))
        total += value or 0
    for record in income[:_INCOME_SHOWN]:
        value = _decimal_or_none(record.get("usd_value"))
        pdf.table_row(
            (
                str(record.get("date", "")),
                str(record.get("kind", "")),
                str(record.get("wallet", "")),
                f"{record.get('quantity', '')} {record.get('asset', '')}".strip(),
                form_amount(value) if value is not None else "",
                str(record.get("event_id", ""))[:28],
            ),
            widths,
            aligns,
        )
    if len(income) > _INCOME_SHOWN:
        pdf.line_text(f"... and {len(income) - _INCOME_SHOWN} more income records (see the JSON).")
    pdf.table_row(("", "", "", f"{len(income)} records", form_amount(total), ""), widths, aligns, bold=True)


def _decimal_or_none(value: Any) -> Decimal | None:
    try:
        return D(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except ValueError:
        return None


def summary_pdf(document: TaxDocument, taxpayer: Taxpayer, notes: Iterable[str] = ()) -> bytes:
    """The one-page summary: gains by term and box, income, interest, carryforwards, warnings.

    Args:
        document: the typed tax document.
        taxpayer: printed at the top when known.
        notes: extra warnings from rendering (e.g. a form of another year was used).
    """
    pdf = OwnPage(f"marginbook tax summary, tax year {document.year}")
    pdf.add_page()
    pdf.line_text(taxpayer_line(taxpayer))
    if document.method:
        pdf.line_text(f"Cost-basis method: {document.method}")
    pdf.heading("Capital gains and losses (Form 8949 by box, Schedule D)")
    widths = (40, 40, 50, 85, 85, 75, 85)
    pdf.table_row(
        ("Box", "Term", "Rows", "Proceeds (d)", "Cost basis (e)", "Adjust. (g)", "Gain or loss (h)"),
        widths,
        "LLRRRRR",
        bold=True,
    )
    for term, boxes in (("short", SHORT_TERM_BOXES), ("long", LONG_TERM_BOXES)):
        term_rows = [row for row in document.rows if row.box in boxes]
        for box in boxes:
            rows = [row for row in term_rows if row.box == box]
            if rows:
                t = page_totals(rows)
                pdf.table_row(
                    (
                        box,
                        term,
                        str(len(rows)),
                        form_amount(t.proceeds),
                        form_amount(t.cost_basis),
                        form_amount(t.adjustment),
                        form_amount(t.gain),
                    ),
                    widths,
                    "LLRRRRR",
                )
        t = page_totals(term_rows)
        pdf.table_row(
            (
                "",
                f"{term} total",
                str(len(term_rows)),
                form_amount(t.proceeds),
                form_amount(t.cost_basis),
                form_amount(t.adjustment),
                form_amount(t.gain),
            ),
            widths,
            "LLRRRRR",
            bold=True,
        )
    sd = document.schedule_d
    for key, label in (
        ("line_7", "Schedule D line 7, net short-term"),
        ("line_15", "line 15, net long-term"),
        ("line_16", "line 16, total"),
        ("line_21", "line 21, loss deducted this year"),
    ):
        if key in sd.lines:
            pdf.line_text(f"{label}: {form_amount(sd.lines[key])}")
    pdf.heading("Income (ordinary)")
    _income_table(pdf, document.income)
    if document.gifts_and_donations:
        pdf.line_text(
            f"Gifts and donations: {len(document.gifts_and_donations)} records "
            f"(first: {_amount_of(document.gifts_and_donations[0])})."
        )
    pdf.heading("Interest")
    # The engine always writes Form 4952's lines; a year without investment interest files no 4952.
    f4952 = document.form_4952 if has_investment_interest(document.form_4952) else None
    if f4952:
        pdf.line_text(
            f"Form 4952: investment interest line 1 {form_amount(f4952.get('line_1', Decimal(0)))}, "
            f"prior-year carryforward line 2 {form_amount(f4952.get('line_2', Decimal(0)))}, "
            f"net investment income line 6 {form_amount(f4952.get('line_6', Decimal(0)))}, "
            f"deduction line 8 {form_amount(f4952.get('line_8', Decimal(0)))} (Schedule A line 9)."
        )
    if document.schedule_c:
        described = ", ".join(f"{k} {form_amount(v)}" for k, v in document.schedule_c.items())
        pdf.line_text(f"Schedule C (trader): {described}.")
    if not f4952 and not document.schedule_c:
        pdf.line_text("No investment interest.")
    pdf.heading("Carried to next year")
    pdf.line_text(
        f"Capital loss: short-term {form_amount(sd.carryover_short_term)}, "
        f"long-term {form_amount(sd.carryover_long_term)}."
    )
    if f4952:
        pdf.line_text(
            f"Disallowed investment interest (Form 4952 line 7): "
            f"{form_amount(f4952.get('line_7', Decimal(0)))}."
        )
    pdf.heading("Warnings")
    warnings = [*document.warnings, *notes]
    for warning in warnings[:25] or ["None."]:
        pdf.line_text(f"- {warning}" if warnings else warning)
    if len(warnings) > 25:
        pdf.line_text(f"... and {len(warnings) - 25} more (see the JSON document).")
    return bytes(pdf.output())


_WORKSHEET_TEXT = {
    "1": "Taxable income (Form 1040 line 15); if zero or less, enter the loss",
    "2": "Loss from Schedule D line 21, as a positive amount",
    "3": "Line 1 plus line 2 (zero if less)",
    "4": "Smaller of line 2 or line 3",
    "5": "Loss from Schedule D line 7, as a positive amount",
    "6": "Gain, if any, from Schedule D line 15",
    "7": "Line 4 plus line 6",
    "8": "Short-term capital loss carryover to next year: line 5 minus line 7 (zero if less)",
    "9": "Loss from Schedule D line 15, as a positive amount",
    "10": "Gain, if any, from Schedule D line 7",
    "11": "Line 4 minus line 5 (zero if less)",
    "12": "Line 10 plus line 11",
    "13": "Long-term capital loss carryover to next year: line 9 minus line 12 (zero if less)",
}


def worksheet_pdf(
    year: int, worksheet: CarryoverWorksheet, engine_short: Decimal, engine_long: Decimal, taxpayer: Taxpayer
) -> bytes:
    """The Capital Loss Carryover Worksheet as a page of its own, with the engine's figures beside it."""
    pdf = OwnPage(f"Capital Loss Carryover Worksheet, tax year {year} (carryover to {year + 1})")
    pdf.add_page()
    pdf.line_text(taxpayer_line(taxpayer))
    pdf.line_text(
        "Lines 5-8 apply only when Schedule D line 7 is a loss; lines 9-13 only when line 15 is a loss."
    )
    pdf.ln(4)
    for number, text in _WORKSHEET_TEXT.items():
        value = worksheet.lines.get(number)
        shown = "not needed" if value is None else form_amount(value)
        if number == "1" and worksheet.taxable_income_assumed:
            shown = "not given"
        pdf.table_row(
            (f"{number}.", text, shown), (22, 420, 98), "LLR", bold=number in ("8", "13"), height=14
        )
    pdf.ln(6)
    if worksheet.taxable_income_assumed:
        pdf.line_text(
            "Line 1 was not given (profile [year] taxable_income); the worksheet takes it as zero or "
            "more, so line 4 equals line 2. Enter it if the year's taxable income was negative."
        )
    pdf.line_text(
        f"Carryover reported by the tax engine: short-term {form_amount(engine_short)}, "
        f"long-term {form_amount(engine_long)}."
    )
    if (worksheet.short_term_carryover, worksheet.long_term_carryover) != (engine_short, engine_long):
        pdf.line_text(
            "These differ from lines 8 and 13 above: check line 1 and the Schedule D lines.", bold=True
        )
    return bytes(pdf.output())
