"""The marginbook ledger CSV (format 1): the one format every part reads and writes.

``read`` turns a file into events, checking every row and reporting every problem with its
file, row and column before anything is written; ``write`` turns events back into the same
file format, so that write-then-read gives the same events (ids included).

Row numbers count CSV records, with the header as row 1, so the first event is row 2 (a
quoted cell that spans lines still counts as one row).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import (
    EventFieldError,
    EventKind,
    LedgerEvent,
    LotPick,
    Origin,
    default_event_id,
    field_texts,
)

FORMAT_NAME = "marginbook"
DESCRIPTION = "marginbook ledger CSV (format 1)"

#: Every column of the format, in the order ``write`` uses.
COLUMNS: tuple[str, ...] = (
    "id", "timestamp", "type", "wallet", "asset", "amount",
    "counter_asset", "counter_amount", "fee_asset", "fee_amount", "usd_value",
    "to_wallet", "cost_basis_usd", "acquired_at", "lots", "position", "opened_at", "note",
)
REQUIRED: tuple[str, ...] = ("timestamp", "type", "wallet", "asset", "amount")
_DECIMAL_COLUMNS = ("amount", "counter_amount", "fee_amount", "usd_value", "cost_basis_usd")
_TIME_COLUMNS = ("timestamp", "acquired_at", "opened_at")
_TEXT_COLUMNS = ("wallet", "asset", "counter_asset", "fee_asset", "to_wallet", "position")

#: A plain decimal: optional sign, digits with an optional fraction; no exponent, no separators.
#: ASCII digits only (``\d`` would also match other scripts' digits, which ``Decimal`` reads
#: but the fast reader and every other tool refuse), so the codec and the fast reader agree.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Cap on reported problems, so a wholly wrong file does not flood the terminal or memory.
MAX_PROBLEMS = 1000


class _RowProblem(Exception):
    """One bad field in one row (internal: turned into an InputProblem with file and row)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def matches(header: list[str]) -> bool:
    """A header is the ledger CSV when it has the required columns and nothing unknown."""
    names = {name.strip() for name in header}
    return set(REQUIRED) <= names and names <= set(COLUMNS)


