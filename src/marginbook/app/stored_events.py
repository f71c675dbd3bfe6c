"""Read the ledger's events for the tax engine, fast: validated once on import, not again.

``LedgerStore.events()`` builds a full :class:`~marginbook.domain.events.LedgerEvent` per
row, re-running every field check (about 30 µs a row here, most of the time of a million-
event tax run). The tax engine only reads the fields (:class:`marginbook.tax.events.TaxEvent`),
so this reader selects the same rows in the same order (``ts_us``, ``seq``) and builds a
light immutable :class:`StoredEvent` per row. If the ledger's schema is not the one this
reader knows, :func:`tax_events_from_store` falls back to ``store.events()``; a test checks
that both readers give the same events.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.util import find_spec
from typing import Any, NamedTuple
from urllib.parse import quote

from marginbook.domain.events import EventKind, LotPick, Origin
from marginbook.tax.book import time_key
from marginbook.tax.events import TaxEvent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS = {kind.value: kind for kind in EventKind}
_FETCH = 5000

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


def _event(row: Any) -> StoredEvent:
    """One row (``COLUMNS`` order) as a :class:`StoredEvent` (the general, SQLAlchemy path)."""
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


def _sqlite_events(store: Any, micros: int | None) -> Iterator[StoredEvent]:
    """The rows through the SQLite driver's own cursor, without SQLAlchemy's result layer.

    SQLAlchemy's row objects and per-row processing cost more than building the event; the
    statement is plain SQL over the same columns, in the same ``(ts_us, seq)`` order. The
    rows of the common shape (no ``lots``, times, basis or origin reference) skip the helper
    calls of :func:`_event`.
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
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
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
                    yield _event(row)
        cursor.close()
    finally:
        raw.close()


def stored_events(store: Any, end: datetime | None = None) -> Iterator[StoredEvent]:
    """Every event before ``end`` in ledger order, read straight from the ``events`` table.

    Args:
        store: an open ``marginbook.ledger.LedgerStore``.
        end: exclusive upper bound (timezone-aware), or ``None`` for all.
    """
    micros = None if end is None else time_key(end)
    if store.engine.dialect.name == "sqlite":
        yield from _sqlite_events(store, micros)
        return
    from sqlalchemy import select

    from marginbook.ledger.schema import events as table

    statement = select(*(table.c[name] for name in COLUMNS)).order_by(table.c.ts_us, table.c.seq)
    if micros is not None:
        statement = statement.where(table.c.ts_us < micros)
    with store.engine.connect() as connection:
        result = connection.execution_options(yield_per=_FETCH).execute(statement)
        for partition in result.partitions():
            yield from map(_event, partition)


class StoredEvents:
    """The events before ``end``, read again from the ledger each time they are iterated.

    The tax engine may read a ledger twice (its fast fold stands aside for a ledger it does
    not support, and the ``Decimal`` fold reads it again); reading twice costs less than
    holding a million events in memory between the two. ``len()`` counts the rows (the
    engine picks its fold by the size of the ledger).

    Args:
        store: an open ``marginbook.ledger.LedgerStore`` (open while this is used).
        end: exclusive upper bound, or ``None`` for all.
    """

    def __init__(self, store: Any, end: datetime | None) -> None:
        self._store = store
        self._end = end

    def __iter__(self) -> Iterator[StoredEvent]:
        return stored_events(self._store, self._end)

    def columns(self) -> SqliteColumns | None:
        """The rows as columns (:class:`marginbook.tax.fast.columnar.EventColumns`) for a SQLite
        ledger file, else ``None`` (the events are then read one by one)."""
        return sqlite_columns(self._store, self._end)

    def __len__(self) -> int:
        from sqlalchemy import func, select

        from marginbook.ledger.schema import events as table

        statement = select(func.count()).select_from(table)
        if self._end is not None:
            statement = statement.where(table.c.ts_us < time_key(self._end))
        with self._store.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())


#: The columnar reader's statement: text columns never null (``''``), ``flags`` the kind and
#: which columns were null or USD (bits of :mod:`marginbook.tax.fast.columnar`), so every
#: column has one type from the first row on (the ADBC driver types a column by the first
#: rows it reads).
_COLUMNS_SQL = """SELECT seq, ts_us, id, wallet, asset, amount,
 IFNULL(counter_amount, '') AS counter_amount,
 CASE WHEN fee_asset IS NULL THEN '' ELSE IFNULL(fee_amount, '') END AS fee,
 IFNULL(to_wallet, '') AS to_wallet,
 (CASE kind WHEN 'buy' THEN 1 WHEN 'sell' THEN 2 WHEN 'transfer' THEN 3 ELSE 0 END)
 + 4 * (fee_asset IS NULL) + 8 * (fee_amount IS NULL) + 16 * (counter_amount IS NULL)
 + 32 * (usd_value IS NOT NULL) + 64 * (lots IS NOT NULL AND lots != '')
 + 128 * IFNULL(fee_asset = 'USD', 0) + 256 * IFNULL(counter_asset = 'USD', 0) + 512 * (to_wallet IS NULL)
 AS flags
FROM events"""
#: How long the columnar reader waits for a lock (as ``marginbook.ledger.engine``'s connections).
_BUSY_MS = 10_000
#: Beyond every ledger time (microseconds), for the reader's bounds.
_END_OF_TIME = 2**62
#: From this many rows the columnar reader reads two halves at once.
_SPLIT_FROM = 100_000
#: Rows read back as events per statement (``seq IN (...)``).
_BY_SEQ = 500


