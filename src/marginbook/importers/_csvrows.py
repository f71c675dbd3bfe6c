"""Shared parsing for the venue importers: rows with their numbers, and cells that name their place.

Every venue module reads its file through :func:`read_table`, turns each row into events inside
:meth:`ProblemLog.row`, and hands its drafts to :func:`assign_ids`. The helpers raise
:class:`CellError` for a bad cell; :meth:`ProblemLog.row` turns it (and any ``ValueError`` or
``ArithmeticError`` a value type raises) into an :class:`~marginbook.domain.errors.InputProblem`
naming file, row and field, so one run reports every bad row and the caller writes nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import EventFieldError, LedgerEvent, default_event_id
from marginbook.domain.numbers import decimal_context

#: Largest and smallest decimal exponent a quantity may have; beyond is a typo or garbage, and
#: would overflow the ledger's exact arithmetic later.
_MAX_ADJUSTED_EXPONENT = 30
_MIN_ADJUSTED_EXPONENT = -30

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Placeholder id of an event whose id :func:`assign_ids` sets.
PENDING_ID = "pending"


class CellError(ValueError):
    """One cell of the current row is bad; ``field`` names its column."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of a venue's CSV.

    Attributes:
        source: the file it came from, as the user named it.
        number: its 1-based record number in the file (the header of a plain file is row 1).
        cells: column name → stripped cell text ("" when the row is short).
        extra: the cells beyond the header's width, joined, when the row is too long.
    """

    source: str
    number: int
    cells: dict[str, str]
    extra: str = ""

    def text(self, column: str) -> str:
        """The stripped text of ``column`` ("" when empty or absent)."""
        return self.cells.get(column, "")

    def required(self, column: str) -> str:
        """The text of ``column``, which must not be empty."""
        value = self.text(column)
        if not value:
            raise CellError(column, "is empty")
        return value


@dataclass(slots=True)
class Table:
    """A venue file: its layout, header, data rows, and where the header was."""

    source: str
    layout: str
    header: list[str]
    header_row: int
    rows: list[Row]


def _read_records(path: Path) -> list[list[str]]:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(InputProblem(source, None, "", f"not UTF-8 text ({error.reason})")) from None
    except OSError as error:
        raise InputError(InputProblem(source, None, "", f"cannot read: {error.strerror}")) from None
    if "\x00" in text:
        raise InputError(InputProblem(source, None, "", "contains NUL bytes; is it a spreadsheet, not CSV?"))
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise InputError(InputProblem(source, None, "", f"not valid CSV: {error}")) from None


def _always(_cells: list[str]) -> bool:
    return True


def read_table(
    path: Path,
    layouts: Mapping[str, Sequence[str]],
    *,
    is_header: Callable[[list[str]], bool] = _always,
    max_preamble: int = 0,
) -> Table:
    """Read a venue's CSV export, find its header and tell which of the venue's layouts it is.

    Args:
        path: the file.
        layouts: layout name (``"Kraken ledgers export"``) → the columns it needs. The first
            layout whose columns are all present is the file's.
        is_header: tells the header row (stripped cells) from a preamble above it.
        max_preamble: how many non-blank records may precede the header (Coinbase's report has
            a title block; other venues none).

    Returns:
        the table with every non-blank data row.

    Raises:
        InputError: unreadable or not CSV; no header; no layout's columns all present (the
            message names the missing columns of the nearest layout and all it expects); a
            duplicated column.
    """
    source = str(path)
    records = _read_records(path)
    header_index = None
    seen = 0
    for index, record in enumerate(records):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue
        if is_header(cells):
            header_index = index
            break
        seen += 1
        if seen > max_preamble:
            break
    if header_index is None:
        nearest = next(iter(layouts))
        raise InputError(InputProblem(
            source, None, "", f"no {nearest} header found; expected columns: {', '.join(layouts[nearest])}"
        ))
    header = [cell.strip() for cell in records[header_index]]
    header_row = header_index + 1
    present = set(header)
    layout = next((name for name, columns in layouts.items() if present.issuperset(columns)), None)
    if layout is None:
        # The nearest layout: one that misses a single column (a renamed column) before any
        # other, then the one sharing most columns; ties go to the first listed.
        nearest = min(layouts, key=lambda name: (len(set(layouts[name]) - present) > 1,
                                                 -len(present.intersection(layouts[name]))))
        missing = [column for column in layouts[nearest] if column not in present]
        raise InputError(InputProblem(
            source, header_row, "",
            f"not a {nearest} as marginbook knows it (the format may have changed): missing "
            f"column(s) {', '.join(missing)}; expected columns: {', '.join(layouts[nearest])}",
        ))
    duplicated = sorted(name for name, count in Counter(header).items() if count > 1 and name)
    if duplicated:
        problem = f"duplicated column(s): {', '.join(duplicated)}"
        raise InputError(InputProblem(source, header_row, "", problem))
    rows: list[Row] = []
    for index in range(header_index + 1, len(records)):
        cells = [cell.strip() for cell in records[index]]
        if not any(cells):
            continue
        padded = cells + [""] * (len(header) - len(cells))
        extra = ",".join(cells[len(header):]) if any(cells[len(header):]) else ""
        rows.append(Row(source, index + 1, dict(zip(header, padded, strict=False)), extra))
    return Table(source, layout, header, header_row, rows)


def has_columns(header: Sequence[str], required: Sequence[str]) -> bool:
    """True when every ``required`` column is in ``header`` (detection by header)."""
    present = {cell.strip().lstrip("\ufeff") for cell in header if isinstance(cell, str)}
    return all(column in present for column in required)


@dataclass(slots=True)
class ProblemLog:
    """Collects the problems of one file; :meth:`raise_if_any` raises them all at once."""

    source: str
    problems: list[InputProblem] = field(default_factory=list)

    def add(self, row: int | None, field_name: str, problem: str) -> None:
        """Record one problem."""
        self.problems.append(InputProblem(self.source, row, field_name, problem))

    @contextmanager
    def row(self, row: Row) -> Iterator[None]:
        """Run the parsing of ``row``; a bad cell or a rejected event becomes a problem of that row.

        The body runs in :func:`~marginbook.domain.numbers.decimal_context`, so arithmetic on
        quantities (a sign flip, a sum of partial fills) never rounds to the default 28 digits.
        """
        if row.extra:
            # Recorded, and the row still parsed for further problems: the file fails either way.
            self.add(row.number, "", f"more cells than the header has: {row.extra[:60]}")
        try:
            with decimal_context():  # 60 digits: negating or summing a long quantity stays exact
                yield
        except CellError as error:
            self.add(row.number, error.field, error.problem)
        except EventFieldError as error:
            self.add(row.number, error.field, error.problem)
        except (ValueError, ArithmeticError) as error:
            self.add(row.number, "", str(error) or type(error).__name__)

    def raise_if_any(self) -> None:
        """Raise every problem recorded, if any, in file order."""
        if self.problems:
            raise InputError(sorted(self.problems, key=lambda problem: problem.row or 0))


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def decimal_of(text: str, column: str, *, allow_empty: bool = False) -> Decimal | None:
    """Parse a venue's decimal cell exactly.

    Accepts a sign, thousands commas, a leading currency sign (``$``, ``€``, ``£``), and
    accounting negatives in parentheses (``($1,234.50)``), as venues write them.

    Raises:
        CellError: empty (unless ``allow_empty``), not a number, or absurdly large or small.
    """
    raw = text.strip()
    if not raw:
        if allow_empty:
            return None
        raise CellError(column, "is empty")
    negative = False
    body = raw
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1].strip()
    if body.startswith(("+", "-")):
        negative, body = (body[0] == "-") != negative, body[1:].strip()
    body = body.lstrip("$€£").replace(",", "").strip()
    if body.startswith(("+", "-")):
        negative, body = (body[0] == "-") != negative, body[1:].strip()
    if not _NUMBER.match(body):
        raise CellError(column, f"not a number: {raw[:40]!r}")
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise CellError(column, f"not a number: {raw[:40]!r}") from None
    if value != 0 and not _MIN_ADJUSTED_EXPONENT <= value.adjusted() <= _MAX_ADJUSTED_EXPONENT:
        raise CellError(column, f"number out of range: {raw[:40]!r}")
    return value.copy_negate() if negative else value


def decimal_cell(row: Row, column: str) -> Decimal:
    """The decimal in ``column`` of ``row``, which must be given."""
    value = decimal_of(row.text(column), column)
    if value is None:  # pragma: no cover - decimal_of refuses empty cells unless allowed
        raise CellError(column, "is empty")
    return value


def optional_decimal(row: Row, column: str) -> Decimal | None:
    """The decimal in ``column`` of ``row``, or ``None`` when the cell is empty."""
    return decimal_of(row.text(column), column, allow_empty=True)


def utc_time(text: str, column: str) -> datetime:
    """Parse a venue timestamp; a time without zone is UTC, as every venue here documents.

    Accepts ISO-8601 with ``T`` or a space, optional fraction, optional ``Z``/offset, and a
    trailing `` UTC`` (Coinbase), and Unix epoch milliseconds (13 digits) or seconds. A finer
    fraction is cut to whole milliseconds, the resolution of the venues' APIs.

    Raises:
        CellError: when the text is not such a time.
    """
    raw = text.strip()
    if not raw:
        raise CellError(column, "is empty")
    if raw.isdigit() and len(raw) in (10, 13):
        milliseconds = int(raw) * (1 if len(raw) == 13 else 1000)
        return _EPOCH + timedelta(milliseconds=milliseconds)
    candidate = raw[:-4].strip() if raw.upper().endswith(" UTC") else raw
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        raise CellError(column, f"not a time: {raw[:40]!r} (expected YYYY-MM-DD HH:MM:SS, UTC)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Milliseconds, as every venue's API gives them: a row exported with 0.1 ms and the same
    # record fetched through the API must be the same event.
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise CellError(column, f"time out of range: {raw[:40]!r}") from None


def time_cell(row: Row, column: str) -> datetime:
    """The UTC time in ``column`` of ``row``."""
    return utc_time(row.text(column), column)


def draft(**fields: object) -> LedgerEvent:
    """An event whose id :func:`assign_ids` will set."""
    return LedgerEvent(id=PENDING_ID, **fields)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Draft:
    """An event before its id is known, with the venue's own id for it, if any.

    Attributes:
        event: the event, carrying :data:`PENDING_ID`.
        venue_id: the venue's unique id for this event (made unique by the caller, e.g.
            ``L4UESK-KG3EQ-UFO4T5`` or ``TX123:fee``), or ``None`` for a content hash.
    """

    event: LedgerEvent
    venue_id: str | None = None


def assign_ids(drafts: Sequence[Draft], *, prefix: str, log: ProblemLog) -> list[LedgerEvent]:
    """Give each draft its stable id: ``PREFIX:VENUE_ID`` when the venue gives one, else a hash.

    The hash is :func:`~marginbook.domain.events.default_event_id` of the event's fingerprint and
    its occurrence count among identical events of the file, so two identical fills stay two
    events and a re-import yields the same ids. A venue id seen twice is a problem of the row.
    """
    occurrences: Counter[str] = Counter()
    seen: dict[str, int | None] = {}
    events: list[LedgerEvent] = []
    for item in drafts:
        event = item.event
        if item.venue_id is not None:
            event_id = f"{prefix}:{item.venue_id}"
        else:
            fingerprint = event.fingerprint()
            event_id = default_event_id(fingerprint, occurrences[fingerprint])
            occurrences[fingerprint] += 1
        if event_id in seen:
            log.add(event.origin.row, "", f"id {event_id} appears twice (first on row {seen[event_id]})")
            continue
        seen[event_id] = event.origin.row
        events.append(dataclasses.replace(event, id=event_id))
    return events
