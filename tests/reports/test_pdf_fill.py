"""The filler's appearance cache gives exactly what pypdf generates for each value."""

from __future__ import annotations

from pypdf import PdfWriter

from marginbook.reports.fields import FORM_8949, template_bytes
from marginbook.reports.pdf_fill import FormFiller


def test_digit_swapped_appearances_equal_pypdfs_own() -> None:
    filler = FormFiller(template_bytes("f8949", 2025), PdfWriter())
    layout = FORM_8949[2025]
    fields = layout.row_fields(0, 3)
    samples = {
        fields[0]: ["0.12345678 ETH", "9.87654321 ETH", "1 BTC"],
        fields[1]: ["01/10/2024", "12/31/2023", "VARIOUS"],
        fields[3]: ["1,500.00", "9,876.54", "(250.00)", "(1,234,567.89)", "0.00"],
        fields[7]: ["(260.00)", "731.05", "1,000,000.00"],
    }
    for field, values in samples.items():
        for value in values:
            # Through the cache (after a first value of the same pattern) ...
            _, cached = filler._appearance(0, field, value)
            # ... and straight from pypdf.
            direct = filler._generate(0, field, value)
            assert cached == direct, (field, value)
    # The cache did serve digit-swapped values: one pypdf template per pattern.
    assert any(shape_value[1] == "0,000.00" for shape_value in filler._cache)
