"""Import files into the ledger and show its events: the use cases behind
``marginbook import`` and ``marginbook ledger``.

An import of several files is one transaction. Large, plain ledger CSV files go through a
vectorised reader (:mod:`marginbook.app.fast_ledger_csv`) that gives the codec's results
several times faster; anything else goes through the format's own reader. Every file is
read and checked in full; a bad row anywhere (or an id that conflicts with the ledger)
means nothing from any of the files is written, and the error lists the problems of every
file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import LedgerEvent, format_timestamp
from marginbook.domain.numbers import plain
from marginbook.importers import registry
from marginbook.ledger import EventWriter, LedgerStore
from marginbook.ledger.arrow_stage import ArrowBlock, RepeatedId

#: ``progress(path, events_done, events_expected)``; ``events_expected`` may be an estimate.
ProgressCallback = Callable[[Path, int, int], None]

#: How often (in events) a streamed import reports progress.
PROGRESS_EVERY = 5000


@dataclass(frozen=True, slots=True)
class FileImport:
    """What importing one file did.

    Attributes:
        path: the file.
        format_name: the format it was read as (detected when ``auto``).
        events: events read from it.
        added: of those, events new to the ledger.
        unchanged: events the ledger already had (same id and content).
    """

    path: Path
    format_name: str
    events: int
    added: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import of one or more files did, file by file."""

    files: tuple[FileImport, ...]

    @property
    def added(self) -> int:
        """Events written, over all files."""
        return sum(f.added for f in self.files)

    @property
    def unchanged(self) -> int:
        """Events already in the ledger, over all files."""
        return sum(f.unchanged for f in self.files)


