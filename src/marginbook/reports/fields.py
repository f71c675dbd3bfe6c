"""Which AcroForm field holds which line of each bundled IRS form, per tax year.

The IRS renames fields between years (``f1_3`` vs ``f1_03``, table names, rows per page),
so every map is keyed by the form's year. The names come from ``forms/FIELDS.md``, which was
checked by filling each field with its own name and rendering the pages; a test checks that
every name used here exists in the bundled PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from marginbook.domain.errors import MarginbookError
from marginbook.reports.document import SHORT_TERM_BOXES

_P1 = "topmostSubform[0].Page1[0]."
_P2 = "topmostSubform[0].Page2[0]."

#: The bundled forms: form name -> years we have the IRS's PDF for.
BUNDLED_YEARS: dict[str, tuple[int, ...]] = {
    "f8949": (2024, 2025),
    "f1040sd": (2024, 2025),
    "f4952": (2025,),
}

FORM_TITLES = {"f8949": "Form 8949", "f1040sd": "Schedule D (Form 1040)", "f4952": "Form 4952"}


def form_year(form: str, tax_year: int) -> int:
    """The bundled form's year to fill for ``tax_year``: the same year, else the nearest (later on a tie)."""
    years = BUNDLED_YEARS[form]
    return min(years, key=lambda year: (abs(year - tax_year), -year))


def nearest_year_warning(form: str, tax_year: int) -> str | None:
    """The warning to give when ``tax_year`` has no bundled form of its own, else ``None``."""
    year = form_year(form, tax_year)
    if year == tax_year:
        return None
    return (
        f"{FORM_TITLES[form]}: no form for tax year {tax_year} is bundled; filled on the "
        f"{year} form and stamped DRAFT. Check the figures against the {tax_year} form before filing."
    )


def template_bytes(form: str, year: int) -> bytes:
    """The bytes of the IRS's fillable PDF ``form`` of ``year``, from the package data."""
    path = resources.files("marginbook.reports").joinpath("forms", f"{form}-{year}.pdf")
    try:
        return path.read_bytes()
    except FileNotFoundError as error:  # pragma: no cover - a broken installation
        raise MarginbookError(
            f"the bundled IRS form {form}-{year}.pdf is missing from the package"
        ) from error


@dataclass(frozen=True, slots=True)
class CheckBox:
    """A checkbox widget and the export value that checks it."""

    field: str
    on: str


@dataclass(frozen=True, slots=True)
class Form8949Layout:
    """The fields of one year's Form 8949.

    Attributes:
        year: the form's year.
        rows_per_page: table rows on each page (14 in 2024, 11 in 2025).
        boxes: checkbox of each box letter the form has.
    """

    year: int
    rows_per_page: int
    boxes: dict[str, CheckBox]

    @staticmethod
    def page_index(box: str) -> int:
        """0 for Part I (short-term boxes), 1 for Part II."""
        return 0 if box in SHORT_TERM_BOXES else 1

    def _prefix(self, page_index: int) -> tuple[str, str]:
        return (_P1, "f1_") if page_index == 0 else (_P2, "f2_")

    def _name(self, page_index: int, number: int) -> str:
        prefix, stem = self._prefix(page_index)
        digits = f"{number:02d}" if self.year >= 2025 else str(number)
        return f"{prefix}{stem}{digits}[0]"

    def name_fields(self, page_index: int) -> tuple[str, str]:
        """The (name, TIN) fields of the page's header."""
        return self._name(page_index, 1), self._name(page_index, 2)

    def row_fields(self, page_index: int, row: int) -> tuple[str, ...]:
        """Columns (a)-(h) of table row ``row`` (1-based) on the page."""
        if not 1 <= row <= self.rows_per_page:
            raise ValueError(f"row {row} is not on a {self.year} Form 8949 page")
        prefix, stem = self._prefix(page_index)
        table = f"Table_Line1_Part{page_index + 1}[0]" if self.year >= 2025 else "Table_Line1[0]"
        first = 3 + 8 * (row - 1)
        digits = (lambda n: f"{n:02d}") if self.year >= 2025 else str
        return tuple(f"{prefix}{table}.Row{row}[0].{stem}{digits(first + k)}[0]" for k in range(8))

    def total_fields(self, page_index: int) -> tuple[str, str, str, str]:
        """Line 2 totals of columns (d), (e), (g), (h); column (f) is shaded and stays blank."""
        first = 3 + 8 * self.rows_per_page
        return (
            self._name(page_index, first),
            self._name(page_index, first + 1),
            self._name(page_index, first + 3),
            self._name(page_index, first + 4),
        )