class LedgerChanged(RuntimeError):
    """The ledger grew while the columnar reader read it in parts; read it as events instead."""


class SqliteColumns:
    """A SQLite ledger file's rows before ``end`` as polars columns, read once through ADBC.

    Arrow columns cost a fraction of a Python object per row; the tax engine's fast fold
    encodes the common rows from them directly and asks :meth:`events` for the others.
    """

    def __init__(self, store: Any, path: str, end: datetime | None) -> None:
        self._store = store
        self._path = path
        self._end = end
        self._frame: Any = None

    @property
    def frame(self) -> Any:
        """The rows (``marginbook.tax.fast.columnar.FRAME_COLUMNS``) in ledger order.

        Read in two halves of the ledger at once (two connections, two threads: the driver
        and polars do the work outside the interpreter lock), about half the wall time of one.
        """
        if self._frame is None:
            from concurrent.futures import ThreadPoolExecutor

            import polars as pl

            end = _END_OF_TIME if self._end is None else time_key(self._end)
            count, middle = self._middle(end)
            if middle is None:
                self._frame = self._read(-_END_OF_TIME, end)
            else:
                with ThreadPoolExecutor(2) as pool:
                    first = pool.submit(self._read, -_END_OF_TIME, middle)
                    second = pool.submit(self._read, middle, end)
                    frame = pl.concat([first.result(), second.result()], rechunk=True)
                # The halves are two statements, so two snapshots: an import that committed
                # after the count would show in one of them as rows more than counted (the
                # ledger only grows). Then they may disagree: the caller reads the events.
                if frame.height != count:
                    raise LedgerChanged(
                        f"the ledger changed while it was read ({count} -> {frame.height} rows)"
                    )
                self._frame = frame
        return self._frame

    def _middle(self, end: int) -> tuple[int, int | None]:
        """How many rows are before ``end``, and the time that splits them in halves (``None``:
        too few to split)."""
        raw = self._store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT count(*) FROM events WHERE ts_us < ?", (end,))
            count = int(cursor.fetchone()[0])
            if count < _SPLIT_FROM:
                return count, None
            cursor.execute(
                "SELECT ts_us FROM events WHERE ts_us < ? ORDER BY ts_us LIMIT 1 OFFSET ?", (end, count // 2)
            )
            middle = int(cursor.fetchone()[0])
            cursor.close()
        finally:
            raw.close()
        return count, middle

    def _read(self, start: int, end: int) -> Any:
        """The rows from ``start`` (inclusive) to ``end`` (exclusive), in ledger order."""
        import adbc_driver_sqlite.dbapi as adbc
        import polars as pl

        sql = f"{_COLUMNS_SQL} WHERE ts_us >= ? AND ts_us < ? ORDER BY ts_us, seq"
        with adbc.connect(f"file:{quote(self._path)}?mode=ro") as connection:
            cursor = connection.cursor()
            try:
                # A reader of a WAL ledger may meet a lock held for a moment (another reader
                # setting up the WAL index, a checkpoint): wait as the store's connections do.
                cursor.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
                cursor.execute(sql, (start, end))
                return pl.DataFrame(cursor.fetch_arrow())
            finally:
                cursor.close()

    def events(self, seqs: Sequence[int]) -> list[StoredEvent]:
        """The full events of the rows ``seqs`` (as :func:`stored_events` reads them), in that order."""
        found: dict[int, StoredEvent] = {}
        select = f"SELECT {', '.join(COLUMNS)}, seq FROM events"
        raw = self._store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for start in range(0, len(seqs), _BY_SEQ):
                chunk = seqs[start : start + _BY_SEQ]
                marks = ", ".join("?" * len(chunk))
                cursor.execute(f"{select} WHERE seq IN ({marks})", tuple(chunk))
                for row in cursor.fetchall():
                    found[row[-1]] = _event(row[:-1])
            cursor.close()
        finally:
            raw.close()
        return [found[seq] for seq in seqs]


def sqlite_columns(store: Any, end: datetime | None) -> SqliteColumns | None:
    """The columnar reader of a SQLite ledger file (``None``: another database, or in memory)."""
    from marginbook.ledger.engine import sqlite_file

    database = sqlite_file(store.engine.url)
    if database is None:
        return None
    # Whether the driver and polars are installed, without importing them yet (a run that
    # does not read the columns, HIFO across 2025 say, should not pay for the import).
    if find_spec("adbc_driver_sqlite") is None or find_spec("polars") is None:
        return None
    return SqliteColumns(store, os.path.abspath(database), end)


def tax_events_from_store(store: Any, end: datetime | None = None) -> Iterable[TaxEvent]:
    """The fast reader when the ledger's schema has the columns it knows, else ``store.events()``.

    The fast reader's :class:`StoredEvents` reads the ledger again each time it is iterated;
    the fallback reads it once into a list.
    """
    try:
        from marginbook.ledger.schema import events as table
    except ImportError:
        return list(store.events(end=end))
    if not all(name in table.c for name in (*COLUMNS, "seq")):
        return list(store.events(end=end))
    return StoredEvents(store, end)
