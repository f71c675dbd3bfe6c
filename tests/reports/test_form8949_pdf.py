"""Form 8949 on the IRS form: the figures of the worked examples, page totals, boxes, summary mode."""

from __future__ import annotations

import functools
import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from marginbook.domain.errors import MarginbookError
from marginbook.reports.document import Form8949Row, read_document
from marginbook.reports.fields import FORM_8949, template_bytes
from marginbook.reports.form8949_pdf import paginate
from marginbook.reports.formatting import form_amount
from tests.reports import examples
from tests.reports.conftest import Render, Rendered
from tests.reports.pdf_text import page_texts, placed_texts


@functools.cache
def _widget_rects(form: str, year: int) -> dict[str, tuple[float, ...]]:
    """Full field name -> widget rectangle, read from the bundled IRS PDF itself."""
    rects: dict[str, tuple[float, ...]] = {}
    for page in PdfReader(io.BytesIO(template_bytes(form, year))).pages:
        for ref in page.get("/Annots", []):
            widget: Any = ref.get_object()
            names = []
            node = widget
            while node is not None:
                if "/T" in node:
                    names.append(str(node["/T"]))
                node = node.get("/Parent").get_object() if "/Parent" in node else None
            rects[".".join(reversed(names))] = tuple(float(v) for v in widget["/Rect"])
    return rects


def _checked_box(path: Any, page: int, year: int) -> str:
    """Which box's checkbox the check mark was drawn in, on a page of a flattened Form 8949."""
    rects = _widget_rects("f8949", year)
    marks = [p for p in placed_texts(path, page) if p.text in ("✔", "4")]
    assert len(marks) == 1, f"expected exactly one check mark, found {marks}"
    mark = marks[0]
    part_ii = "Part II" in page_texts(path)[page]
    inside = [
        box
        for box, check in FORM_8949[year].boxes.items()
        if (".Page2[" in check.field) == part_ii
        and rects[check.field][0] <= mark.x <= rects[check.field][2]
        and rects[check.field][1] <= mark.y <= rects[check.field][3]
    ]
    assert len(inside) == 1, f"check mark at ({mark.x}, {mark.y}) is in boxes {inside}"
    return inside[0]


def test_example_2_fifo_row_shows_the_json_figures_on_part_ii_box_l(rendered: Rendered) -> None:
    files = rendered("example_2_fifo", "pdf", profile=True)
    path = files["form-8949-2025.pdf"]
    (text,) = page_texts(path)
    assert "Part II" in text and "Long-Term" in text
    for figure in (
        "2.5 ETH",
        "VARIOUS",
        "08/01/2025",
        "7,500.00",
        "5,750.00",
        "1,750.00",
        "Jane Q. Trader",
        "123-45-6789",
    ):
        assert figure in text, figure
    assert _checked_box(path, 0, 2025) == "L"


def test_example_8_fee_rows_and_line_2_totals(rendered: Rendered) -> None:
    path = rendered("example_8_fees", "pdf")["form-8949-2025.pdf"]
    (text,) = page_texts(path)
    assert "01/01/2025" not in text
    lines = text.splitlines()
    for row in (
        "02/03/2025 09/01/2025 1,990.00 1,500.00 490.00",
        "02/03/2025 10/01/2025 990.00 750.00 240.00",
        "02/03/2025 10/01/2025 10.00 7.50 2.50",
    ):
        assert row in lines, row
    # Line 2: (d) 2,990.00, (e) 2,257.50, no adjustment, (h) 732.50 = the spec's short-term total.
    assert "2,990.00 2,257.50 732.50" in lines
    assert _checked_box(path, 0, 2025) == "H"


def test_no_profile_leaves_name_and_tin_blank(rendered: Rendered) -> None:
    (text,) = page_texts(rendered("example_2_fifo", "pdf")["form-8949-2025.pdf"])
    assert "Jane" not in text and "123-45-6789" not in text


def test_the_tax_profile_fills_name_and_tin(render: Render) -> None:
    from marginbook.tax.profile import Profile

    profile = Profile(name="John Doe", tin="987-65-4321")
    (text,) = page_texts(render("pdf", examples.example_2_fifo(), profile)["form-8949-2025.pdf"])
    assert "John Doe" in text and "987-65-4321" in text


def _amounts(line: str) -> list[Decimal]:
    values = []
    for token in line.split():
        negative = token.startswith("(")
        digits = token.strip("()").replace(",", "")
        values.append(-Decimal(digits) if negative else Decimal(digits))
    return values


def test_sixteen_rows_of_2024_make_two_part_i_pages_whose_totals_add_up(render: Render) -> None:
    document = examples.loss_year_2024(rows=16)
    path = render("pdf", document, examples.PROFILE)["form-8949-2024.pdf"]
    texts = page_texts(path)
    assert len(texts) == 3  # 14 + 2 rows in box C, then the box F page
    short_rows = [row for row in document["form_8949"] if row["box"] == "C"]
    page_sums = []
    for page, chunk in enumerate((short_rows[:14], short_rows[14:])):
        expected = [
            sum((Decimal(r[key]) for r in chunk), Decimal(0)) for key in ("proceeds", "cost_basis", "gain")
        ]
        total_line = next(
            line
            for line in texts[page].splitlines()
            if _amounts_or_none(line) and len(line.split()) == 3 and line.split()[2].startswith("(")
        )
        assert _amounts(total_line) == expected
        page_sums.append(expected)
        assert _checked_box(path, page, 2024) == "C"
        for row in chunk:
            assert row["description"] in texts[page]
    line_3 = document["schedule_d"]["line_3"]
    assert [sum(column) for column in zip(*page_sums, strict=True)] == [
        Decimal(line_3["proceeds"]),
        Decimal(line_3["cost_basis"]),
        Decimal(line_3["gain"]),
    ]
    assert _checked_box(path, 2, 2024) == "F"


