"""From ledger to forms: the worked examples of spec/us-tax-rules.md section 8, end to end.

Each case is a ledger CSV and a profile TOML. The real command runs on them twice:
``marginbook tax --format json`` gives the engine's figures, and ``--format pdf|csv|txf
--out DIR`` writes the files. The tests then read the files back (pypdf for the PDFs) and
check that every figure the engine computed is on the forms to the cent, *in the field it
belongs in*: a value is looked for inside the rectangle of its field on the IRS's unfilled
form, so a figure drawn on the wrong line or in the wrong column fails. Expected strings are
formatted here from the JSON, independently of the renderers' own formatting code.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from marginbook.cli.main import app
from marginbook.reports.fields import FORM_4952, FORM_8949, SCHEDULE_D
from marginbook.reports.txf import parse_txf
from tests.reports.pdf_text import filled_texts, page_texts, template_texts, text_in_field, widget_rects

HEADER = "id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value"
NAME, TIN = "Jane Q. Trader", "123-45-6789"
TAXPAYER = f'[taxpayer]\nname = "{NAME}"\ntin = "{TIN}"\n'

EX2 = f"""{HEADER}
L1,2024-01-10T12:00:00Z,buy,coinbase,ETH,2.0,USD,4000,,,
L2,2024-06-15T12:00:00Z,buy,coinbase,ETH,1.0,USD,3500,,,
L3,2025-02-01T12:00:00Z,buy,coinbase,ETH,1.0,USD,2800,,,
S,2025-08-01T12:00:00Z,sell,coinbase,ETH,2.5,USD,7530,USD,30,
"""
EX3 = f"""{HEADER}
A1,2023-01-05T12:00:00Z,buy,wallet-a,BTC,1,USD,20000,,,
B1,2024-03-10T12:00:00Z,buy,wallet-b,BTC,1,USD,70000,,,
S,2025-05-01T12:00:00Z,sell,wallet-b,BTC,1,USD,95000,,,
"""
EX6 = f"""{HEADER}
i1,2025-03-31T00:00:00Z,interest,kraken,USD,1500,,,,,
b1,2025-04-01T00:00:00Z,buy,kraken,BTC,1,USD,50000,,,
i2,2025-06-30T00:00:00Z,interest,kraken,USD,2500,,,,,
s1,2025-07-01T00:00:00Z,sell,kraken,BTC,1,USD,53000,,,
"""
# Ex 6, 2026 (b): only a long-term gain of 5,000 in 2026.
EX6_B = (
    EX6
    + """b2,2025-08-01T00:00:00Z,buy,kraken,ETH,10,USD,20000,,,