def parse_decimal(text: str, field: str) -> Decimal:
    """Read a decimal cell exactly; refuse exponents, thousands separators and words."""
    if not _DECIMAL.fullmatch(text):
        raise _RowProblem(field, f"not a plain decimal number: {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise _RowProblem(field, f"not a decimal number: {text!r}") from None


def parse_timestamp(text: str, field: str) -> datetime:
    """Read an ISO-8601 time with a zone (a bare date is 00:00 UTC) and return it in UTC."""
    if _DATE_ONLY.fullmatch(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            raise _RowProblem(field, f"not a valid date: {text!r}") from None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _RowProblem(field, f"not an ISO-8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise _RowProblem(field, f"a time needs a zone (write Z or +00:00): {text!r}")
    return value.astimezone(UTC)


def parse_lots(text: str) -> tuple[LotPick, ...]:
    """Read ``ID:QTY;ID:QTY`` (an id may itself contain colons: the last one splits)."""
    picks = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        acquisition_id, sep, quantity = part.rpartition(":")
        if not sep or not acquisition_id.strip():
            raise _RowProblem("lots", f"expected ID:QTY, got {part!r}")
        qty = parse_decimal(quantity.strip(), "lots")
        if qty <= 0:
            raise _RowProblem("lots", f"quantity must be positive in {part!r}")
        picks.append(LotPick(acquisition_id.strip(), qty))
    return tuple(picks)


@dataclass(frozen=True, slots=True)
class _Header:
    """The header's columns, and the position of each one the parser reads per row."""

    names: tuple[str, ...]
    index: dict[str, int]
    times: tuple[tuple[str, int], ...]
    decimals: tuple[tuple[str, int], ...]
    texts: tuple[tuple[str, int], ...]


def _read_header(row: list[str], source: str) -> _Header:
    names = tuple(cell.strip() for cell in row)
    problems = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(InputProblem(source, 1, name, "the column appears twice"))
        seen.add(name)
        if name not in COLUMNS:
            problems.append(InputProblem(source, 1, name or "(empty)", "unknown column; known columns: "
                                         + ", ".join(COLUMNS)))
    for name in REQUIRED:
        if name not in seen:
            problems.append(InputProblem(source, 1, name, "required column is missing"))
    if problems:
        raise InputError(problems)
    index = {name: i for i, name in enumerate(names)}

    def present(columns: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
        return tuple((name, index[name]) for name in columns if name in index)

    return _Header(names, index, present(_TIME_COLUMNS), present(_DECIMAL_COLUMNS),
                   present(_TEXT_COLUMNS))


def _cell(row: list[str], index: dict[str, int], name: str) -> str:
    i = index.get(name)
    if i is None or i >= len(row):
        return ""
    return row[i] if name == "note" else row[i].strip()


def _row_fields(row: list[str], header: _Header, default_wallet: str | None) -> dict[str, Any]:
    index = header.index
    if len(row) < len(header.names):
        row = row + [""] * (len(header.names) - len(row))
    fields: dict[str, Any] = {}
    kind_text = row[index["type"]].strip()
    if not kind_text:
        raise _RowProblem("type", "is required")
    try:
        fields["kind"] = EventKind(kind_text)
    except ValueError:
        raise _RowProblem("type", f"unknown type {kind_text!r}; known: "
                          + ", ".join(k.value for k in EventKind)) from None
    for name, i in header.times:
        text = row[i].strip()
        if text:
            fields[name] = parse_timestamp(text, name)
    for name, i in header.decimals:
        text = row[i].strip()
        if text:
            fields[name] = parse_decimal(text, name)
    for name, i in header.texts:
        text = row[i].strip()
        if text:
            fields[name] = text
    if "wallet" not in fields and default_wallet:
        fields["wallet"] = default_wallet
    for name in REQUIRED:
        if name not in fields and name != "type":
            raise _RowProblem(name, "is required")
    if "lots" in index:
        lots = row[index["lots"]].strip()
        if lots:
            fields["lots"] = parse_lots(lots)
    if "note" in index:
        note = row[index["note"]]
        if note:
            fields["note"] = note
    return fields


def read_text(handle: TextIO, source: str, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Read ledger events from an open text stream; see :func:`read`."""
    return list(iter_text(handle, source, wallet=wallet))


def iter_text(handle: TextIO, source: str, *, wallet: str | None = None) -> Iterator[LedgerEvent]:
    """Yield the events of an open text stream as they are read; see :func:`iter_events`.

    The checks are exactly those of :func:`read_text` (which is ``list(iter_text(...))``).
    Events stop being yielded at the first bad row, and :class:`InputError` listing every
    problem is raised when the stream ends.
    """
    reader = csv.reader(handle, strict=True)
    try:
        first = next(reader)
    except StopIteration:
        empty = InputProblem(source, None, "", "the file is empty (it needs a header row)")
        raise InputError(empty) from None
    except csv.Error as error:
        raise InputError(InputProblem(source, 1, "", f"malformed CSV: {error}")) from None
    header = _read_header(first, source)
    problems: list[InputProblem] = []
    occurrences: Counter[str] = Counter()
    explicit_ids: dict[str, tuple[int, str]] = {}
    width = len(header.names)
    number = 1
    try:
        for number, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(problems) >= MAX_PROBLEMS:
                break
            if len(row) > width:
                problems.append(
                    InputProblem(source, number, "", f"{len(row)} cells but the header has {width}")
                )
                continue
            try:
                if "\x00" in "".join(row):
                    _refuse_nul(row, header)
                fields = _row_fields(row, header, wallet)
                given_id = _cell(row, header.index, "id")
                origin = Origin(source=source, row=number)
                event = LedgerEvent(id=given_id or "pending", origin=origin, **fields)
                fingerprint = event.fingerprint()
                if given_id:
                    earlier = explicit_ids.get(given_id)
                    if earlier is not None and earlier[1] != fingerprint:
                        raise _RowProblem("id", f"id {given_id!r} is already used by row {earlier[0]} "
                                          "with different content")
                    explicit_ids[given_id] = (number, fingerprint)
                else:
                    event = _with_id(event, default_event_id(fingerprint, occurrences[fingerprint]))
                    occurrences[fingerprint] += 1
            except _RowProblem as problem:
                problems.append(InputProblem(source, number, problem.field, problem.problem))
                continue
            except EventFieldError as error:
                problems.append(InputProblem(source, number, error.field, error.problem))
                continue
            if not problems:
                yield event
    except csv.Error as error:
        problems.append(InputProblem(source, number + 1, "", f"malformed CSV: {error}"))
    except UnicodeDecodeError as error:
        problems.append(InputProblem(source, None, "", f"not UTF-8 text: {error.reason}"))
    if problems:
        raise InputError(problems)


def _refuse_nul(row: list[str], header: _Header) -> None:
    """Name the first cell holding a NUL character: bad input, not a database failure.

    PostgreSQL text cannot hold NUL (SQLite can), so such a cell would import into one
    backend and fail half-way into the other; no real ledger text contains one.
    """
    for name, cell in zip(header.names, row, strict=False):
        if "\x00" in cell:
            raise _RowProblem(name or "(empty)", "contains a NUL character")


def _with_id(event: LedgerEvent, event_id: str) -> LedgerEvent:
    """Give a just-built event its content-hash id.

    The id depends on the event's own normalised fingerprint, so the event is built first
    with a placeholder. It has not been shared yet, so setting the id in place is safe and
    avoids validating every row twice (the import path reads a million rows a run).
    """
    object.__setattr__(event, "id", event_id)
    return event


def iter_events(path: Path, *, wallet: str | None = None) -> Iterator[LedgerEvent]:
    """Yield the events of a ledger CSV file as they are read, for imports too big to hold.

    The same checks and results as :func:`read`, but streamed: a caller that writes events
    as they come must do so inside one transaction and roll it back when
    :class:`InputError` arrives (raised once the whole file has been checked), so that a
    bad row still means nothing written.
    """
    source = str(path)
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            yield from iter_text(handle, source, wallet=wallet)
    except FileNotFoundError:
        raise InputError(InputProblem(source, None, "", "no such file")) from None
    except UnicodeDecodeError as error:
        raise InputError(InputProblem(source, None, "", f"not UTF-8 text: {error.reason}")) from None


def read(path: Path, *, wallet: str | None = None) -> list[LedgerEvent]:
    """Read every event of a ledger CSV file.

    Args:
        path: the file (UTF-8, a byte-order mark is allowed).
        wallet: the wallet of rows whose ``wallet`` cell is empty.

    Returns:
        The events in file order, each with its id (given, or the default hash id) and its
        origin (file and row).

    Raises:
        InputError: listing every bad row (up to :data:`MAX_PROBLEMS`), each as
            ``FILE:ROW: field: problem``. Nothing was returned, so nothing can be written.
    """
    source = str(path)
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            return read_text(handle, source, wallet=wallet)
    except FileNotFoundError:
        raise InputError(InputProblem(source, None, "", "no such file")) from None
    except UnicodeDecodeError as error:
        raise InputError(InputProblem(source, None, "", f"not UTF-8 text: {error.reason}")) from None


def event_row(event: LedgerEvent) -> list[str]:
    """The cells of one event in :data:`COLUMNS` order."""
    return [event.id, *field_texts(event)]


def write(events: Iterable[LedgerEvent], out: TextIO) -> int:
    """Write events as a ledger CSV (header included) and return how many were written.

    Ids are always written, so that reading the file back yields the same events.
    """
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; also quotes a lone CR
    writer.writerow(COLUMNS)
    count = 0
    for event in events:
        writer.writerow(event_row(event))
        count += 1
    return count
