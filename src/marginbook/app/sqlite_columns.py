"""A SQLite ledger file's rows as polars columns, for the tax engine's fast fold.

Read through ADBC (Arrow, no Python object per row), read-only, in two halves at once for a
large ledger; the rows the fold does not encode from columns are read back as events
(:func:`marginbook.app.stored_events.row_event`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from marginbook.app.stored_events import COLUMNS, Connect, StoredEvent, row_event
from marginbook.ledger.location import BUSY_TIMEOUT_MS
from marginbook.ledger.sqlite_read import read_only_uri
from marginbook.tax.book import time_key

#: The columnar reader's statement: text columns never null (``''``), ``flags`` the kind and
#: which columns were null or USD (bits of :mod:`marginbook.tax.fast.columnar`), so every
#: column has one type from the first row on (the ADBC driver types a column by the first
#: rows it reads). The one definition of the flags: plain ledger CSV files are read into the
#: same frame by evaluating this text with polars' SQL (:mod:`marginbook.app.csv_columns`).
COLUMNS_SQL = """SELECT seq, ts_us, id, wallet, asset, amount,
 IFNULL(counter_amount, '') AS counter_amount,
 CASE WHEN fee_asset IS NULL THEN '' ELSE IFNULL(fee_amount, '') END AS fee,
 IFNULL(to_wallet, '') AS to_wallet,
 (CASE kind WHEN 'buy' THEN 1 WHEN 'sell' THEN 2 WHEN 'transfer' THEN 3 ELSE 0 END)
 + 4 * (fee_asset IS NULL) + 8 * (fee_amount IS NULL) + 16 * (counter_amount IS NULL)
 + 32 * (usd_value IS NOT NULL) + 64 * (lots IS NOT NULL AND lots != '')
 + 128 * IFNULL(fee_asset = 'USD', 0) + 256 * IFNULL(counter_asset = 'USD', 0) + 512 * (to_wallet IS NULL)
 AS flags
FROM events"""
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

    Args:
        path: the ledger file.
        connect: opens a ``sqlite3`` connection to it (the count, the rows read back as events).
        end: exclusive upper bound, or ``None`` for all.
    """

    def __init__(self, path: Path, connect: Connect, end: datetime | None) -> None:
        self._path = path
        self._connect = connect
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
        with self._connect() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT count(*) FROM events WHERE ts_us < ?", (end,))
            count = int(cursor.fetchone()[0])
            if count < _SPLIT_FROM:
                return count, None
            cursor.execute(
                "SELECT ts_us FROM events WHERE ts_us < ? ORDER BY ts_us LIMIT 1 OFFSET ?", (end, count // 2)
            )
            middle = int(cursor.fetchone()[0])
            cursor.close()
        return count, middle

    def _read(self, start: int, end: int) -> Any:
        """The rows from ``start`` (inclusive) to ``end`` (exclusive), in ledger order."""
        import adbc_driver_sqlite.dbapi as adbc
        import polars as pl

        sql = f"{COLUMNS_SQL} WHERE ts_us >= ? AND ts_us < ? ORDER BY ts_us, seq"
        with adbc.connect(read_only_uri(self._path)) as connection:
            cursor = connection.cursor()
            try:
                # A reader of a WAL ledger may meet a lock held for a moment (another reader
                # setting up the WAL index, a checkpoint): wait as the store's connections do.
                cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                cursor.execute(sql, (start, end))
                return pl.DataFrame(cursor.fetch_arrow())
            finally:
                cursor.close()

    def events(self, seqs: Sequence[int]) -> list[StoredEvent]:
        """The full events of the rows ``seqs`` (as :func:`stored_events` reads them), in that order."""
        found: dict[int, StoredEvent] = {}
        select = f"SELECT {', '.join(COLUMNS)}, seq FROM events"
        with self._connect() as connection:
            cursor = connection.cursor()
            for start in range(0, len(seqs), _BY_SEQ):
                chunk = seqs[start : start + _BY_SEQ]
                marks = ", ".join("?" * len(chunk))
                cursor.execute(f"{select} WHERE seq IN ({marks})", tuple(chunk))
                for row in cursor.fetchall():
                    found[row[-1]] = row_event(row[:-1])
            cursor.close()
        return [found[seq] for seq in seqs]