s2,2026-09-01T00:00:00Z,sell,kraken,ETH,10,USD,25000,,,
"""
)
EX8 = f"""{HEADER}
buy,2025-02-03T10:00:00Z,buy,kraken,ETH,1,USD,2985,USD,15,
sell,2025-09-01T10:00:00Z,sell,kraken,ETH,0.5,USD,2000,USD,10,
swap,2025-10-01T10:00:00Z,sell,kraken,ETH,0.25,BTC,0.01,ETH,0.0025,1000
"""
# A 2024 short-term loss of 10,000 and long-term loss of 3,000: 3,000 deducted in 2024,
# 7,000 short-term and 3,000 long-term carried into 2025, where a short-term gain of 1,000
# is made (lines 6 and 14 of 2025: 7,000 and 3,000).
CARRY = f"""{HEADER}
old,2022-01-01T00:00:00Z,buy,ledger,ETH,1,USD,5000,,,
b24,2024-01-05T00:00:00Z,buy,ledger,BTC,1,USD,50000,,,
lt,2024-02-01T00:00:00Z,sell,ledger,ETH,1,USD,2000,,,
st,2024-06-01T00:00:00Z,sell,ledger,BTC,1,USD,40000,,,
b25,2025-01-10T00:00:00Z,buy,ledger,SOL,10,USD,3000,,,
s25,2025-03-01T00:00:00Z,sell,ledger,SOL,10,USD,4000,,,
"""
INCOME = f"""{HEADER}
r1,2025-03-01T00:00:00Z,income,kraken,ETH,0.1,,,,,300
r2,2025-04-01T00:00:00Z,income,kraken,ETH,0.1,,,,,320
s1,2025-06-01T00:00:00Z,sell,kraken,ETH,0.2,USD,700,,,
"""
HIFO_2025 = '[year.2025]\nmethod = "hifo"\nmethod_since = "2025-01-01T00:00:00Z"\n'
COINBASE_GROSS = '[wallets.coinbase]\ncustodial = true\nform_1099da = "gross_only"\n'


@dataclass(frozen=True)
class Case:
    """One worked example: the ledger, the profile, the year taxed and the form year filled."""

    ledger: str
    year: int
    profile: str = ""
    form_year: int = 2025


CASES = {
    "ex2_fifo": Case(EX2, 2025, COINBASE_GROSS),
    "ex2_hifo": Case(EX2, 2025, HIFO_2025),
    "ex3_per_wallet": Case(EX3, 2025),
    "ex6_2025": Case(EX6, 2025),
    "ex6_2026_a": Case(EX6, 2026, '[year.2026]\ninvestment_income = "2500"\n'),
    "ex6_2026_b": Case(EX6_B, 2026),
    "ex6_2026_b_4g": Case(EX6_B, 2026, '[year.2026]\nelect_4g = "1000"\n'),
    "ex8_fees": Case(EX8, 2025),
    # Ex 9: a $10,000 net section 1256 gain (Form 6781) beside Ex 8: 4,000 on line 4, 6,000 on line 11.
    "ex9_1256": Case(EX8, 2025, '[year.2025]\nsection_1256_gain = "10000"\n'),
    "income": Case(INCOME, 2025),
    "carry_2024": Case(CARRY, 2024, '[year.2024]\ntaxable_income = "50000"\n', form_year=2024),
    "carry_2025": Case(CARRY, 2025, '[year.2025]\ntaxable_income = "60000"\n'),
}


@dataclass(frozen=True)
class Run:
    """What the command produced for one case: the JSON document and the files by name."""

    document: dict[str, Any]
    files: dict[str, Path]
    form_year: int
    args: tuple[str, ...]  # --year, --ledger and --profile of the case, to run the command again


def _tax(args: list[str]) -> str:
    result = CliRunner().invoke(app, ["tax", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")  # bytes: .stdout turns CRLF into LF


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """Run ``marginbook tax`` on a case once per session: JSON, then pdf, csv and txf into one folder."""
    cache: dict[str, Run] = {}

    def go(name: str) -> Run:
        if name not in cache:
            case = CASES[name]
            folder = tmp_path_factory.mktemp(name)
            (folder / "ledger.csv").write_text(case.ledger)
            (folder / "profile.toml").write_text(TAXPAYER + case.profile)
            common = ["--year", str(case.year), "--ledger", str(folder / "ledger.csv")]
            common += ["--profile", str(folder / "profile.toml")]
            document = json.loads(_tax([*common, "--format", "json"]))
            out = folder / "out"
            for fmt in ("pdf", "csv", "txf"):
                _tax([*common, "--format", fmt, "--out", str(out)])
            files = {p.name: p for p in out.iterdir()}
            cache[name] = Run(document, files, case.form_year, tuple(common))
        return cache[name]

    return go


def shown(value: str) -> str:
    """How an amount of the JSON must read on a form: ``1,500.00``, a loss as ``(250.00)``."""
    amount = Decimal(value)
    text = f"{abs(amount):,.2f}"
    return f"({text})" if amount < 0 else text


def us_date(value: str) -> str:
    """``2025-08-01`` as ``08/01/2025``; ``VARIOUS`` as is."""
    if value == "VARIOUS":
        return value
    year, month, day = value.split("-")
    return f"{month}/{day}/{year}"


class FilledPage:
    """One page of a flattened form, read as {field name: the text drawn inside that field}."""

    def __init__(self, path: Path, page: int, form: str, year: int, template_page: int | None = None) -> None:
        template = page if template_page is None else template_page
        self.placed = filled_texts(path, page, form, year, template)
        self.rects = widget_rects(form, year)

    def __getitem__(self, field: str) -> str:
        return text_in_field(self.placed, self.rects[field])

    def checked(self, candidates: dict[str, str]) -> list[str]:
        """The candidates (label -> checkbox field) whose box has the check mark drawn in it."""
        marks = [p for p in self.placed if p.text in ("✔", "4")]
        return [label for label, field in candidates.items() if text_in_field(marks, self.rects[field])]


def printed_line_of(
    field: str, form: str, year: int, template_page: int, min_x: float, max_x: float = 612, above: float = 0
) -> str:
    """The line number the blank form prints level with ``field``'s widget (the IRS's own rectangle).

    Independent of our line-to-field map: a map that sends line 7's value to line 6's field
    fails here, although looking the value up through the same map would agree with itself.
    """
    _, y0, _, y1 = widget_rects(form, year)[field]
    level = (y0 + y1) / 2 + above
    texts = template_texts(form, year, template_page)
    labels = [p for p in texts if min_x <= p.x <= max_x and p.text[:1].isdigit()]
    nearest = min(labels, key=lambda label: abs(label.y - level))
    assert abs(nearest.y - level) < 6, f"{field}: no line number level with it"
    return nearest.text


def printed_column_of(field: str, year: int, part: int) -> str:
    """The Form 8949 column header, ``(a)`` ... ``(h)``, nearest to the middle of ``field``'s widget."""
    x0, _, x1, _ = widget_rects("f8949", year)[field]
    headers = {
        p.text: p.x + 5
        for p in template_texts("f8949", year, part)
        if p.text in ("(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)", "(h)")
    }
    return min(headers, key=lambda column: abs(headers[column] - (x0 + x1) / 2))