def _amounts_or_none(line: str) -> list[Decimal] | None:
    try:
        return _amounts(line)
    except ArithmeticError:
        return None


def test_every_row_is_paginated_into_its_own_box_in_form_order() -> None:
    document = read_document(examples.loss_year_2024(rows=16))
    pages = list(paginate(document.rows, FORM_8949[2024].rows_per_page))
    assert [(page.box, len(page.rows)) for page in pages] == [("C", 14), ("C", 2), ("F", 1)]
    assert all(row.box == page.box for page in pages for row in page.rows)
    assert sum(len(page.rows) for page in pages) == len(document.rows)


def test_summary_mode_writes_one_code_m_row_per_box_with_the_totals(render: Render) -> None:
    document = examples.loss_year_2024(rows=16)
    files = render("pdf", document, form_8949_mode="summary")
    texts = page_texts(files["form-8949-2024.pdf"])
    assert len(texts) == 2
    assert "ledger see attached statement" in texts[0]
    line_3 = document["schedule_d"]["line_3"]
    proceeds, cost = form_amount(Decimal(line_3["proceeds"])), form_amount(Decimal(line_3["cost_basis"]))
    expected = f"{proceeds} {cost} M 0.00 (8,000.00)"
    assert expected == "16,001.20 24,001.20 M 0.00 (8,000.00)"
    assert expected in texts[0].splitlines()
    assert "3,000.00 2,000.00 M 0.00 1,000.00" in texts[1].splitlines()
    statement = "\n".join(page_texts(files["form-8949-statement-2024.pdf"]))
    for row in document["form_8949"]:
        assert row["disposal_id"] in statement


def test_a_year_without_its_form_is_filled_on_the_nearest_and_stamped_draft(render: Render) -> None:
    document = examples.loss_year_2024(rows=3)
    document["year"] = 2023
    files = render("pdf", document)
    for name in ("form-8949-2023.pdf", "schedule-d-2023.pdf"):
        assert "DRAFT — form of tax year 2024" in page_texts(files[name])[0]
    summary = page_texts(files["summary-2023.pdf"])[0]
    assert "no form for tax year 2023 is bundled" in summary


def test_digital_asset_box_on_a_2024_form_is_refused(render: Render) -> None:
    document = examples.example_2_fifo()
    document["year"] = 2024
    with pytest.raises(MarginbookError, match="no box L"):
        render("pdf", document)


def test_example_2_hifo_one_disposal_lands_in_box_i_and_box_l(rendered: Rendered) -> None:
    path = rendered("example_2_hifo", "pdf")["form-8949-2025.pdf"]
    part_i, part_ii = page_texts(path)
    assert "02/01/2025 08/01/2025 3,000.00 2,800.00 200.00" in part_i.splitlines()
    assert "VARIOUS 08/01/2025 4,500.00 4,500.00 0.00" in part_ii.splitlines()
    assert (_checked_box(path, 0, 2025), _checked_box(path, 1, 2025)) == ("I", "L")


def test_turbotax_lines_of_example_2_hifo_carry_each_lots_date_and_the_spec_figures(
    rendered: Rendered,
) -> None:
    (path,) = rendered("example_2_hifo", "turbotax").values()
    lines = path.read_text().splitlines()[1:]
    # Spec Ex 2 HIFO: L2 3,000 / 3,500; L3 3,000 / 2,800; L1 1,500 / 1,000.
    assert sorted(lines) == sorted(
        [
            "ETH,02/01/2025,2800.00,08/01/2025,3000.00",
            "ETH,06/15/2024,3500.00,08/01/2025,3000.00",
            "ETH,01/10/2024,1000.00,08/01/2025,1500.00",
        ]
    )


_box = st.sampled_from(sorted(FORM_8949[2025].boxes))
_cents = st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: Decimal(c) / 100)


@given(st.lists(st.tuples(_box, _cents, _cents, _cents), max_size=60), st.sampled_from([11, 14]))
def test_pages_keep_every_row_in_its_box_and_their_totals_add_to_the_box_totals(
    rows: list[tuple[str, Decimal, Decimal, Decimal]], per_page: int
) -> None:
    typed = [
        Form8949Row(
            box,
            "short" if box in "ABCGHI" else "long",
            f"r{i}",
            "ETH",
            "w",
            Decimal(1),
            "2025-01-01",
            "2025-02-01",
            proceeds,
            cost,
            "",
            adjustment,
            proceeds - cost + adjustment,
            f"d{i}",
            (),
        )
        for i, (box, proceeds, cost, adjustment) in enumerate(rows)
    ]
    pages = list(paginate(typed, per_page))
    assert [row.disposal_id for page in pages for row in page.rows] == [
        row.disposal_id for box in "ABCGHIDEFJKL" for row in typed if row.box == box
    ]
    for page in pages:
        assert 1 <= len(page.rows) <= per_page and {row.box for row in page.rows} == {page.box}
    for box in {row.box for row in typed}:
        box_rows = [row for row in typed if row.box == box]
        summed = [page.totals for page in pages if page.box == box]
        assert sum((t.proceeds for t in summed), Decimal(0)) == sum(
            (r.proceeds for r in box_rows), Decimal(0)
        )
        assert sum((t.gain for t in summed), Decimal(0)) == sum((r.gain for r in box_rows), Decimal(0))
        assert sum((t.adjustment for t in summed), Decimal(0)) == sum(
            (r.adjustment for r in box_rows), Decimal(0)
        )
