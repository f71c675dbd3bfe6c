"""Read the tax engine's JSON document into typed records, checking every field once.

The renderers (PDF forms, CSV, TXF, TurboTax) all start from the same document: the one
``marginbook tax --format json`` prints (docs: ``spec/cli.md``, section Tax). Decimals
arrive as strings and are parsed here with :func:`marginbook.domain.numbers.D`, so no
renderer ever sees a float or a malformed number. A bad document raises
:class:`~marginbook.domain.errors.InputError` naming the JSON path of the field at fault
(``document:form_8949[3]: proceeds: ...``) before any file is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.numbers import ZERO, D

#: Boxes of Part I (short-term) and Part II (long-term), in the order the forms list them.
SHORT_TERM_BOXES = ("A", "B", "C", "G", "H", "I")
LONG_TERM_BOXES = ("D", "E", "F", "J", "K", "L")
ALL_BOXES = SHORT_TERM_BOXES + LONG_TERM_BOXES

#: Schedule D lines that take Form 8949 totals, with the boxes that feed each.
SCHEDULE_D_BOX_LINES: dict[str, tuple[str, ...]] = {
    "line_1b": ("A", "G"),
    "line_2": ("B", "H"),
    "line_3": ("C", "I"),
    "line_8b": ("D", "J"),
    "line_9": ("E", "K"),
    "line_10": ("F", "L"),
}


VARIOUS = "VARIOUS"

_SOURCE = "document"


@dataclass(frozen=True, slots=True)
class LotSlice:
    """One acquisition (or part of one) that a Form 8949 row disposed of.

    Attributes:
        acquisition_id: the ledger event id of the acquisition.
        quantity: units of the row's asset taken from it.
        cost_basis: the USD basis of those units.
        acquired_at: the acquisition date or timestamp, as the engine wrote it.
        wallet: the wallet the units were held in (the row's wallet unless the lot names one).
    """

    acquisition_id: str
    quantity: Decimal
    cost_basis: Decimal
    acquired_at: str
    wallet: str = ""

    @property
    def acquired_on(self) -> str:
        """The acquisition date alone (``YYYY-MM-DD``), whatever time the engine added."""
        return self.acquired_at[:10]


@dataclass(frozen=True, slots=True)
class Form8949Row:
    """One row of Form 8949, as the engine computed it (USD figures already rounded to the cent).

    Attributes:
        box: the checkbox (``A`` ... ``L``) whose pages the row goes on.
        term: ``short`` or ``long``.
        description: column (a), e.g. ``0.5 ETH``.
        asset: the asset disposed of.
        wallet: the wallet (pool) it left.
        quantity: the units disposed of.
        date_acquired: column (b), ``YYYY-MM-DD`` or ``VARIOUS``.
        date_sold: column (c), ``YYYY-MM-DD``.
        proceeds: column (d).
        cost_basis: column (e).
        adjustment_code: column (f), e.g. ``E`` (may be empty).
        adjustment: column (g), signed.
        gain: column (h) = (d) - (e) + (g).
        disposal_id: the ledger event id of the disposal.
        lots: the acquisitions the disposal matched.
        kind: what the engine says the disposal was (``sale``, ``fee`` ...), empty if not given.
        warnings: the engine's warnings about this row.
    """

    box: str
    term: str
    description: str
    asset: str
    wallet: str
    quantity: Decimal
    date_acquired: str
    date_sold: str
    proceeds: Decimal
    cost_basis: Decimal
    adjustment_code: str
    adjustment: Decimal
    gain: Decimal
    disposal_id: str
    lots: tuple[LotSlice, ...]
    kind: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LineTotals:
    """Columns (d), (e), (g), (h) of a Schedule D table line."""

    proceeds: Decimal = ZERO
    cost_basis: Decimal = ZERO
    adjustment: Decimal = ZERO
    gain: Decimal = ZERO

    def __add__(self, other: LineTotals) -> LineTotals:
        return LineTotals(
            self.proceeds + other.proceeds,
            self.cost_basis + other.cost_basis,
            self.adjustment + other.adjustment,
            self.gain + other.gain,
        )


@dataclass(frozen=True, slots=True)
class ScheduleD:
    """The Schedule D figures the engine computes.

    Attributes:
        box_lines: lines 1b, 2, 3, 8b, 9, 10 (keys as in the JSON: ``line_1b`` ...).
        lines: the single-amount lines present in the document (``line_6``, ``line_7``,
            ``line_14``, ``line_15``, ``line_16``, ``line_21`` ...), signed as in the JSON.
        carryover_short_term: the short-term loss carried to next year (positive).
        carryover_long_term: the long-term loss carried to next year (positive).
    """

    box_lines: dict[str, LineTotals]
    lines: dict[str, Decimal]
    carryover_short_term: Decimal
    carryover_long_term: Decimal

    def line(self, name: str) -> Decimal:
        """A single-amount line, zero when the document leaves it out."""
        return self.lines.get(name, ZERO)


@dataclass(frozen=True, slots=True)
class TaxDocument:
    """The whole document, typed.

    Attributes:
        year: the tax year.
        method: the cost-basis method named in the document (may be empty).
        rows: the Form 8949 rows in the engine's order.
        schedule_d: the Schedule D figures.
        form_4952: Form 4952 lines 1-8 (keys ``line_1`` ...), or ``None`` when absent.
        income: the engine's income records, passed through as given.
        gifts_and_donations: passed through as given.
        warnings: the engine's warnings.
        schedule_c: a trader's Schedule C amounts, or ``None``.
        extra: document keys the renderers may show (e.g. ``taxable_income``), as given.
    """

    year: int
    method: str
    rows: tuple[Form8949Row, ...]
    schedule_d: ScheduleD
    form_4952: dict[str, Decimal] | None
    income: tuple[Mapping[str, Any], ...]
    gifts_and_donations: tuple[Mapping[str, Any], ...]
    warnings: tuple[str, ...]
    schedule_c: dict[str, Decimal] | None
    extra: Mapping[str, Any]


class _Reader:
    """Collects every problem of a document so the user sees them all at once."""

    def __init__(self) -> None:
        self.problems: list[InputProblem] = []

    def fail(self, where: str, field_name: str, problem: str) -> None:
        self.problems.append(
            InputProblem(f"{_SOURCE}:{where}" if where else _SOURCE, None, field_name, problem)
        )

    def decimal(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> Decimal:
        if key not in data or data[key] is None:
            if required:
                self.fail(where, key, "missing")
            return ZERO
        value = data[key]
        if isinstance(value, float):
            self.fail(where, key, f"decimals are strings in the document, not the float {value!r}")
            return ZERO
        try:
            return D(value)
        except (TypeError, ValueError):
            self.fail(where, key, f"not a decimal number: {value!r}")
            return ZERO

    def text(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(where, key, "missing")
            return ""
        if not isinstance(value, str):
            self.fail(where, key, f"expected a string, got {type(value).__name__}")
            return ""
        return value

    def day(self, data: Mapping[str, Any], key: str, where: str, *, various: bool = False) -> str:
        value = self.text(data, key, where)
        if various and value.upper() == VARIOUS:
            return VARIOUS
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            if value:
                self.fail(where, key, f"not a date YYYY-MM-DD: {value!r}")
        return value[:10]


def _lot(reader: _Reader, data: Any, where: str, wallet: str) -> LotSlice:
    if not isinstance(data, Mapping):
        reader.fail(where, "", "a lot must be an object")
        return LotSlice("", ZERO, ZERO, "")
    return LotSlice(
        acquisition_id=reader.text(data, "acquisition_id", where),
        quantity=reader.decimal(data, "quantity", where),
        cost_basis=reader.decimal(data, "cost_basis", where),
        acquired_at=reader.text(data, "acquired_at", where, required=False),
        wallet=reader.text(data, "wallet", where, required=False) or wallet,
    )


def _row(reader: _Reader, data: Any, where: str) -> Form8949Row | None:
    if not isinstance(data, Mapping):
        reader.fail(where, "", "a Form 8949 row must be an object")
        return None
    box = reader.text(data, "box", where).upper()
    if box and box not in ALL_BOXES:
        reader.fail(where, "box", f"not a Form 8949 box (A-L): {box!r}")
    term = reader.text(data, "term", where)
    if term not in ("short", "long"):
        reader.fail(where, "term", f"expected short or long, got {term!r}")
    elif box in ALL_BOXES and (box in SHORT_TERM_BOXES) != (term == "short"):
        reader.fail(where, "box", f"box {box} is not a {term}-term box")
    lots_data = data.get("lots") or []
    if not isinstance(lots_data, Sequence) or isinstance(lots_data, str):
        reader.fail(where, "lots", "expected a list")
        lots_data = []
    wallet = reader.text(data, "wallet", where, required=False)
    return Form8949Row(
        box=box,
        term=term,
        description=reader.text(data, "description", where),
        asset=reader.text(data, "asset", where, required=False),
        wallet=wallet,
        quantity=reader.decimal(data, "quantity", where, required=False),
        date_acquired=reader.day(data, "date_acquired", where, various=True),
        date_sold=reader.day(data, "date_sold", where),
        proceeds=reader.decimal(data, "proceeds", where),
        cost_basis=reader.decimal(data, "cost_basis", where),
        adjustment_code=reader.text(data, "adjustment_code", where, required=False).upper(),
        adjustment=reader.decimal(data, "adjustment", where, required=False),
        gain=reader.decimal(data, "gain", where),
        disposal_id=reader.text(data, "disposal_id", where, required=False),
        lots=tuple(_lot(reader, lot, f"{where}.lots[{i}]", wallet) for i, lot in enumerate(lots_data)),
        kind=reader.text(data, "kind", where, required=False),
        warnings=_texts(reader, data.get("warnings"), f"{where}.warnings"),
    )


def _texts(reader: _Reader, data: Any, where: str) -> tuple[str, ...]:
    if data is None:
        return ()
    if isinstance(data, str) or not isinstance(data, Sequence):
        reader.fail(where, "", "expected a list of strings")
        return ()
    return tuple(str(item) for item in data)


def _schedule_d(reader: _Reader, data: Any) -> ScheduleD:
    if not isinstance(data, Mapping):
        if data is not None:
            reader.fail("schedule_d", "", "expected an object")
        data = {}
    box_lines: dict[str, LineTotals] = {}
    for name in SCHEDULE_D_BOX_LINES:
        line = data.get(name)
        if line is None:
            continue
        if not isinstance(line, Mapping):
            reader.fail("schedule_d", name, "expected an object with proceeds, cost_basis, adjustment, gain")
            continue
        where = f"schedule_d.{name}"
        box_lines[name] = LineTotals(
            reader.decimal(line, "proceeds", where),
            reader.decimal(line, "cost_basis", where),
            reader.decimal(line, "adjustment", where, required=False),
            reader.decimal(line, "gain", where),
        )
    lines = {
        key: reader.decimal(data, key, "schedule_d")
        for key, value in data.items()
        if key.startswith("line_") and key not in SCHEDULE_D_BOX_LINES and not isinstance(value, Mapping)
    }
    carry = data.get("carryover_to_next_year") or {}
    if not isinstance(carry, Mapping):
        reader.fail("schedule_d", "carryover_to_next_year", "expected an object")
        carry = {}
    where = "schedule_d.carryover_to_next_year"
    return ScheduleD(
        box_lines,
        lines,
        reader.decimal(carry, "short_term", where, required=False),
        reader.decimal(carry, "long_term", where, required=False),
    )


def _amounts(reader: _Reader, data: Any, where: str) -> dict[str, Decimal] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        reader.fail(where, "", "expected an object")
        return None
    return {key: reader.decimal(data, key, where) for key in data}


def _records(reader: _Reader, data: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    if data is None:
        return ()
    if not isinstance(data, Sequence) or isinstance(data, str):
        reader.fail(where, "", "expected a list")
        return ()
    return tuple(item for item in data if isinstance(item, Mapping))


def read_document(document: Mapping[str, Any]) -> TaxDocument:
    """Check and type the tax engine's JSON document.

    Args:
        document: the parsed JSON (decimals as strings), as ``marginbook tax --format json`` prints it.

    Returns:
        The typed document.

    Raises:
        InputError: listing every field that is missing or malformed, by JSON path.
    """
    reader = _Reader()
    year_value = document.get("year")
    year = 0
    if isinstance(year_value, int) and not isinstance(year_value, bool):
        year = year_value
    elif isinstance(year_value, str) and year_value.isdigit():
        year = int(year_value)
    else:
        reader.fail("", "year", f"expected a tax year, got {year_value!r}")
    rows_data = document.get("form_8949") or []
    if not isinstance(rows_data, Sequence) or isinstance(rows_data, str):
        reader.fail("", "form_8949", "expected a list of rows")
        rows_data = []
    rows = tuple(
        row for i, item in enumerate(rows_data) if (row := _row(reader, item, f"form_8949[{i}]")) is not None
    )
    warnings = document.get("warnings") or []
    known = {
        "year",
        "method",
        "form_8949",
        "schedule_d",
        "form_4952",
        "income",
        "gifts_and_donations",
        "warnings",
        "schedule_c",
    }
    result = TaxDocument(
        year=year,
        method=str(document.get("method") or ""),
        rows=rows,
        schedule_d=_schedule_d(reader, document.get("schedule_d")),
        form_4952=_amounts(reader, document.get("form_4952"), "form_4952"),
        income=_records(reader, document.get("income"), "income"),
        gifts_and_donations=_records(reader, document.get("gifts_and_donations"), "gifts_and_donations"),
        warnings=tuple(str(w) for w in warnings) if isinstance(warnings, Sequence) else (),
        schedule_c=_amounts(reader, document.get("schedule_c"), "schedule_c"),
        extra={key: value for key, value in document.items() if key not in known},
    )
    if reader.problems:
        raise InputError(reader.problems)
    return result


def read_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[Form8949Row, ...]:
    """Check and type a selection of the document's Form 8949 rows (e.g. a filtered view).

    Raises:
        InputError: listing every field that is missing or malformed.
    """
    reader = _Reader()
    typed = tuple(
        row for i, item in enumerate(rows) if (row := _row(reader, item, f"form_8949[{i}]")) is not None
    )
    if reader.problems:
        raise InputError(reader.problems)
    return typed