def schedule_d_column_of(field: str, year: int) -> str:
    """The Schedule D column whose header starts last before the middle of ``field``'s widget."""
    x0, _, x1, _ = widget_rects("f1040sd", year)[field]
    starts = {
        p.text[:3]: p.x
        for p in template_texts("f1040sd", year, 0)
        if p.text[:3] in ("(d)", "(e)", "(g)", "(h)")
    }
    return max((column for column in starts if starts[column] <= (x0 + x1) / 2), key=lambda c: starts[c])


BOX_ORDER = "ABCGHIDEFJKL"
ALL_CASES = sorted(CASES)
CASES_WITH_ROWS = [name for name in ALL_CASES if name != "ex6_2026_a"]


# --- Form 8949 ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES_WITH_ROWS)
def test_form_8949_rows_and_page_totals_are_in_their_fields_in_the_box_the_engine_chose(
    run: Callable[[str], Run], name: str
) -> None:
    result = run(name)
    layout = FORM_8949[result.form_year]
    path = result.files[f"form-8949-{result.document['year']}.pdf"]
    rows = result.document["form_8949"]
    assert rows, "every case with rows has at least one"
    expected_pages = []
    for box in BOX_ORDER:
        box_rows = [row for row in rows if row["box"] == box]
        for start in range(0, len(box_rows), layout.rows_per_page):
            expected_pages.append((box, box_rows[start : start + layout.rows_per_page]))
    assert len(page_texts(path)) == len(expected_pages)
    for number, (box, page_rows) in enumerate(expected_pages):
        part = layout.page_index(box)
        page = FilledPage(path, number, "f8949", layout.year, part)
        same_part = {b: c.field for b, c in layout.boxes.items() if layout.page_index(b) == part}
        assert page.checked(same_part) == [box], f"page {number + 1}"
        assert page[layout.name_fields(part)[0]] == NAME
        assert page[layout.name_fields(part)[1]] == TIN
        for index, row in enumerate(page_rows, start=1):
            fields = layout.row_fields(part, index)
            columns = [printed_column_of(field, layout.year, part) for field in fields]
            assert columns == ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)", "(h)"]
            a, b, c, d, e, f, g, h = fields
            assert (page[a], page[b], page[c]) == (
                row["description"],
                us_date(row["date_acquired"]),
                us_date(row["date_sold"]),
            )
            assert (page[d], page[e], page[h]) == (
                shown(row["proceeds"]),
                shown(row["cost_basis"]),
                shown(row["gain"]),
            )
            assert page[f] == row["adjustment_code"]
            has_adjustment = Decimal(row["adjustment"]) != 0 or row["adjustment_code"]
            assert page[g] == (shown(row["adjustment"]) if has_adjustment else "")
        tops = [widget_rects("f8949", layout.year)[layout.row_fields(part, i)[3]][1] for i in range(1, 4)]
        assert tops == sorted(tops, reverse=True), "row 1 is the top row"
        total_d, total_e, _, total_h = layout.total_fields(part)
        for field, key in ((total_d, "proceeds"), (total_e, "cost_basis"), (total_h, "gain")):
            assert page[field] == shown(str(sum(Decimal(row[key]) for row in page_rows))), key
        # Nothing is drawn in a row below the last one the page holds.
        for index in range(len(page_rows) + 1, layout.rows_per_page + 1):
            assert all(page[field] == "" for field in layout.row_fields(part, index))


