"""Every field name the renderers use exists in the bundled IRS PDF of that year."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from marginbook.reports.fields import (
    BUNDLED_YEARS,
    FORM_4952,
    FORM_8949,
    SCHEDULE_D,
    form_year,
    nearest_year_warning,
    template_bytes,
)


def _field_names(form: str, year: int) -> set[str]:
    fields = PdfReader(io.BytesIO(template_bytes(form, year))).get_fields() or {}
    return set(fields)


@pytest.mark.parametrize("year", BUNDLED_YEARS["f8949"])
def test_form_8949_fields_exist_and_rows_per_page_match_the_form(year: int) -> None:
    names = _field_names("f8949", year)
    layout = FORM_8949[year]
    for page in (0, 1):
        used = [*layout.name_fields(page), *layout.total_fields(page)]
        for row in range(1, layout.rows_per_page + 1):
            used += layout.row_fields(page, row)
        missing = [name for name in used if name not in names]
        assert not missing, missing
        # One more row would name a field the form does not have.
        with pytest.raises(ValueError):
            layout.row_fields(page, layout.rows_per_page + 1)
    table_rows = {name.split(".Row")[1].split("[")[0] for name in names if ".Row" in name and "Page1" in name}
    assert len(table_rows) == layout.rows_per_page
    assert all(box.field in names for box in layout.boxes.values())


@pytest.mark.parametrize("year", BUNDLED_YEARS["f1040sd"])
def test_schedule_d_fields_exist(year: int) -> None:
    names = _field_names("f1040sd", year)
    layout = SCHEDULE_D[year]
    used = [*layout.name, *layout.lines.values(), *(f for line in layout.box_lines.values() for f in line)]
    assert [name for name in used if name not in names] == []


def test_form_4952_fields_exist() -> None:
    names = _field_names("f4952", 2025)
    layout = FORM_4952[2025]
    assert [name for name in (*layout.name, *layout.lines.values()) if name not in names] == []


@pytest.mark.parametrize(
    ("form", "tax_year", "used"),
    [
        ("f8949", 2025, 2025),
        ("f8949", 2024, 2024),
        ("f8949", 2026, 2025),
        ("f8949", 2021, 2024),
        ("f4952", 2024, 2025),
        ("f1040sd", 2027, 2025),
    ],
)
def test_nearest_bundled_year(form: str, tax_year: int, used: int) -> None:
    assert form_year(form, tax_year) == used
    assert (nearest_year_warning(form, tax_year) is None) == (used == tax_year)
