"""The event store: add events in one transaction, stream them back in ledger order.

Writes go through the driver's ``executemany`` with plain tuples in chunks (no ORM object,
not even a parameter dictionary, per row), so a million-row import stays fast and flat in
memory; reads are SQLAlchemy Core selects streamed in batches. Each chunk is first inserted optimistically
inside a SAVEPOINT; only when the unique index on ``id`` objects (a re-import, or a repeated
id) does the chunk fall back to looking up the known ids and sorting its events into new,
unchanged and conflicting ones. A fresh import therefore costs one INSERT per chunk and no
look-ups, and a re-import costs one look-up per chunk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Select, func, or_, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import LedgerEvent
from marginbook.ledger.engine import describe
from marginbook.ledger.rows import (
    FINGERPRINT_INDEX,
    ID_INDEX,
    STORED_COLUMNS,
    StoredRow,
    event_to_row,
    row_to_event,
    stored_row_to_event,
    to_micros,
)
from marginbook.ledger.schema import events as events_table

if TYPE_CHECKING:
    from marginbook.ledger.arrow_stage import ArrowBlock, ScratchStage
    from marginbook.ledger.staging import StagedOutcome

#: Events per INSERT. Large enough to amortise the statement, small enough to keep memory flat.
CHUNK_SIZE = 2000
#: Ids per ``IN (...)`` look-up; stays under SQLite's bound-parameter limit.
LOOKUP_SIZE = 500
#: Rows fetched from the database at a time when streaming events out.
FETCH_SIZE = 1000
#: Rows one transaction must add before SQLite switches to bulk mode (see ``EventWriter``).
BULK_ROWS = 100_000
#: SQLite page cache in bulk mode, in KiB: keeps the unique index on ``id`` in memory.
BULK_CACHE_KIB = 262_144


@dataclass(frozen=True, slots=True)
class AddResult:
    """What adding a batch of events did.

    Attributes:
        added: events written (ids the ledger did not have).
        unchanged: events whose id the ledger already had with the same content (also
            repeats of an id within the batch), so nothing was written for them.
    """

    added: int = 0
    unchanged: int = 0

    def __add__(self, other: AddResult) -> AddResult:
        return AddResult(self.added + other.added, self.unchanged + other.unchanged)


class EventWriter:
    """Adds events inside one open transaction of a :class:`LedgerStore`.

    Obtained from :meth:`LedgerStore.writer`; every :meth:`add` joins the same transaction,
    which commits when the ``with`` block ends without an error and when no conflict was
    found, and otherwise rolls back, leaving the ledger as it was.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.result = AddResult()
        self.conflicts: list[InputProblem] = []
        self._rows_seen = 0
        self._bulk = False
        self._ordered_index = next(i for i in events_table.indexes if i.name == "ix_events_ts_seq")
        #: Scratch databases attached by :meth:`add_blocks_staged`, released by :meth:`release`.
        self._scratches: list[ScratchStage] = []
        preparer = connection.dialect.identifier_preparer
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self._insert_sql = (
            f"INSERT INTO {preparer.quote(events_table.name)} "
            f"({', '.join(preparer.quote(name) for name in STORED_COLUMNS)}) "
            f"VALUES ({', '.join([marker] * len(STORED_COLUMNS))})"
        )

    def add(self, events: Iterable[LedgerEvent]) -> AddResult:
        """Add ``events`` (any iterable; consumed in chunks) and return what this call did.

        Conflicts (an id the ledger or this transaction already has, with other content) are
        collected in :attr:`conflicts` rather than raised, so that one import reports all of
        them; the transaction then refuses to commit.
        """
        return self.add_rows(event_to_row(event) for event in events)

    def add_rows(self, rows: Iterable[StoredRow]) -> AddResult:
        """Add events already in stored form (tuples in :data:`~marginbook.ledger.rows.STORED_COLUMNS`
        order), as a bulk reader that never builds :class:`LedgerEvent` objects produces them.

        The rows must be exactly what :func:`~marginbook.ledger.rows.event_to_row` gives for
        the same event; otherwise as :meth:`add`.
        """
        iterator = iter(rows)
        total = AddResult()
        while chunk := list(islice(iterator, CHUNK_SIZE)):
            total += self._add_chunk(chunk)
            self._rows_seen += len(chunk)
            if not self._bulk and self._rows_seen >= BULK_ROWS:
                self._enter_bulk_mode()
        self.result += total
        return total

    def add_rows_staged(self, rows: Iterable[StoredRow]) -> AddResult:
        """Add stored rows as :meth:`add_rows` does, through a staging table (for big batches).

        The rows go into a temporary table without indexes; repeated ids, known ids and
        clashes are then found by set-based joins and the new rows copied into the ledger
        in one ``INSERT … SELECT`` in batch order (see :mod:`marginbook.ledger.staging`).
        Cheaper than :meth:`add_rows` for a large batch, dearer for a small one (a few
        statements whatever the size). Clashes land in :attr:`conflicts`, with the same
        messages as :meth:`add_rows` gives, and then nothing of the batch is copied.

        A batch whose first :data:`CHUNK_SIZE` rows are mostly known to the ledger is taken
        for a re-import and goes through :meth:`add_rows` instead: staging a whole file only
        to find every row known costs more than the chunked path's look-ups. Both paths give
        the same result; the choice is only about speed.
        """
        from marginbook.ledger.staging import merge_staged

        iterator = iter(rows)
        head = list(islice(iterator, CHUNK_SIZE))
        known = self._known_fingerprints([row[ID_INDEX] for row in head])
        if head and len(known) * 2 > len(head):
            return self.add_rows(chain(head, iterator))
        outcome = merge_staged(self._connection, chain(head, iterator), self._before_bulk_copy)
        return self._staged_result(outcome)

    def add_blocks_staged(self, blocks: Iterable[ArrowBlock], *, unique_ids: bool = False) -> AddResult:
        """Add blocks of stored rows given as Arrow data, as :meth:`add_rows_staged` adds rows.

        On SQLite with the ADBC driver installed the blocks are staged by ADBC in a scratch
        file attached to this transaction (:mod:`marginbook.ledger.arrow_stage`), so their
        rows never become Python objects; elsewhere (PostgreSQL, or no driver) each block's
        rows go through :meth:`add_rows_staged`. The results are the same either way.

        Unlike :meth:`add_rows_staged`, a re-import is staged too: through ADBC, staging a
        million known rows and joining them against the ledger took about 18 CPU-seconds,
        the chunked path's look-ups about 24.

        ``unique_ids`` promises that no id repeats within ``blocks``; into an empty ledger the
        scratch table then has the ledger's own shape and unique constraint, so that the
        import is copied wholesale. Should an id repeat after all, this raises
        :class:`~marginbook.ledger.arrow_stage.RepeatedId` (having added nothing).
        """
        from marginbook.ledger import arrow_stage
        from marginbook.ledger.staging import merge_scratch

        iterator = iter(blocks)
        first = next(iterator, None)
        if first is None:
            return AddResult()
        rest = chain([first], iterator)
        if not arrow_stage.available(self._connection) or len(self._scratches) >= arrow_stage.MAX_SCRATCH:
            return self.add_rows_staged(row for block in rest for row in block.rows())
        shape = None
        if unique_ids and self._ledger_is_empty():  # only an empty ledger takes the whole copy
            shape = arrow_stage.ledger_shaped_table_sql(self._connection)
        scratch = arrow_stage.ScratchStage(f"mb_stage_{len(self._scratches)}",
                                           arrow_stage.scratch_directory(self._connection), shape)
        self._scratches.append(scratch)
        outcome = merge_scratch(self._connection, scratch, rest, self._before_bulk_copy)
        return self._staged_result(outcome)

    def _ledger_is_empty(self) -> bool:
        return self._connection.execute(select(events_table.c.seq).limit(1)).first() is None

    def release(self) -> None:
        """Detach and delete the scratch databases; call once the transaction has ended."""
        while self._scratches:
            self._scratches.pop().release()

    def _staged_result(self, outcome: StagedOutcome) -> AddResult:
        for new, old in outcome.clashes:
            previous = stored_row_to_event(old) if isinstance(old, tuple) else row_to_event(old)
            self.conflicts.append(_conflict(stored_row_to_event(new), previous))
        result = AddResult(outcome.added, outcome.unchanged)
        self.result += result
        return result

    def _before_bulk_copy(self, rows: int) -> None:
        """Bulk mode for a staged copy of ``rows`` rows, when that is enough to pay."""
        self._rows_seen += rows
        if not self._bulk and self._rows_seen >= BULK_ROWS:
            self._enter_bulk_mode()

    def _enter_bulk_mode(self) -> None:
        """On SQLite, make a large import cheaper while it lasts (undone by :meth:`finish`).

        A bigger page cache keeps the unique index on ``id`` (random-looking ids) in memory,
        and the ``(ts_us, seq)`` index is dropped and rebuilt once at the end, which is much
        faster than updating it row by row. Both happen inside the transaction, so readers
        never see the ledger without its index, and a rollback restores it. The index is
        dropped only when the import is at least half the ledger's size so far, so a small
        import into a large ledger does not rebuild a large index.
        """
        self._bulk = True
        if self._connection.dialect.name != "sqlite":
            return
        existing = self._connection.execute(select(func.count()).select_from(events_table)).scalar_one()
        self._connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        if existing <= 2 * self._rows_seen:
            self._ordered_index.drop(self._connection, checkfirst=True)

    def finish(self) -> None:
        """Restore what bulk mode changed (the ordered index, the cache size) before commit."""
        if self._bulk and self._connection.dialect.name == "sqlite":
            self._ordered_index.create(self._connection, checkfirst=True)
            self._connection.exec_driver_sql("PRAGMA cache_size=-65536")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo what the block added (rows, counts and conflicts) if it raises."""
        result, conflicts = self.result, len(self.conflicts)
        try:
            with self._connection.begin_nested():
                yield
        except BaseException:
            self.result = result
            del self.conflicts[conflicts:]
            raise

    def _insert(self, rows: list[StoredRow]) -> None:
        self._connection.exec_driver_sql(self._insert_sql, rows)

    def _add_chunk(self, chunk: list[StoredRow]) -> AddResult:
        rows: list[StoredRow] = []
        first_by_id: dict[str, StoredRow] = {}
        unchanged = 0
        for row in chunk:
            event_id = row[ID_INDEX]
            earlier = first_by_id.get(event_id)
            if earlier is None:
                first_by_id[event_id] = row
                rows.append(row)
            elif earlier[FINGERPRINT_INDEX] == row[FINGERPRINT_INDEX]:
                unchanged += 1
            else:
                self.conflicts.append(_conflict(stored_row_to_event(row), stored_row_to_event(earlier)))
        try:
            with self._connection.begin_nested():
                self._insert(rows)
        except IntegrityError:
            return self._add_chunk_slowly(rows, unchanged)
        return AddResult(len(rows), unchanged)

    def _add_chunk_slowly(self, rows: list[StoredRow], unchanged: int) -> AddResult:
        known = self._known_fingerprints([row[ID_INDEX] for row in rows])
        new_rows = []
        for row in rows:
            stored = known.get(row[ID_INDEX])
            if stored is None:
                new_rows.append(row)
            elif stored == row[FINGERPRINT_INDEX]:
                unchanged += 1
            else:
                self.conflicts.append(_conflict(stored_row_to_event(row), self._stored_event(row[ID_INDEX])))
        if new_rows:
            self._insert(new_rows)
        return AddResult(len(new_rows), unchanged)

    def _known_fingerprints(self, ids: list[str]) -> dict[str, str]:
        known: dict[str, str] = {}
        columns = (events_table.c.id, events_table.c.fingerprint)
        for start in range(0, len(ids), LOOKUP_SIZE):
            part = ids[start : start + LOOKUP_SIZE]
            for event_id, fingerprint in self._connection.execute(
                select(*columns).where(events_table.c.id.in_(part))
            ):
                known[event_id] = fingerprint
        return known

    def _stored_event(self, event_id: str) -> LedgerEvent:
        row = self._connection.execute(
            select(events_table).where(events_table.c.id == event_id)
        ).mappings().one()
        return row_to_event(row)


def _differences(new: LedgerEvent, old: LedgerEvent) -> str:
    changed = []
    for field in dataclasses.fields(LedgerEvent):
        if field.name in {"id", "origin"}:
            continue
        if getattr(new, field.name) != getattr(old, field.name):
            changed.append(field.name)
    return ", ".join(changed) or "content"


def _where(event: LedgerEvent) -> str:
    origin = event.origin
    if not origin.source:
        return "an earlier import"
    return origin.source if origin.row is None else f"{origin.source}:{origin.row}"


def _conflict(new: LedgerEvent, old: LedgerEvent) -> InputProblem:
    return InputProblem(
        new.origin.source or "<events>",
        new.origin.row,
        "id",
        f"id {new.id!r} is already in the ledger (from {_where(old)}) with a different "
        f"{_differences(new, old)}; give this event another id or fix the row",
    )


class LedgerStore:
    """The ledger database: events in, events out, nothing else.

    Open it with :func:`marginbook.ledger.open_store`; use it as a context manager (or call
    :meth:`close`) so the connection pool is released.
    """

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self.url = url

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and maintenance; use the methods for events)."""
        return self._engine

    def describe(self) -> str:
        """The database URL as shown to a person (password hidden)."""
        return describe(self.url)

    @contextmanager
    def writer(self) -> Iterator[EventWriter]:
        """A transaction for adding events from several sources at once.

        Everything added within the ``with`` block is committed together at its end, or
        nothing is: an exception in the block, or a conflict found by any
        :meth:`EventWriter.add`, rolls the whole transaction back.

        Raises:
            InputError: at the end of the block, listing every conflicting id.
        """
        with self._engine.connect() as connection:
            writer = EventWriter(connection)
            try:
                with connection.begin():
                    yield writer
                    if writer.conflicts:
                        raise InputError(writer.conflicts)
                    writer.finish()
            finally:
                writer.release()

    def add_events(self, events: Sequence[LedgerEvent]) -> AddResult:
        """Add ``events`` in one transaction.

        An event whose id the ledger has with the same content is counted unchanged; an id
        the ledger (or this batch) has with other content is a conflict, and then nothing of
        the batch is written.

        Raises:
            InputError: naming ``source:row`` and field ``id`` of every conflicting event.
        """
        with self.writer() as writer:
            return writer.add(events)

    def events(
        self,
        *,
        wallet: str | None = None,
        asset: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[LedgerEvent]:
        """Stream events in ledger order: by timestamp, then by import order.

        Args:
            wallet: only events in this wallet, or transfers into it (``to_wallet``).
            asset: only events that move this asset: as ``asset``, ``counter_asset`` or
                ``fee_asset``.
            start: only events at or after this time (timezone-aware).
            end: only events before this time (timezone-aware; exclusive).

        Rows are fetched :data:`FETCH_SIZE` at a time, so a large ledger is never loaded at
        once; the connection is held until the iterator is exhausted or closed.

        Raises:
            ValueError: for a ``start`` or ``end`` without a time zone.
        """
        table = events_table
        statement = select(table).order_by(table.c.ts_us, table.c.seq)
        if wallet is not None:
            statement = statement.where(or_(table.c.wallet == wallet, table.c.to_wallet == wallet))
        if asset is not None:
            statement = statement.where(
                or_(table.c.asset == asset, table.c.counter_asset == asset, table.c.fee_asset == asset)
            )
        if start is not None:
            statement = statement.where(table.c.ts_us >= to_micros(_aware(start, "start")))
        if end is not None:
            statement = statement.where(table.c.ts_us < to_micros(_aware(end, "end")))
        return self._stream(statement)

    def _stream(self, statement: Select[Any]) -> Iterator[LedgerEvent]:
        with self._engine.connect() as connection:
            result = connection.execution_options(yield_per=FETCH_SIZE).execute(statement)
            for row in result.mappings():
                yield row_to_event(row)

    def count(self) -> int:
        """The number of events in the ledger."""
        with self._engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(events_table)).scalar_one())

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> LedgerStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} needs a time zone (use datetime(..., tzinfo=UTC))")
    return value