def test_section_1256_gain_is_split_onto_lines_4_and_11(run: Callable[[str], Run]) -> None:
    layout = SCHEDULE_D[2025]
    schedule = run("ex9_1256").document["schedule_d"]
    assert (schedule["line_4"], schedule["line_11"]) == ("4000.00", "6000.00")
    page1 = FilledPage(run("ex9_1256").files["schedule-d-2025.pdf"], 0, "f1040sd", 2025)
    assert (page1[layout.lines["line_4"]], page1[layout.lines["line_11"]]) == ("4,000.00", "6,000.00")
    # Line 7 = 732.50 (Ex 8) + 4,000.00; line 15 = 6,000.00.
    assert (page1[layout.lines["line_7"]], page1[layout.lines["line_15"]]) == ("4,732.50", "6,000.00")


def test_the_worked_examples_land_in_the_boxes_of_the_spec(run: Callable[[str], Run]) -> None:
    # Ex 2 FIFO in a gross-only broker account: box K (long-term, 1099-DA without basis).
    assert [row["box"] for row in run("ex2_fifo").document["form_8949"]] == ["K"]
    # Ex 2 HIFO, self-custody: the short-term L3 slice in box I, the long-term rest in box L.
    assert [row["box"] for row in run("ex2_hifo").document["form_8949"]] == ["I", "L"]
    # Ex 3: per-wallet basis 70,000, long-term gain 25,000, box L.
    (row,) = run("ex3_per_wallet").document["form_8949"]
    assert (row["box"], row["cost_basis"], row["gain"]) == ("L", "70000.00", "25000.00")
    # Ex 8: three short-term rows totalling 732.50; the 2024 loss year uses boxes C and F.
    assert sum(Decimal(r["gain"]) for r in run("ex8_fees").document["form_8949"]) == Decimal("732.50")
    assert [row["box"] for row in run("carry_2024").document["form_8949"]] == ["F", "C"]


def test_form_8949_summary_mode_has_one_code_m_row_per_box_with_the_schedule_d_totals(
    run: Callable[[str], Run], tmp_path: Path
) -> None:
    result = run("ex2_hifo")
    common = result.args
    _tax([*common, "--format", "pdf", "--8949", "summary", "--out", str(tmp_path)])
    path = tmp_path / "form-8949-2025.pdf"
    layout = FORM_8949[2025]
    schedule = result.document["schedule_d"]
    for number, (box, line) in enumerate((("I", "line_3"), ("L", "line_10"))):
        part = layout.page_index(box)
        page = FilledPage(path, number, "f8949", 2025, part)
        a, b, c, d, e, f, _, h = layout.row_fields(part, 1)
        assert page[a] == "coinbase see attached statement"
        assert (page[b], page[c], page[f]) == ("", "", "M")
        assert (page[d], page[e], page[h]) == (
            shown(schedule[line]["proceeds"]),
            shown(schedule[line]["cost_basis"]),
            shown(schedule[line]["gain"]),
        )
        assert all(page[field] == "" for field in layout.row_fields(part, 2))
    statement = "\n".join(page_texts(tmp_path / "form-8949-statement-2025.pdf"))
    assert "lot L3" in statement and "lot L1" in statement and "lot L2" in statement


# --- Schedule D ------------------------------------------------------------------------------

#: Lines whose parentheses the form prints: a loss is written there as its magnitude.
PRINTED_PARENTHESES = {"line_6", "line_14", "line_21"}
#: Lines of amounts from outside the ledger (Form 6781, K-1s ...): blank unless the profile gives one.
OUTSIDE_LEDGER = {"line_4", "line_5", "line_11", "line_12", "line_13"}


