"""Render one page of each PDF with pdftoppm (poppler-utils) and check the filled values are drawn.

pdftoppm is a system tool: without it the test is skipped with a message, except under
CI=true, where it fails (the CI script installs poppler-utils).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from marginbook.reports.fields import template_bytes
from tests.reports.conftest import Rendered

PDFTOPPM = shutil.which("pdftoppm")


@pytest.fixture
def pdftoppm() -> str:
    if PDFTOPPM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing: install poppler-utils (apt-get install -y poppler-utils)")
        pytest.skip("pdftoppm not found: install poppler-utils to render the PDFs in tests")
    return PDFTOPPM


def _png(tool: str, pdf: Path, page: int, out: Path) -> Image.Image:
    prefix = out / f"{pdf.stem}-{page}"
    subprocess.run(
        [
            tool,
            "-r",
            "60",
            "-gray",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            "-png",
            str(pdf),
            str(prefix),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Image.open(f"{prefix}.png").convert("L")


def _dark_pixels(image: Image.Image) -> int:
    return sum(image.point(lambda value: 255 if value < 128 else 0).histogram()[255:])


@pytest.mark.parametrize(
    ("document", "name", "form", "year", "page"),
    [
        ("example_8_fees", "form-8949-2025.pdf", "f8949", 2025, 1),
        ("loss_year_2024", "schedule-d-2024.pdf", "f1040sd", 2024, 1),
        ("example_6_interest", "form-4952-2025.pdf", "f4952", 2025, 1),
    ],
)
def test_filled_form_page_differs_from_the_blank_form(
    rendered: Rendered,
    tmp_path: Path,
    pdftoppm: str,
    document: str,
    name: str,
    form: str,
    year: int,
    page: int,
) -> None:
    filled = _png(pdftoppm, rendered(document, "pdf", profile=True)[name], page, tmp_path)
    blank_pdf = tmp_path / f"blank-{form}.pdf"
    blank_pdf.write_bytes(template_bytes(form, year))
    blank = _png(pdftoppm, blank_pdf, page, tmp_path)
    assert filled.size == blank.size
    assert _dark_pixels(blank) > 10_000  # the form itself is drawn
    difference = ImageChops.difference(filled, blank).point(lambda value: 255 if value > 64 else 0)
    assert sum(difference.histogram()[255:]) > 300, "the filled values do not show on the rendered page"


@pytest.mark.parametrize("name", ["summary-2024.pdf", "form-8949-statement-2024.pdf", "schedule-d-2024.pdf"])
def test_own_layout_pages_are_not_blank(rendered: Rendered, tmp_path: Path, pdftoppm: str, name: str) -> None:
    files = rendered("loss_year_2024", "pdf", profile=True)
    last_page = 3 if name.startswith("schedule-d") else 1  # the worksheet is Schedule D's third page
    assert _dark_pixels(_png(pdftoppm, files[name], last_page, tmp_path)) > 1_000