FORM_8949 = {
    2024: Form8949Layout(
        2024,
        14,
        {
            "A": CheckBox(f"{_P1}c1_1[0]", "/1"),
            "B": CheckBox(f"{_P1}c1_1[1]", "/2"),
            "C": CheckBox(f"{_P1}c1_1[2]", "/3"),
            "D": CheckBox(f"{_P2}c2_1[0]", "/1"),
            "E": CheckBox(f"{_P2}c2_1[1]", "/2"),
            "F": CheckBox(f"{_P2}c2_1[2]", "/3"),
        },
    ),
    2025: Form8949Layout(
        2025,
        11,
        {
            **{
                box: CheckBox(f"{_P1}c1_1[{i}]", f"/{i + 1}")
                for i, box in enumerate(("A", "B", "C", "G", "H", "I"))
            },
            **{
                box: CheckBox(f"{_P2}c2_1[{i}]", f"/{i + 1}")
                for i, box in enumerate(("D", "E", "F", "J", "K", "L"))
            },
        },
    ),
}


@dataclass(frozen=True, slots=True)
class ScheduleDLayout:
    """The fields of one year's Schedule D.

    Attributes:
        year: the form's year.
        name: the name and TIN fields.
        box_lines: for ``line_1b`` ... ``line_10``, the fields of columns (d), (e), (g), (h).
        lines: the single-amount lines (``line_6`` ... ``line_21``).
        printed_parentheses: lines whose parentheses the form prints, so a loss is written as its magnitude.
    """

    year: int
    name: tuple[str, str]
    box_lines: dict[str, tuple[str, str, str, str]]
    lines: dict[str, str]
    printed_parentheses: frozenset[str] = frozenset({"line_6", "line_14", "line_21"})


def _schedule_d(year: int) -> ScheduleDLayout:
    def num(n: int) -> str:
        return f"{n:02d}" if year == 2024 else str(n)

    def table_line(part: str, row: str, first: int) -> tuple[str, str, str, str]:
        stem = f"{_P1}Table_Part{part}[0].Row{row}[0].f1_"
        return (
            f"{stem}{num(first)}[0]",
            f"{stem}{num(first + 1)}[0]",
            f"{stem}{num(first + 2)}[0]",
            f"{stem}{num(first + 3)}[0]",
        )

    single = {
        f"line_{line}": f"{_P1}f1_{num(n)}[0]"
        for line, n in ((4, 19), (5, 20), (6, 21), (7, 22), (11, 39), (12, 40), (13, 41), (14, 42), (15, 43))
    }
    single["line_16"] = f"{_P2}f2_{num(1)}[0]"
    single["line_18"] = f"{_P2}f2_{num(2)}[0]"
    single["line_19"] = f"{_P2}f2_{num(3)}[0]"
    single["line_21"] = f"{_P2}TagCorrectingSubform[0].f2_04[0]" if year == 2024 else f"{_P2}f2_4[0]"
    return ScheduleDLayout(
        year=year,
        name=(f"{_P1}f1_{num(1)}[0]", f"{_P1}f1_{num(2)}[0]"),
        box_lines={
            "line_1b": table_line("I", "1b", 7),
            "line_2": table_line("I", "2", 11),
            "line_3": table_line("I", "3", 15),
            "line_8b": table_line("II", "8b", 27),
            "line_9": table_line("II", "9", 31),
            "line_10": table_line("II", "10", 35),
        },
        lines=single,
    )


SCHEDULE_D = {year: _schedule_d(year) for year in BUNDLED_YEARS["f1040sd"]}


@dataclass(frozen=True, slots=True)
class Form4952Layout:
    """The fields of one year's Form 4952 (name, identifying number, lines 1-8)."""

    year: int
    name: tuple[str, str]
    lines: dict[str, str]


FORM_4952 = {
    2025: Form4952Layout(
        year=2025,
        name=(f"{_P1}f1_01[0]", f"{_P1}f1_02[0]"),
        lines={
            "line_1": f"{_P1}f1_03[0]",
            "line_2": f"{_P1}f1_04[0]",
            "line_3": f"{_P1}f1_05[0]",
            "line_4a": f"{_P1}Line4a_ReadOrder[0].f1_06[0]",
            "line_4b": f"{_P1}f1_07[0]",
            "line_4c": f"{_P1}f1_08[0]",
            "line_4d": f"{_P1}f1_09[0]",
            "line_4e": f"{_P1}f1_10[0]",
            "line_4f": f"{_P1}f1_11[0]",
            "line_4g": f"{_P1}f1_12[0]",
            "line_4h": f"{_P1}f1_13[0]",
            "line_5": f"{_P1}f1_14[0]",
            "line_6": f"{_P1}f1_15[0]",
            "line_7": f"{_P1}f1_16[0]",
            "line_8": f"{_P1}f1_17[0]",
        },
    ),
}
