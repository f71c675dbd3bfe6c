"""Bad documents are refused with the JSON path of the field at fault, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marginbook.domain.errors import InputError
from marginbook.reports.document import read_document
from marginbook.reports.exports import write_export
from marginbook.reports.formatting import form_amount, form_date, form_magnitude
from marginbook.reports.taxpayer import Taxpayer, taxpayer_of
from tests.reports import examples


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_document(document)
    return [str(problem) for problem in caught.value.problems]


def test_float_amount_names_its_row_and_field() -> None:
    document = examples.example_8_fees()
    document["form_8949"][1]["proceeds"] = 990.0
    assert _problems(document) == [
        "document:form_8949[1]: proceeds: decimals are strings in the document, not the float 990.0"
    ]


def test_every_problem_is_reported_at_once() -> None:
    document = examples.example_2_fifo()
    row = document["form_8949"][0]
    row["box"] = "Q"
    row["date_sold"] = "08/01/2025"
    row["lots"][1]["cost_basis"] = "1,750.00"
    document["schedule_d"]["line_7"] = "n/a"
    assert _problems(document) == [
        "document:form_8949[0]: box: not a Form 8949 box (A-L): 'Q'",
        "document:form_8949[0]: date_sold: not a date YYYY-MM-DD: '08/01/2025'",
        "document:form_8949[0].lots[1]: cost_basis: not a decimal number: '1,750.00'",
        "document:schedule_d: line_7: not a decimal number: 'n/a'",
    ]


def test_box_and_term_must_agree() -> None:
    document = examples.example_2_fifo()
    document["form_8949"][0]["term"] = "short"
    assert _problems(document) == ["document:form_8949[0]: box: box L is not a short-term box"]


@pytest.mark.parametrize("fmt", ["pdf", "csv", "txf", "turbotax"])
def test_a_bad_document_writes_nothing(tmp_path: Path, fmt: str) -> None:
    document = examples.example_6_interest()
    document["form_4952"]["line_8"] = "3.000,00"
    with pytest.raises(InputError, match=r"document:form_4952: line_8"):
        write_export(fmt, document, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_format_and_mode_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="expected one of pdf, csv, txf, turbotax"):
        write_export("xlsx", examples.example_2_fifo(), tmp_path)
    with pytest.raises(InputError, match="expected detail or summary"):
        write_export("pdf", examples.example_2_fifo(), tmp_path, form_8949_mode="brief")


def test_a_failing_render_leaves_no_partial_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import marginbook.reports.exports as exports

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "summary_pdf", broken)
    with pytest.raises(RuntimeError):
        write_export("pdf", examples.example_2_fifo(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_taxpayer_comes_from_the_tax_profiles_flat_name_and_tin() -> None:
    import tomllib

    from marginbook.tax.profile_file import parse_profile

    profile = parse_profile(tomllib.loads('[taxpayer]\nname = " Ann "\ntin = "12-3456789"\n'), "p.toml")
    assert taxpayer_of(profile) == Taxpayer("Ann", "12-3456789")
    assert taxpayer_of(None) == Taxpayer()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1500", "1,500.00"),
        ("-250", "(250.00)"),
        ("0.005", "0.01"),
        ("-0.004", "0.00"),
        ("1234567.891", "1,234,567.89"),
    ],
)
def test_form_amounts_use_parentheses_for_losses(value: str, text: str) -> None:
    from decimal import Decimal

    assert form_amount(Decimal(value)) == text


def test_form_dates_and_magnitudes() -> None:
    from decimal import Decimal

    assert form_date("2025-08-01") == "08/01/2025"
    assert form_date("various") == "VARIOUS"
    assert form_magnitude(Decimal("-3000")) == "3,000.00"


def test_worksheet_line_1_falls_back_on_the_profiles_year_when_the_document_lacks_it(tmp_path: Path) -> None:
    from decimal import Decimal

    from marginbook.tax.profile import Profile, YearSettings
    from tests.reports.pdf_text import page_texts

    profile = Profile(name="A", years={2024: YearSettings(taxable_income=Decimal("-2000"))})
    paths = write_export("pdf", examples.loss_year_2024(rows=2), tmp_path, profile)
    worksheet = page_texts(next(p for p in paths if p.name.startswith("schedule-d")))[2]
    # Negative taxable income: line 1 (2,000.00), line 3 = 1,000.00 = line 4, line 7 = 1,000 + 1,000,
    # so 8,000 - 2,000 = 6,000.00 is carried; the engine's document says 4,000.00: the page shows the gap.
    assert "(2,000.00)" in worksheet and "6,000.00" in worksheet
    assert "These differ" in worksheet


def test_export_text_is_the_file_content(tmp_path: Path) -> None:
    from marginbook.reports.exports import export_text

    document = examples.example_8_fees()
    (path,) = write_export("csv", document, tmp_path)
    assert export_text("csv", document).encode("utf-8") == path.read_bytes()
    with pytest.raises(InputError, match="expected csv, txf or turbotax"):
        export_text("pdf", document)
