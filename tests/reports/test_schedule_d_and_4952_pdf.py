"""Schedule D and Form 4952 on the IRS forms, and the carryover worksheet page: figures to the cent."""

from __future__ import annotations

from decimal import Decimal

from marginbook.reports.worksheet import carryover_worksheet
from tests.reports import examples
from tests.reports.conftest import Rendered
from tests.reports.pdf_text import page_texts


def test_loss_year_lines_carry_the_loss_limit_and_the_worksheet(rendered: Rendered) -> None:
    files = rendered("loss_year_2024", "pdf", profile=True)
    page1, page2, worksheet = page_texts(files["schedule-d-2024.pdf"])
    lines1 = page1.splitlines()
    # Line 3 (box C): proceeds, cost, gain; line 7 the net short-term loss in parentheses.
    assert "16,001.20 24,001.20 (8,000.00)" in lines1  # 16 rows: sum of 1,000.00 + i cents, and +8,000
    assert "(8,000.00)" in lines1 and "1,000.00" in lines1
    assert "3,000.00 2,000.00 1,000.00" in lines1  # line 10 (box F)
    assert "(7,000.00)" in page2  # line 16
    # Line 21 prints its own parentheses: the allowed loss is written as 3,000.00.
    assert "3,000.00" in page2 and "(3,000.00)" not in page2
    assert "Capital Loss Carryover Worksheet" in worksheet
    assert "50,000.00" in worksheet and "53,000.00" in worksheet and "4,000.00" in worksheet
    assert "These differ" not in worksheet


def test_gain_year_has_no_worksheet_page(rendered: Rendered) -> None:
    files = rendered("example_2_fifo", "pdf")
    pages = page_texts(files["schedule-d-2025.pdf"])
    assert len(pages) == 2
    assert "7,500.00 5,750.00 1,750.00" in pages[0].splitlines()  # line 10 (box F or L)
    assert "1,750.00" in pages[1]  # line 16


def test_worksheet_matches_the_spec_formulas() -> None:
    sheet = carryover_worksheet(Decimal("-8000"), Decimal("1000"), Decimal("-3000"), Decimal("50000"))
    assert sheet.lines["4"] == Decimal("3000")
    assert (sheet.short_term_carryover, sheet.long_term_carryover) == (Decimal("4000"), Decimal("0"))
    # Long-term loss absorbed after the short-term one: ST -1,000, LT -9,000, deduction 3,000.
    sheet = carryover_worksheet(Decimal("-1000"), Decimal("-9000"), Decimal("-3000"), Decimal("20000"))
    assert (sheet.short_term_carryover, sheet.long_term_carryover) == (Decimal("0"), Decimal("7000"))
    # Negative taxable income shrinks line 4, so more is carried.
    sheet = carryover_worksheet(Decimal("-5000"), Decimal("0"), Decimal("-3000"), Decimal("-2000"))
    assert sheet.lines["4"] == Decimal("1000") and sheet.short_term_carryover == Decimal("4000")


def test_example_6_form_4952_lines(rendered: Rendered) -> None:
    files = rendered("example_6_interest", "pdf", profile=True)
    (text,) = page_texts(files["form-4952-2025.pdf"])
    lines = text.splitlines()
    document = examples.example_6_interest()["form_4952"]
    assert document["line_8"] == "3000.00" and document["line_7"] == "1000.00"
    assert lines.count("4,000.00") == 2  # lines 1 and 3
    assert lines.count("3,000.00") == 5  # 4d, 4f, 4h, 6, 8
    assert lines.count("1,000.00") == 1  # line 7, carried to 2026
    assert "Jane Q. Trader" in text


def test_no_form_4952_without_investment_interest(rendered: Rendered) -> None:
    files = rendered("example_2_fifo", "pdf")
    assert not any(name.startswith("form-4952") for name in files)


def test_summary_page_names_gains_by_box_interest_and_carryforwards(rendered: Rendered) -> None:
    files = rendered("example_6_interest", "pdf")
    (text,) = page_texts(files["summary-2025.pdf"])
    assert "10,000.00 7,000.00 0.00 3,000.00" in text
    assert "deduction line 8 3,000.00" in text
    assert "(Form 4952 line 7): 1,000.00" in text


def test_box_lines_without_transactions_stay_blank(rendered: Rendered) -> None:
    page1, _ = page_texts(rendered("example_8_fees", "pdf")["schedule-d-2025.pdf"])
    lines = page1.splitlines()
    assert "2,990.00 2,257.50 732.50" in lines  # line 2 (box B or H)
    # Lines 1b, 3, 8b, 9, 10 are left empty; the one 0.00 is line 15, the engine's net long-term figure.
    assert " ".join(lines).split().count("0.00") == 1
