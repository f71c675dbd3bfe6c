"""The lot detail statement: every Form 8949 row with the acquisitions it matched.

It lists, for every row, all the columns of Parts I and II and then each acquisition the row
used (wallet, date acquired, quantity, basis, ledger id), so a preparer can audit any figure.
It is also the statement attached to a Form 8949 filed under Exception 2 (code M).
"""

from __future__ import annotations

from collections.abc import Sequence

from marginbook.domain.numbers import plain
from marginbook.reports.document import (
    ALL_BOXES,
    SCHEDULE_D_BOX_LINES,
    SHORT_TERM_BOXES,
    Form8949Row,
)
from marginbook.reports.form8949_pdf import page_totals
from marginbook.reports.formatting import form_amount, form_date
from marginbook.reports.statements import OwnPage, printable, taxpayer_line
from marginbook.reports.taxpayer import Taxpayer

#: The statement is drawn in Courier with ``FPDF.text`` (one call per line): a year of
#: 100,000 disposals is some 250,000 lines, and a cell per column would be 20 times slower.
_MONO = "Courier"
_MONO_SIZE = 7.0
_LINE_HEIGHT = 8.6
_COLUMNS = (
    (3, "<"),
    (29, "<"),
    (12, "<"),
    (12, "<"),
    (15, ">"),
    (15, ">"),
    (4, "<"),
    (13, ">"),
    (15, ">"),
    (1, "<"),
    (40, "<"),
)


def _fixed(cells: Sequence[str]) -> str:
    """One statement line: each cell cut or padded to its column."""
    parts = []
    last = len(_COLUMNS) - 1
    for index, ((width, align), cell) in enumerate(zip(_COLUMNS, cells, strict=True)):
        text = cell if index == last else cell[:width]  # ids in the last column are never cut
        parts.append(text.ljust(width) if align == "<" else text.rjust(width))
    return " ".join(parts).rstrip()


class _Statement:
    """Writes fixed-width lines onto landscape pages, starting a new page when one is full."""

    def __init__(self, title: str) -> None:
        self.pdf = OwnPage(title, landscape=True)
        self._bottom = self.pdf.h - 40
        self._y = self._bottom + 1

    def line(self, text: str, *, bold: bool = False, gap: float = 0.0) -> None:
        if self._y + gap > self._bottom:
            self.pdf.add_page()
            self._y = self.pdf.get_y() + _LINE_HEIGHT
        self._y += gap
        self.pdf.set_font(_MONO, "B" if bold else "", _MONO_SIZE)
        self.pdf.text(36, self._y, printable(text))
        self._y += _LINE_HEIGHT


def lot_statement_pdf(year: int, rows: Sequence[Form8949Row], taxpayer: Taxpayer) -> bytes:
    """The lot detail statement: every Form 8949 row with the acquisitions it matched.

    Args:
        year: the tax year.
        rows: every Form 8949 row (detail rows, never the summary rows).
        taxpayer: printed at the top when known.
    """
    sheet = _Statement(f"Form 8949 statement and lot detail, tax year {year}. {taxpayer_line(taxpayer)}")
    sheet.line("Each Form 8949 row (all columns of Parts I and II), then one line per acquisition it used:")
    sheet.line(
        "  the wallet under (a), the date acquired under (b), the quantity disposed of under (d), "
        "its cost basis under (e), and the acquisition's ledger id last."
    )
    header = _fixed(
        (
            "Box",
            "(a) Description",
            "(b) Acquired",
            "(c) Sold",
            "(d) Proceeds",
            "(e) Cost basis",
            "(f)",
            "(g) Adjust.",
            "(h) Gain/loss",
            "",
            "Disposal id",
        )
    )
    for box in ALL_BOXES:
        box_rows = [row for row in rows if row.box == box]
        if not box_rows:
            continue
        term = "short-term (Part I)" if box in SHORT_TERM_BOXES else "long-term (Part II)"
        line = next(name for name, boxes in SCHEDULE_D_BOX_LINES.items() if box in boxes)
        plural = "" if len(box_rows) == 1 else "s"
        sheet.line(
            f"Box {box}, {term}: {len(box_rows)} row{plural}, totals to Schedule D {line.replace('_', ' ')}",
            bold=True,
            gap=_LINE_HEIGHT,
        )
        sheet.line(header, bold=True)
        for row in box_rows:
            adjustment = form_amount(row.adjustment) if row.adjustment or row.adjustment_code else ""
            sheet.line(
                _fixed(
                    (
                        row.box,
                        row.description,
                        form_date(row.date_acquired),
                        form_date(row.date_sold),
                        form_amount(row.proceeds),
                        form_amount(row.cost_basis),
                        row.adjustment_code,
                        adjustment,
                        form_amount(row.gain),
                        "",
                        row.disposal_id,
                    )
                )
            )
            for lot in row.lots:
                sheet.line(
                    _fixed(
                        (
                            "",
                            f"  lot from {lot.wallet}",
                            form_date(lot.acquired_on),
                            "",
                            f"{plain(lot.quantity)} {row.asset}",
                            form_amount(lot.cost_basis),
                            "",
                            "",
                            "",
                            "",
                            f"lot {lot.acquisition_id}",
                        )
                    )
                )
        t = page_totals(box_rows)
        sheet.line(
            _fixed(
                (
                    "",
                    f"Total box {box}",
                    "",
                    "",
                    form_amount(t.proceeds),
                    form_amount(t.cost_basis),
                    "",
                    form_amount(t.adjustment),
                    form_amount(t.gain),
                    "",
                    "",
                )
            ),
            bold=True,
        )
    if not rows:
        sheet.line("No dispositions this year.")
    return bytes(sheet.pdf.output())
