"""Read the ledger's events for the tax engine, fast: validated once on import, not again.

``LedgerStore.events()`` builds a full :class:`~marginbook.domain.events.LedgerEvent` per
row, re-running every field check (about 30 µs a row here, most of the time of a million-
event tax run). The tax engine only reads the fields (:class:`marginbook.tax.events.TaxEvent`),
so this reader selects the same rows in the same order (``ts_us``, ``seq``) and builds a
light immutable :class:`StoredEvent` per row. If the ledger's schema is not the one this
reader knows, :func:`tax_events_from_store` falls back to ``store.events()``; a test checks
that both readers give the same events.

A SQLite ledger is read through the ``sqlite3`` driver itself: an up-to-date file straight
from its path (:func:`tax_events_from_file`, no SQLAlchemy imported), an open store's file
the same way, an in-memory store through its engine's raw connection. PostgreSQL is read
with a SQLAlchemy ``select``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from marginbook.domain.events import EventKind, LotPick, Origin
from marginbook.tax.book import time_key
from marginbook.tax.events import TaxEvent

if TYPE_CHECKING:
    from marginbook.app.sqlite_columns import SqliteColumns

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS = {kind.value: kind for kind in EventKind}
_FETCH = 5000

#: Opens a connection of the ``sqlite3`` driver to a SQLite ledger for the block (closed after).
Connect = Callable[[], AbstractContextManager[Any]]

#: The ``events`` columns read, in StoredEvent order (origin columns last).
COLUMNS = (
    "id",
    "ts_us",
    "kind",
    "wallet",
    "asset",
    "amount",
    "counter_asset",
    "counter_amount",
    "fee_asset",
    "fee_amount",
    "usd_value",
    "to_wallet",
    "cost_basis_usd",
    "acquired_at_us",
    "lots",
    "position",
    "opened_at_us",
    "note",
    "source",
    "source_row",
    "source_ref",
)


class StoredEvent(NamedTuple):
    """A ledger event read back from the database (fields as in ``LedgerEvent``)."""

    id: str
    timestamp: datetime
    kind: EventKind
    wallet: str
    asset: str
    amount: Decimal
    counter_asset: str | None
    counter_amount: Decimal | None
    fee_asset: str | None
    fee_amount: Decimal | None
    usd_value: Decimal | None
    to_wallet: str | None
    cost_basis_usd: Decimal | None
    acquired_at: datetime | None
    lots: tuple[LotPick, ...]
    position: str | None
    opened_at: datetime | None
    note: str | None
    origin: Origin


def _time(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _lots(text: str | None) -> tuple[LotPick, ...]:
    if not text:
        return ()
    return tuple(LotPick(acquisition_id, Decimal(quantity)) for acquisition_id, quantity in json.loads(text))


def row_event(row: Any) -> StoredEvent:
    """One row (``COLUMNS`` order) as a :class:`StoredEvent` (any row, any driver)."""
    (
        id_,
        ts_us,
        kind,
        wallet,
        asset,
        amount,
        counter_asset,
        counter_amount,
        fee_asset,
        fee_amount,
        usd_value,
        to_wallet,
        cost_basis_usd,
        acquired_at_us,
        lots,
        position,
        opened_at_us,
        note,
        source,
        source_row,
        source_ref,
    ) = row
    return _new(
        StoredEvent,
        (
            id_,
            _EPOCH + timedelta(microseconds=ts_us),
            _KINDS[kind],
            wallet,
            asset,
            Decimal(amount),
            counter_asset,
            None if counter_amount is None else Decimal(counter_amount),
            fee_asset,
            None if fee_amount is None else Decimal(fee_amount),
            None if usd_value is None else Decimal(usd_value),
            to_wallet,
            _number(cost_basis_usd),
            _time(acquired_at_us),
            _lots(lots),
            position,
            _time(opened_at_us),
            note,
            Origin(source, source_row, source_ref),
        ),
    )


_new = tuple.__new__


def _sqlite_events(connect: Connect, micros: int | None) -> Iterator[StoredEvent]:
    """The rows through the SQLite driver's own cursor, without SQLAlchemy's result layer.

    SQLAlchemy's row objects and per-row processing cost more than building the event; the
    statement is plain SQL over the same columns, in the same ``(ts_us, seq)`` order. The
    rows of the common shape (no ``lots``, times, basis or origin reference) skip the helper
    calls of :func:`row_event`.
    """
    sql = f"SELECT {', '.join(COLUMNS)} FROM events"
    parameters: tuple[int, ...] = ()
    if micros is not None:
        sql += " WHERE ts_us < ?"
        parameters = (micros,)
    sql += " ORDER BY ts_us, seq"
    kinds = _KINDS
    epoch = _EPOCH
    delta = timedelta
    number = Decimal
    new = _new
    stored = StoredEvent
    origin = Origin
    with connect() as connection:
        cursor = connection.cursor()
        cursor.execute(sql, parameters)
        while True:
            rows = cursor.fetchmany(_FETCH)
            if not rows:
                break
            for row in rows:
                (
                    id_,
                    ts_us,
                    kind,
                    wallet,
                    asset,
                    amount,
                    counter_asset,
                    counter_amount,
                    fee_asset,
                    fee_amount,
                    usd_value,
                    to_wallet,
                    cost_basis_usd,
                    acquired_at_us,
                    lots,
                    position,
                    opened_at_us,
                    note,
                    source,
                    source_row,
                    source_ref,
                ) = row
                if cost_basis_usd is None and acquired_at_us is None and not lots and opened_at_us is None:
                    yield new(
                        stored,
                        (
                            id_,
                            epoch + delta(microseconds=ts_us),
                            kinds[kind],
                            wallet,
                            asset,
                            number(amount),
                            counter_asset,
                            None if counter_amount is None else number(counter_amount),
                            fee_asset,
                            None if fee_amount is None else number(fee_amount),
                            None if usd_value is None else number(usd_value),
                            to_wallet,
                            None,
                            None,
                            (),
                            position,
                            None,
                            note,
                            origin(source, source_row, source_ref),
                        ),
                    )
                else:
                    yield row_event(row)
        cursor.close()


def stored_events(store: Any, end: datetime | None = None) -> Iterator[StoredEvent]:
    """Every event before ``end`` in ledger order, read straight from the ``events`` table.

    Args:
        store: an open ``marginbook.ledger.LedgerStore``.
        end: exclusive upper bound (timezone-aware), or ``None`` for all.
    """
    if store.engine.dialect.name == "sqlite":
        yield from _sqlite_store_events(store, end)
        return
    micros = None if end is None else time_key(end)
    from sqlalchemy import select

    from marginbook.ledger.schema import events as table

    statement = select(*(table.c[name] for name in COLUMNS)).order_by(table.c.ts_us, table.c.seq)
    if micros is not None:
        statement = statement.where(table.c.ts_us < micros)
    with store.engine.connect() as connection:
        result = connection.execution_options(yield_per=_FETCH).execute(statement)
        for partition in result.partitions():
            yield from map(row_event, partition)


class StoredEvents:
    """A SQLite ledger's events before ``end``, read again each time they are iterated.

    The tax engine may read a ledger twice (its fast fold stands aside for a ledger it does
    not support, and the ``Decimal`` fold reads it again); reading twice costs less than
    holding a million events in memory between the two. ``len()`` counts the rows (the
    engine picks its fold by the size of the ledger).

    Args:
        connect: opens a ``sqlite3`` connection to the ledger (see :data:`Connect`).
        end: exclusive upper bound, or ``None`` for all.
        path: the ledger file, for the columnar reader (``None``: in memory, no columns).
    """

    def __init__(self, connect: Connect, end: datetime | None, path: Path | None = None) -> None:
        self._connect = connect
        self._end = end
        self._path = path

    def __iter__(self) -> Iterator[StoredEvent]:
        return _sqlite_events(self._connect, None if self._end is None else time_key(self._end))

    def columns(self) -> SqliteColumns | None:
        """The rows as columns (:class:`marginbook.tax.fast.columnar.EventColumns`) for a SQLite
        ledger file, else ``None`` (the events are then read one by one)."""
        if self._path is None:
            return None
        # Whether the driver and polars are installed, without importing them yet (a run that
        # does not read the columns, HIFO across 2025 say, should not pay for the import).
        if find_spec("adbc_driver_sqlite") is None or find_spec("polars") is None:
            return None
        from marginbook.app.sqlite_columns import SqliteColumns

        return SqliteColumns(self._path, self._connect, self._end)

    def __len__(self) -> int:
        sql = "SELECT count(*) FROM events"
        parameters: tuple[int, ...] = ()
        if self._end is not None:
            sql += " WHERE ts_us < ?"
            parameters = (time_key(self._end),)
        with self._connect() as connection:
            cursor = connection.cursor()
            cursor.execute(sql, parameters)
            count = int(cursor.fetchone()[0])
            cursor.close()
        return count


class SelectedEvents:
    """A ledger's events before ``end`` through SQLAlchemy (PostgreSQL), as :class:`StoredEvents`
    (read again each time they are iterated, counted by ``len()``; no columns).

    Args:
        store: an open ``marginbook.ledger.LedgerStore`` (open while this is used).
        end: exclusive upper bound, or ``None`` for all.
    """

    def __init__(self, store: Any, end: datetime | None) -> None:
        self._store = store
        self._end = end

    def __iter__(self) -> Iterator[StoredEvent]:
        return stored_events(self._store, self._end)

    def columns(self) -> None:
        """No columnar reader for this database: the events are read one by one."""
        return None

    def __len__(self) -> int:
        from sqlalchemy import func, select

        from marginbook.ledger.schema import events as table

        statement = select(func.count()).select_from(table)
        if self._end is not None:
            statement = statement.where(table.c.ts_us < time_key(self._end))
        with self._store.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())


@contextmanager
def _raw_connection(store: Any) -> Iterator[Any]:
    """The driver's connection under one of the store's engine connections (returned after)."""
    raw = store.engine.raw_connection()
    try:
        yield raw
    finally:
        raw.close()


def _sqlite_store_events(store: Any, end: datetime | None) -> StoredEvents:
    """A SQLite store's events: its file read as :func:`tax_events_from_file` reads it, or an
    in-memory database through the store's own engine (no columns then)."""
    from marginbook.ledger.engine import sqlite_file

    path = sqlite_file(store.engine.url)
    if path is None:
        return StoredEvents(partial(_raw_connection, store), end)
    return tax_events_from_file(path.absolute(), end)


def tax_events_from_file(path: Path, end: datetime | None = None) -> StoredEvents:
    """The events of an up-to-date SQLite ledger file (see
    :func:`marginbook.ledger.sqlite_read.up_to_date_file`), read without SQLAlchemy and
    without writing to the file."""
    from marginbook.ledger.sqlite_read import reading

    return StoredEvents(partial(reading, path), end, path)


def tax_events_from_store(store: Any, end: datetime | None = None) -> Iterable[TaxEvent]:
    """The fast reader when the ledger's schema has the columns it knows, else ``store.events()``.

    The fast readers (:class:`StoredEvents` for SQLite, :class:`SelectedEvents` for others)
    read the ledger again each time they are iterated; the fallback reads it once into a list.
    """
    try:
        from marginbook.ledger.schema import events as table
    except ImportError:
        return list(store.events(end=end))
    if not all(name in table.c for name in (*COLUMNS, "seq")):
        return list(store.events(end=end))
    if store.engine.dialect.name != "sqlite":
        return SelectedEvents(store, end)
    return _sqlite_store_events(store, end)