@pytest.mark.parametrize("name", ALL_CASES)
def test_schedule_d_lines_are_the_engines_to_the_cent(run: Callable[[str], Run], name: str) -> None:
    result = run(name)
    layout = SCHEDULE_D[result.form_year]
    path = result.files[f"schedule-d-{result.document['year']}.pdf"]
    pages = [FilledPage(path, index, "f1040sd", layout.year) for index in (0, 1)]
    schedule = result.document["schedule_d"]
    assert (pages[0][layout.name[0]], pages[0][layout.name[1]]) == (NAME, TIN)
    for line, fields in layout.box_lines.items():
        # The IRS's own widgets: below the line number printed on the left, under (d), (e), (g), (h).
        assert printed_line_of(fields[0], "f1040sd", layout.year, 0, 0, 60, above=8) == line[5:]
        assert [schedule_d_column_of(f, layout.year) for f in fields] == ["(d)", "(e)", "(g)", "(h)"]
        totals = schedule[line]
        drawn = tuple(pages[0][field] for field in fields)
        if all(Decimal(value) == 0 for value in totals.values()):
            assert drawn == ("", "", "", ""), line
        else:
            adjustment = shown(totals["adjustment"]) if Decimal(totals["adjustment"]) else ""
            assert drawn == (
                shown(totals["proceeds"]),
                shown(totals["cost_basis"]),
                adjustment,
                shown(totals["gain"]),
            ), line
    for line in (
        *("line_4", "line_5", "line_6", "line_7", "line_11", "line_12", "line_13"),
        *("line_14", "line_15", "line_16", "line_21"),
    ):
        field = layout.lines[line]
        template_page = 1 if ".Page2[" in field else 0
        assert printed_line_of(field, "f1040sd", layout.year, template_page, 460) == line[5:]
        value = Decimal(schedule[line])
        if line in PRINTED_PARENTHESES:  # carryovers and the loss allowed: the form prints "( )"
            expected = f"{abs(value):,.2f}" if value else ""
        elif line in OUTSIDE_LEDGER:  # blank unless there is an amount, for the preparer
            expected = shown(schedule[line]) if value else ""
        else:
            expected = shown(schedule[line])
        assert pages[1 if ".Page2[" in field else 0][field] == expected, line


def _worksheet_line(text: str, number: str) -> str:
    """The amount at the end of worksheet line ``number`` (``8. Short-term ... 3,000.00``)."""
    (line,) = [line for line in text.splitlines() if line.startswith(f"{number}. ")]
    return line.rsplit(" ", 1)[1]


def test_a_2024_loss_is_carried_onto_2025_lines_6_and_14_and_the_worksheets(
    run: Callable[[str], Run],
) -> None:
    loss_year, next_year = run("carry_2024").document, run("carry_2025").document
    assert loss_year["schedule_d"]["line_21"] == "-3000.00"
    assert loss_year["schedule_d"]["carryover_to_next_year"] == {
        "short_term": "7000.00",
        "long_term": "3000.00",
    }
    assert (next_year["schedule_d"]["line_6"], next_year["schedule_d"]["line_14"]) == ("-7000.00", "-3000.00")
    assert next_year["schedule_d"]["line_7"] == "-6000.00"
    # The 2024 worksheet: taxable income 50,000, line 8 (short-term) 7,000, line 13 (long-term) 3,000.
    worksheet_2024 = page_texts(run("carry_2024").files["schedule-d-2024.pdf"])[2]
    assert "Capital Loss Carryover Worksheet" in worksheet_2024
    assert "50,000.00" in worksheet_2024 and "7,000.00" in worksheet_2024
    assert "These differ" not in worksheet_2024
    # 2025: page 1 shows the carryovers on lines 6 and 14 (as magnitudes: the form prints the
    # parentheses), and the worksheet recomputes 2025's carryover (3,000 short, 3,000 long) and agrees.
    layout = SCHEDULE_D[2025]
    path = run("carry_2025").files["schedule-d-2025.pdf"]
    page1 = FilledPage(path, 0, "f1040sd", 2025)
    assert (page1[layout.lines["line_6"]], page1[layout.lines["line_14"]]) == ("7,000.00", "3,000.00")
    assert page1[layout.lines["line_7"]] == "(6,000.00)"
    worksheet_2025 = page_texts(path)[2]
    assert "60,000.00" in worksheet_2025 and "These differ" not in worksheet_2025
    carry = next_year["schedule_d"]["carryover_to_next_year"]
    assert carry == {"short_term": "3000.00", "long_term": "3000.00"}
    assert _worksheet_line(worksheet_2025, "8") == _worksheet_line(worksheet_2025, "13") == "3,000.00"
    assert (_worksheet_line(worksheet_2024, "8"), _worksheet_line(worksheet_2024, "13")) == (
        "7,000.00",
        "3,000.00",
    )
    assert "short-term 3,000.00, long-term 3,000.00" in worksheet_2025


