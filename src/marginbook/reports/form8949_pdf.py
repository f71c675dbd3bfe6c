"""Form 8949 on the IRS's own form: one set of pages per checkbox, page totals on line 2.

The form allows one checked box per page, so rows are grouped by the box the engine chose
and each group is cut into pages of the form's row count (14 on the 2024 form, 11 on the
2025 form). Line 2 of each page totals that page only, as the form asks; Schedule D adds
the pages of a box together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pypdf import PdfWriter

from marginbook.domain.errors import MarginbookError
from marginbook.reports.document import ALL_BOXES, Form8949Row, LineTotals
from marginbook.reports.fields import FORM_8949, Form8949Layout
from marginbook.reports.formatting import form_amount, form_date
from marginbook.reports.pdf_fill import FormFiller
from marginbook.reports.taxpayer import Taxpayer


@dataclass(frozen=True, slots=True)
class Form8949Page:
    """One page of Form 8949 as it will be printed.

    Attributes:
        box: the checked box.
        rows: the rows on the page (at most the form's row count).
        totals: line 2 of the page.
    """

    box: str
    rows: tuple[Form8949Row, ...]
    totals: LineTotals


def page_totals(rows: Iterable[Form8949Row]) -> LineTotals:
    """Line 2: the sums of columns (d), (e), (g) and (h)."""
    total = LineTotals()
    for row in rows:
        total = total + LineTotals(row.proceeds, row.cost_basis, row.adjustment, row.gain)
    return total


def paginate(rows: Sequence[Form8949Row], rows_per_page: int) -> Iterator[Form8949Page]:
    """Cut the rows into pages: boxes in the forms' order (Part I, then Part II), rows in the engine's order.

    Args:
        rows: every Form 8949 row of the year.
        rows_per_page: table rows on one page of the form in use.

    Yields:
        The pages, each with its line 2 totals.
    """
    by_box: dict[str, list[Form8949Row]] = {box: [] for box in ALL_BOXES}
    for row in rows:
        by_box[row.box].append(row)
    for box in ALL_BOXES:
        box_rows = by_box[box]
        for start in range(0, len(box_rows), rows_per_page):
            chunk = tuple(box_rows[start : start + rows_per_page])
            yield Form8949Page(box, chunk, page_totals(chunk))


def row_values(row: Form8949Row) -> tuple[str, ...]:
    """Columns (a)-(h) of a row as written on the form (column (g) blank when there is no adjustment)."""
    adjustment = form_amount(row.adjustment) if row.adjustment or row.adjustment_code else ""
    return (
        row.description,
        form_date(row.date_acquired),
        form_date(row.date_sold),
        form_amount(row.proceeds),
        form_amount(row.cost_basis),
        row.adjustment_code,
        adjustment,
        form_amount(row.gain),
    )


def page_values(layout: Form8949Layout, page: Form8949Page, taxpayer: Taxpayer) -> dict[str, str]:
    """Every field value of one printed page."""
    if page.box not in layout.boxes:
        raise MarginbookError(
            f"the {layout.year} Form 8949 has no box {page.box}; boxes G-L exist from the 2025 form on"
        )
    index = layout.page_index(page.box)
    name_field, tin_field = layout.name_fields(index)
    box = layout.boxes[page.box]
    values = {name_field: taxpayer.name, tin_field: taxpayer.tin, box.field: box.on}
    for number, row in enumerate(page.rows, start=1):
        values.update(zip(layout.row_fields(index, number), row_values(row), strict=True))
    totals = page.totals
    has_adjustment = any(row.adjustment or row.adjustment_code for row in page.rows)
    values.update(
        zip(
            layout.total_fields(index),
            (
                form_amount(totals.proceeds),
                form_amount(totals.cost_basis),
                form_amount(totals.adjustment) if has_adjustment else "",
                form_amount(totals.gain),
            ),
            strict=True,
        )
    )
    return values


def fill_form_8949(
    output: PdfWriter,
    filler: FormFiller,
    layout: Form8949Layout,
    rows: Sequence[Form8949Row],
    taxpayer: Taxpayer,
) -> int:
    """Append every Form 8949 page of ``rows`` to ``output``; return the number of pages written."""
    count = 0
    for page in paginate(rows, layout.rows_per_page):
        filler.add_page(layout.page_index(page.box), page_values(layout, page, taxpayer))
        count += 1
    return count


def layout_for(form_year: int) -> Form8949Layout:
    """The field layout of the bundled Form 8949 of ``form_year``."""
    return FORM_8949[form_year]