def import_files(
    store: LedgerStore,
    paths: Sequence[Path],
    *,
    format_name: str = "auto",
    wallet: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import ``paths`` into ``store`` in one transaction.

    Args:
        store: the ledger.
        paths: the files, imported in this order (which breaks timestamp ties).
        format_name: a format of :data:`marginbook.importers.registry.FORMATS`, or ``auto``
            to detect each file's format from its header.
        wallet: the wallet for rows (or formats) that do not name one.
        progress: called as events are read, for a progress bar.

    Returns:
        Per file: events read, added, unchanged.

    Raises:
        InputError: naming ``FILE:ROW: field: problem`` for every bad row of every file and
            every conflicting id; then nothing was written.
    """
    problems: list[InputProblem] = []
    results: list[FileImport] = []
    with store.writer() as writer:
        for path in paths:
            try:
                if not problems and (fast := _import_fast(writer, path, format_name, wallet, progress)):
                    results.append(fast)
                    continue
                name, events, expected = _open_events(path, format_name, wallet)
                counted = _counting(events, path, expected, progress)
                if problems:  # already failing: check this file too, but write nothing more
                    read = sum(1 for _ in counted)
                    results.append(FileImport(path, name, read, 0, 0))
                    continue
                added = writer.add(counted)
                results.append(FileImport(path, name, added.added + added.unchanged, added.added,
                                          added.unchanged))
            except InputError as error:
                problems.extend(error.problems)
        problems.extend(writer.conflicts)
        if problems:
            raise InputError(problems)
    return ImportSummary(tuple(results))


def _import_fast(
    writer: EventWriter, path: Path, format_name: str, wallet: str | None, progress: ProgressCallback | None
) -> FileImport | None:
    """Import a large plain ledger CSV through the vectorised reader; ``None`` if it declines.

    The fast reader accepts only input the codec accepts, with the same result. When it
    declines part-way (or the file has an id conflict, whose message the codec words
    better), everything it added is rolled back to a savepoint and the caller reads the
    file again with the codec.
    """
    from marginbook.app import fast_ledger_csv

    if not path.is_file() or not fast_ledger_csv.is_candidate(path):
        return None
    name = registry.detect_format(path) if format_name == "auto" else format_name
    if name != "marginbook":
        return None
    expected = _estimate_rows(path)
    done = 0

    def counted() -> Iterator[ArrowBlock]:
        nonlocal done
        if progress is not None:
            progress(path, 0, expected)
        for block in fast_ledger_csv.iter_stored_frames(path, wallet=wallet):
            yield block
            done += block.height
            if progress is not None:
                progress(path, done, max(done, expected))

    conflicts_before = len(writer.conflicts)
    try:
        with writer.savepoint():
            # The reader never yields an id twice, save one given in the file that equals
            # another row's default id (an export concatenated with its source): that makes
            # RepeatedId, and the codec, which handles it, reads the file.
            added = writer.add_blocks_staged(counted(), unique_ids=True)
            if len(writer.conflicts) > conflicts_before:
                raise fast_ledger_csv.NotFastPath("id conflicts: let the codec word them")
    except (fast_ledger_csv.NotFastPath, RepeatedId):
        return None
    if progress is not None:
        progress(path, done, done)
    return FileImport(path, name, added.added + added.unchanged, added.added, added.unchanged)


def _open_events(path: Path, format_name: str, wallet: str | None) -> tuple[str, Iterable[LedgerEvent], int]:
    """The format name, the events (streamed when the format can), and how many to expect."""
    if not path.is_file():
        raise InputError(InputProblem(str(path), None, "", "no such file"))
    name = registry.detect_format(path) if format_name == "auto" else format_name
    try:
        module = registry.format_module(name)
    except ModuleNotFoundError:
        missing = InputProblem("--format", None, "", f"the {name!r} importer is not installed")
        raise InputError(missing) from None
    stream = getattr(module, "iter_events", None)
    if callable(stream):
        return name, stream(path, wallet=wallet), _estimate_rows(path)
    events: list[LedgerEvent] = module.read(path, wallet=wallet)
    return name, events, len(events)


def _estimate_rows(path: Path) -> int:
    """Data rows of a CSV file, counted as line breaks (quoted line breaks make it an estimate)."""
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def _counting(
    events: Iterable[LedgerEvent], path: Path, expected: int, progress: ProgressCallback | None
) -> Iterator[LedgerEvent]:
    done = 0
    if progress is not None:
        progress(path, 0, expected)
    for event in events:
        yield event
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(path, done, max(expected, done))
    if progress is not None:
        progress(path, done, done)


def parse_day(text: str, option: str) -> date:
    """A ``YYYY-MM-DD`` option value.

    Raises:
        InputError: naming the option when the text is not such a date.
    """
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        problem = InputProblem(option, None, "", f"expected a date YYYY-MM-DD, got {text!r}")
        raise InputError(problem) from None


def day_range(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC times ``[start, end)`` that cover the days ``first`` to ``last``, both included."""
    start = None if first is None else datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = None
    if last is not None:
        end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    if start is not None and end is not None and end <= start:
        raise InputError(InputProblem("--to", None, "", "is before --from"))
    return start, end


def event_to_json(event: LedgerEvent) -> dict[str, Any]:
    """One event as a JSON object: decimals as strings, times ISO-8601 UTC, absent = null.

    The keys are the ledger CSV's columns (``type`` for the kind), plus ``lots`` as a list
    and ``origin`` (where the event was imported from).
    """

    def number(value: Any) -> str | None:
        return None if value is None else plain(value)

    def moment(value: datetime | None) -> str | None:
        return None if value is None else format_timestamp(value)

    return {
        "id": event.id,
        "timestamp": format_timestamp(event.timestamp),
        "type": event.kind.value,
        "wallet": event.wallet,
        "asset": event.asset,
        "amount": plain(event.amount),
        "counter_asset": event.counter_asset,
        "counter_amount": number(event.counter_amount),
        "fee_asset": event.fee_asset,
        "fee_amount": number(event.fee_amount),
        "usd_value": number(event.usd_value),
        "to_wallet": event.to_wallet,
        "cost_basis_usd": number(event.cost_basis_usd),
        "acquired_at": moment(event.acquired_at),
        "lots": [{"acquisition_id": p.acquisition_id, "quantity": plain(p.quantity)} for p in event.lots],
        "position": event.position,
        "opened_at": moment(event.opened_at),
        "note": event.note,
        "origin": {"source": event.origin.source, "row": event.origin.row, "ref": event.origin.ref},
    }