# --- Form 4952 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        # Ex 6, 2025: lines 1 = 3 = 4,000; 4d = 4f = 4h = 6 = 8 = 3,000; line 7 = 1,000 carried.
        (
            "ex6_2025",
            {
                "line_1": "4000.00",
                "line_3": "4000.00",
                "line_4d": "3000.00",
                "line_8": "3000.00",
                "line_7": "1000.00",
            },
        ),
        # Ex 6, 2026 (a): the 1,000 carried in (line 2) is deducted against 2,500 of interest income.
        (
            "ex6_2026_a",
            {
                "line_1": "0.00",
                "line_2": "1000.00",
                "line_4a": "2500.00",
                "line_8": "1000.00",
                "line_7": "0.00",
            },
        ),
        # Ex 6, 2026 (b): a long-term gain only; without the election nothing is deducted.
        (
            "ex6_2026_b",
            {
                "line_2": "1000.00",
                "line_4d": "5000.00",
                "line_4e": "5000.00",
                "line_4f": "0.00",
                "line_6": "0.00",
                "line_8": "0.00",
                "line_7": "1000.00",
            },
        ),
        # ... and electing 1,000 on line 4g deducts the 1,000 carried in.
        (
            "ex6_2026_b_4g",
            {"line_4g": "1000.00", "line_6": "1000.00", "line_8": "1000.00", "line_7": "0.00"},
        ),
    ],
)
def test_form_4952_lines_are_the_engines_and_the_spec_s(
    run: Callable[[str], Run], name: str, spec: dict[str, str]
) -> None:
    result = run(name)
    lines = result.document["form_4952"]
    assert {key: lines[key] for key in spec} == spec
    layout = FORM_4952[2025]
    page = FilledPage(result.files[f"form-4952-{result.document['year']}.pdf"], 0, "f4952", 2025)
    assert (page[layout.name[0]], page[layout.name[1]]) == (NAME, TIN)
    for line, field in layout.lines.items():
        assert printed_line_of(field, "f4952", 2025, 0, 380) == line[5:], line
        assert page[field] == shown(lines[line]), line


def test_a_year_without_its_own_forms_is_filled_on_2025_and_stamped_draft(run: Callable[[str], Run]) -> None:
    files = run("ex6_2026_a").files
    for name in ("form-4952-2026.pdf", "schedule-d-2026.pdf"):
        assert all("DRAFT" in text and "2025" in text for text in page_texts(files[name])), name
    summary = page_texts(files["summary-2026.pdf"])[0]
    assert "no form for tax year 2026 is bundled" in summary


def test_no_form_4952_without_investment_interest(run: Callable[[str], Run]) -> None:
    assert not any(name.startswith("form-4952") for name in run("ex2_fifo").files)


# --- CSV and TXF -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES_WITH_ROWS)
def test_csv_parses_back_to_the_json_rows(run: Callable[[str], Run], name: str) -> None:
    result = run(name)
    text = result.files[f"form-8949-{result.document['year']}.csv"].read_text(encoding="utf-8")
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    rows = result.document["form_8949"]
    assert len(parsed) == len(rows)
    for line, row in zip(parsed, rows, strict=True):
        for key in (
            "box",
            "term",
            "description",
            "asset",
            "wallet",
            "quantity",
            "date_acquired",
            "date_sold",
        ):
            assert line[key] == row[key], key
        for key in ("proceeds", "cost_basis", "adjustment_code", "adjustment", "gain", "disposal_id", "kind"):
            assert line[key] == row[key], key
        assert line["lot_ids"] == ";".join(
            f"{lot['acquisition_id']}:{lot['quantity']}" for lot in row["lots"]
        )
        assert line["warnings"] == " | ".join(row["warnings"])


