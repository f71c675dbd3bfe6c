"""Bulk adding through a staging table: set-based checks instead of per-chunk look-ups.

A large import (the vectorised CSV reader's million rows) first goes, with ``executemany``,
into a temporary table without indexes, which is the cheapest insert there is. The rows are
then copied into ``events`` by one ``INSERT … SELECT`` in staging order, so ``seq`` (and
therefore the order of events with equal timestamps) follows the file. That copy is first
tried with no checks (a first import passes the unique index on ``id`` untouched); only when
the index objects are repeated ids inside the batch and ids the ledger already has sorted out
with a few set-based joins, and the copy redone with just the new rows. All of
it runs inside the caller's transaction: a conflict or an error leaves nothing behind, and
the temporary table lives only as long as the call (and is dropped with a rollback).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from marginbook.ledger.arrow_stage import ArrowBlock, ScratchStage
from marginbook.ledger.rows import FINGERPRINT_INDEX, STORED_COLUMNS, StoredRow
from marginbook.ledger.schema import events as events_table

#: Rows per ``executemany`` into the staging table.
STAGE_CHUNK = 10_000
#: Positions per ``IN (...)`` list (under SQLite's bound-parameter limit).
POSITIONS_PER_STATEMENT = 500
_INTEGER_COLUMNS = frozenset({"ts_us", "acquired_at_us", "opened_at_us", "source_row"})


@dataclass(slots=True)
class StagedOutcome:
    """What merging a staged batch found.

    Attributes:
        added: rows copied into ``events`` (0 when there were clashes: nothing is copied).
        unchanged: rows whose id the ledger or an earlier row of the batch has with the
            same content.
        clashes: ``(new row, earlier row)`` for each id the batch repeats with other
            content, and ``(new row, ledger row as a mapping)`` for each id the ledger has
            with other content; in batch order.
    """

    added: int = 0
    unchanged: int = 0
    clashes: list[tuple[StoredRow, StoredRow | Mapping[Any, Any]]] = field(default_factory=list)


class _Stage:
    """The SQL of one staging table on one connection's dialect.

    By default a temporary table that this class creates, fills and drops; given ``table``,
    one filled elsewhere (a scratch database attached to the connection, see
    :mod:`marginbook.ledger.arrow_stage`), which outlives the call.
    """

    def __init__(
        self, connection: Connection, table: str | None = None, *, ledger_shaped: bool = False
    ) -> None:
        self.connection = connection
        #: The table has the exact shape of ``events`` (``pos`` for ``seq``): see ``copy``.
        self.ledger_shaped = ledger_shaped
        self.sqlite = connection.dialect.name == "sqlite"
        quote = connection.dialect.identifier_preparer.quote
        self.temporary = table is None
        self.name = table or ("temp.mb_import_stage" if self.sqlite else "pg_temp.mb_import_stage")
        self.events = quote(events_table.name)
        self.columns = ", ".join(quote(name) for name in STORED_COLUMNS)
        self.prefixed = ", ".join(f"s.{quote(name)}" for name in STORED_COLUMNS)
        self.marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"

    def sql(self, text: str) -> Any:
        return self.connection.exec_driver_sql(text)

    def create(self) -> None:
        quote = self.connection.dialect.identifier_preparer.quote
        typed = ", ".join(
            f"{quote(name)} {'BIGINT' if name in _INTEGER_COLUMNS else 'TEXT'}" for name in STORED_COLUMNS
        )
        self.sql(f"DROP TABLE IF EXISTS {self.name}")
        if self.sqlite:  # the rowid alias numbers rows in insertion order
            self.sql(f"CREATE TEMP TABLE mb_import_stage (pos INTEGER PRIMARY KEY, {typed})")
        else:
            self.sql(f"CREATE TEMP TABLE mb_import_stage "
                     f"(pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {typed}) ON COMMIT DROP")

    def fill(self, rows: Iterable[StoredRow]) -> int:
        statement = (f"INSERT INTO {self.name} ({self.columns}) "
                     f"VALUES ({', '.join([self.marker] * len(STORED_COLUMNS))})")
        iterator = iter(rows)
        count = 0
        while chunk := list(islice(iterator, STAGE_CHUNK)):
            self.connection.exec_driver_sql(statement, chunk)
            count += len(chunk)
        return count

    def copy(self) -> None:
        """Copy every staged row into ``events`` in staging order (so ``seq`` follows it).

        A ledger-shaped stage goes into an empty ``events`` whole, ``pos`` becoming ``seq``
        (1, 2, ... in staging order): SQLite then transfers the records and the unique index
        as they are (see :func:`marginbook.ledger.arrow_stage.ledger_shaped_table_sql`).
        """
        if self.ledger_shaped and self.sql(f"SELECT 1 FROM {self.events} LIMIT 1").first() is None:
            self.sql(f"INSERT INTO {self.events} SELECT * FROM {self.name}")
            return
        self.sql(f"INSERT INTO {self.events} ({self.columns}) "
                 f"SELECT {self.prefixed} FROM {self.name} s ORDER BY s.pos")

    def drop(self) -> None:
        if self.temporary:
            self.sql(f"DROP TABLE {self.name}")

    def row(self, position: int) -> StoredRow:
        found = self.sql(f"SELECT {self.columns} FROM {self.name} WHERE pos = {int(position)}").one()
        return tuple(found)

    def delete(self, positions: list[int]) -> None:
        for start in range(0, len(positions), POSITIONS_PER_STATEMENT):
            part = ", ".join(str(int(p)) for p in positions[start : start + POSITIONS_PER_STATEMENT])
            self.sql(f"DELETE FROM {self.name} WHERE pos IN ({part})")


def merge_staged(
    connection: Connection, rows: Iterable[StoredRow], before_copy: Callable[[int], None]
) -> StagedOutcome:
    """Stage ``rows``, sort them into new, unchanged and clashing, and copy the new ones.

    Args:
        connection: inside the transaction of the import.
        rows: stored rows in file order.
        before_copy: called once with the number of rows staged, before any copy (a
            chance to drop an index that is cheaper to rebuild than to update).

    The copy is first tried optimistically, in a SAVEPOINT, with no checks at all: on a
    first import (the common case) the unique index on ``id`` finds nothing and the
    set-based checks are skipped. When it objects, the copy is undone and the checks run.
    """
    stage = _Stage(connection)
    stage.create()
    return _merge(stage, stage.fill(rows), before_copy)


def merge_scratch(
    connection: Connection,
    scratch: ScratchStage,
    blocks: Iterable[ArrowBlock],
    before_copy: Callable[[int], None],
) -> StagedOutcome:
    """As :func:`merge_staged`, with the staging table filled from Arrow blocks by ADBC in
    ``scratch`` (SQLite only), then attached to ``connection``; the caller releases
    ``scratch`` once the transaction has ended."""
    staged = scratch.fill(blocks)
    scratch.attach(connection)
    stage = _Stage(connection, scratch.table, ledger_shaped=scratch.table_sql is not None)
    return _merge(stage, staged, before_copy)


def _merge(stage: _Stage, staged: int, before_copy: Callable[[int], None]) -> StagedOutcome:
    """Sort the ``staged`` rows of ``stage`` into new, unchanged and clashing; copy the new."""
    connection = stage.connection
    if staged:
        try:
            # Inside the savepoint, so that a re-import (the copy fails on its first row)
            # also gets back an index that bulk mode dropped, instead of rebuilding it.
            with connection.begin_nested():
                before_copy(staged)
                stage.copy()
        except IntegrityError:
            pass
        else:
            stage.drop()
            return StagedOutcome(added=staged)
    outcome = StagedOutcome()
    by_pos: list[tuple[int, StoredRow, StoredRow | Mapping[Any, Any]]] = []

    # Ids the ledger has (every staged row, repeats included): unchanged when the content
    # matches, else a clash. Checked first, so that a pure re-import groups nothing below.
    known = f"EXISTS (SELECT 1 FROM {stage.events} e WHERE e.id = s.id)"
    same, different = stage.sql(
        f"SELECT COALESCE(SUM(CASE WHEN e.fingerprint = s.fingerprint THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN e.fingerprint <> s.fingerprint THEN 1 ELSE 0 END), 0) "
        f"FROM {stage.name} s JOIN {stage.events} e ON e.id = s.id"
    ).one()
    outcome.unchanged += int(same)
    if different:
        for position, event_id in stage.sql(
            f"SELECT s.pos, s.id FROM {stage.name} s JOIN {stage.events} e ON e.id = s.id "
            f"WHERE e.fingerprint <> s.fingerprint ORDER BY s.pos"
        ).all():
            old = connection.execute(
                events_table.select().where(events_table.c.id == event_id)
            ).mappings().one()
            by_pos.append((position, stage.row(position), old))

    # Ids new to the ledger that the batch repeats: a later row is unchanged (same content
    # as the first) or a clash; either way only the first row of an id is copied.
    repeated = [] if same + different == staged else stage.sql(  # all known: nothing to group
        f"SELECT s.id, MIN(s.pos) FROM {stage.name} s WHERE NOT {known} GROUP BY s.id HAVING COUNT(*) > 1"
    ).all()
    later: list[int] = []
    for event_id, first_position in repeated:
        first = stage.row(first_position)
        for position, fingerprint in connection.exec_driver_sql(
            f"SELECT pos, fingerprint FROM {stage.name} WHERE id = {stage.marker} AND pos > {stage.marker}",
            (event_id, first_position),
        ).all():
            later.append(position)
            if fingerprint == first[FINGERPRINT_INDEX]:
                outcome.unchanged += 1
            else:
                by_pos.append((position, stage.row(position), first))
    by_pos.sort(key=lambda item: item[0])
    outcome.clashes = [(new, old) for _, new, old in by_pos]

    if not outcome.clashes:
        new_rows = staged - outcome.unchanged
        if new_rows:
            stage.delete(later)
            if same:
                stage.sql(f"DELETE FROM {stage.name} WHERE id IN (SELECT id FROM {stage.events})")
            stage.copy()
        outcome.added = new_rows
    stage.drop()
    return outcome