#: TXF V042 refnum of each Form 8949 box (G-L share the refnum of A-F, see docs/exports.md).
REFNUM = {"A": 321, "G": 321, "D": 323, "J": 323, "B": 711, "H": 711, "E": 713, "K": 713}
REFNUM |= {"C": 712, "I": 712, "F": 714, "L": 714}


@pytest.mark.parametrize("name", CASES_WITH_ROWS)
def test_txf_parses_back_to_the_json_rows(run: Callable[[str], Run], name: str) -> None:
    result = run(name)
    header, sales = parse_txf(result.files[f"form-8949-{result.document['year']}.txf"].read_text("ascii"))
    assert header["A"] == "marginbook"
    rows = result.document["form_8949"]
    assert [
        (s.refnum, s.description, s.date_acquired, s.date_sold, s.cost_basis, s.sales_net) for s in sales
    ] == [
        (
            REFNUM[row["box"]],
            row["description"],
            "" if row["date_acquired"] == "VARIOUS" else row["date_acquired"],
            row["date_sold"],
            Decimal(row["cost_basis"]),
            Decimal(row["proceeds"]),
        )
        for row in rows
    ]


def test_text_formats_print_without_out_the_file_they_write(run: Callable[[str], Run]) -> None:
    result = run("ex8_fees")
    common = result.args
    printed = _tax([*common, "--format", "csv"])
    assert printed == result.files["form-8949-2025.csv"].read_bytes().decode("utf-8")
    txf = _tax([*common, "--format", "txf"])
    assert txf == result.files["form-8949-2025.txf"].read_bytes().decode("ascii")
    turbotax = _tax([*common, "--format", "turbotax"])
    assert turbotax.splitlines()[0] == "Currency Name,Purchase Date,Cost Basis,Date Sold,Proceeds"
    assert sorted(turbotax.splitlines()[1:]) == [
        "ETH,02/03/2025,1500.00,09/01/2025,1990.00",
        "ETH,02/03/2025,7.50,10/01/2025,10.00",
        "ETH,02/03/2025,750.00,10/01/2025,990.00",
    ]


def test_summary_lists_the_engines_income_records_and_their_total(run: Callable[[str], Run]) -> None:
    result = run("income")
    assert [(i["event_id"], i["usd_value"]) for i in result.document["income"]] == [
        ("r1", "300.00"),
        ("r2", "320.00"),
    ]
    lines = page_texts(result.files["summary-2025.pdf"])[0].splitlines()
    assert "2025-03-01 income kraken 0.1 ETH 300.00 r1" in lines
    assert "2 records 620.00" in lines
    # The units received keep their FMV as basis: sold for 700, basis 620, gain 80.
    (row,) = result.document["form_8949"]
    assert (row["cost_basis"], row["gain"]) == ("620.00", "80.00")


@pytest.mark.parametrize("name", CASES_WITH_ROWS)
def test_turbotax_lines_are_the_engines_lot_slices(run: Callable[[str], Run], name: str) -> None:
    result = run(name)
    printed = _tax([*result.args, "--format", "turbotax"])
    lines = list(csv.DictReader(io.StringIO(printed, newline="")))
    expected = [
        {
            "Currency Name": row["asset"],
            "Purchase Date": us_date(lot["acquired_at"][:10]),
            "Cost Basis": lot["cost_basis"],
            "Date Sold": us_date(row["date_sold"]),
            "Proceeds": lot["proceeds"],
        }
        for row in result.document["form_8949"]
        for lot in row["lots"]
    ]
    # No case has a column (g) adjustment (TurboTax would fold it into the proceeds).
    assert all(row["adjustment"] == "0.00" for row in result.document["form_8949"])
    assert lines == expected


def test_pdf_without_out_is_refused(run: Callable[[str], Run]) -> None:
    folder = run("ex8_fees").files["form-8949-2025.pdf"].parent.parent
    result = CliRunner().invoke(
        app, ["tax", "--year", "2025", "--ledger", str(folder / "ledger.csv"), "--format", "pdf"]
    )
    assert result.exit_code == 1
    assert "--format pdf needs --out DIR" in str(result.exception) + result.output
