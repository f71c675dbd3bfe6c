"""Staging a bulk import for a SQLite ledger in a scratch file, written through ADBC.

Python's ``sqlite3`` binds every value of every row from a Python object: for a million
rows of 22 columns that alone is about 8 CPU-seconds here. The ADBC SQLite driver binds
straight from Arrow memory (about 3.5 CPU-seconds for the same rows), with the GIL released,
so it runs in a thread while the reader works on the next block.

ADBC brings its own SQLite connection, which cannot join the import's transaction. So it
never touches the ledger: it writes a scratch database holding only the staging table, and
the import's own connection ATTACHes that file and copies from it inside its transaction.
The ledger is still written by one connection in one transaction, and a rollback still
leaves nothing behind. SQLite refuses to DETACH a database inside the transaction that read
it, so the scratch file is detached and deleted (:meth:`ScratchStage.release`) only once the
transaction has ended.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import re
import socket
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection

from marginbook.ledger.engine import sqlite_file
from marginbook.ledger.rows import STORED_COLUMNS, StoredRow

#: How many scratch files one transaction may attach (SQLite allows 10 attached databases;
#: a transaction that imports more large files stages the rest with ``executemany``).
MAX_SCRATCH = 8
#: Blocks waiting for the ingest thread; bounds the memory held while the reader runs ahead.
QUEUE_BLOCKS = 2
#: Page cache of a ledger-shaped scratch file, in KiB (as the ledger's in bulk mode): with
#: SQLite's default 2 MiB, inserting a million random ids into its unique index took 28
#: CPU-seconds instead of 6.
SCRATCH_CACHE_KIB = 262_144
_INTEGER_COLUMNS = frozenset({"ts_us", "acquired_at_us", "opened_at_us", "source_row"})


class RepeatedId(Exception):
    """Blocks promised to have unique ids repeat one: stage them otherwise (or not at all)."""


class ArrowBlock(Protocol):
    """A block of stored rows as an Arrow stream (a polars ``DataFrame`` is one).

    Its columns are :data:`~marginbook.ledger.rows.STORED_COLUMNS`, integers as ``int64``
    and everything else as UTF-8 text, exactly the values of the equivalent stored rows.
    """

    @property
    def height(self) -> int:
        """Number of rows."""
        ...

    def rows(self) -> list[StoredRow]:
        """The rows as stored-row tuples (for the paths that bind Python values)."""
        ...

    def head(self, n: int) -> ArrowBlock:
        """The first ``n`` rows."""
        ...

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow C stream PyCapsule of the block."""
        ...


def available(connection: Connection) -> bool:
    """Whether this connection's imports can be staged through ADBC (SQLite, driver installed)."""
    return connection.dialect.name == "sqlite" and importlib.util.find_spec("adbc_driver_sqlite") is not None


def scratch_directory(connection: Connection) -> Path | None:
    """Where to put the scratch file: beside the ledger file (so that a large import's
    scratch goes to the disk that holds the ledger, not to a RAM-backed /tmp), else the
    temporary directory."""
    database = sqlite_file(connection.engine.url)
    if database is not None:
        parent = database.expanduser().resolve().parent
        if parent.is_dir() and os.access(parent, os.W_OK):
            return parent
    return None


def ledger_shaped_table_sql(connection: Connection) -> str | None:
    """The ledger's own ``CREATE TABLE events``, for a scratch table ``stage`` of its exact
    shape (``seq`` named ``pos``), or ``None`` when it cannot be had.

    Copying such a table whole into an empty ``events`` (``INSERT INTO events SELECT *``)
    lets SQLite transfer records and index entries as they are, in index order, instead of
    inserting a million random ids into the unique index one by one: that work then happens
    in the ADBC thread, while the reader runs, rather than in the copy. It needs the same
    columns, types, NOT NULL flags and the same UNIQUE constraint, so the ledger's DDL is
    taken as it is; the unique constraint also means the blocks must not repeat an id.
    """
    found = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'"
    ).scalar()
    if not isinstance(found, str):
        return None
    sql, renamed = re.subn(r'^CREATE TABLE\s+("?)events\1\s*\(', "CREATE TABLE stage (", found)
    if renamed != 1 or re.search(r"\bpos\b", sql):
        return None
    return re.sub(r"\bseq\b", "pos", sql)


#: Every scratch file's name starts with this; then the host and the process that made it.
SCRATCH_PREFIX = ".marginbook-import-"


def host_prefix(host: str | None = None) -> str:
    """``.marginbook-import-HOST-``: the name prefix of this host's scratch files (no ``-``
    inside HOST, so the process id that follows can be read back)."""
    host = socket.gethostname() if host is None else host
    return f"{SCRATCH_PREFIX}{re.sub(r'[^A-Za-z0-9.]', '_', host) or 'host'}-"


def scratch_prefix() -> str:
    """The name prefix of this process's scratch files: ``.marginbook-import-HOST-PID-``.

    The host and process id in the name let a later import tell a file whose import is
    still running from one that a killed process left behind (:func:`remove_stale_scratch_files`).
    """
    return f"{host_prefix()}{os.getpid()}-"


def _process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # platforms without signal 0: keep the file
        return True
    return True


def remove_stale_scratch_files(directory: Path | None) -> list[Path]:
    """Delete the scratch files that an import killed mid-way left in ``directory``.

    A scratch file is released by its own import when its transaction ends; one whose
    process no longer exists on this host is left over (a kill, a power cut) and holds no
    ledger data (the ledger's transaction never committed from it). Files of another host
    (a shared disk) or of a running process, and names this module did not make, are kept.
    Returns the files deleted.
    """
    folder = Path(tempfile.gettempdir()) if directory is None else directory
    prefix = host_prefix()
    removed = []
    for path in folder.glob(f"{prefix}*.sqlite"):
        pid_text = path.name[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _process_exists(int(pid_text)):
            continue
        try:
            path.unlink()
        except OSError:  # another import removed it first, or it is not ours to delete
            continue
        removed.append(path)
    return removed


class ScratchStage:
    """One scratch database file with the table ``stage``, filled by ADBC, attached as ``alias``.

    ``table_sql`` creates a ledger-shaped ``stage`` (:func:`ledger_shaped_table_sql`);
    without it the table has the stored columns and no constraint.
    """

    def __init__(self, alias: str, directory: Path | None, table_sql: str | None = None) -> None:
        self.alias = alias
        self.table_sql = table_sql
        remove_stale_scratch_files(directory)
        handle, name = tempfile.mkstemp(prefix=scratch_prefix(), suffix=".sqlite", dir=directory)
        os.close(handle)
        self.path = Path(name)
        self.table = f"{alias}.stage"
        self._attached_to: Connection | None = None

    def fill(self, blocks: Iterable[ArrowBlock]) -> int:
        """Write ``blocks`` into the scratch table in order (``pos`` numbers them from 1).

        The ADBC work runs in a thread that takes the blocks from a short queue, so reading
        the next block (the caller's iterator) overlaps writing this one. An exception from
        the iterator stops the thread and is raised here; so is one from the thread.
        """
        work: queue.Queue[ArrowBlock | None] = queue.Queue(maxsize=QUEUE_BLOCKS)
        failure: list[BaseException] = []
        thread = threading.Thread(target=self._ingest, args=(work, failure), name="marginbook-stage")
        thread.start()
        count = 0
        try:
            for block in blocks:
                if failure:
                    break
                work.put(block)
                count += block.height
        finally:
            work.put(None)
            thread.join()
        if failure:
            raise failure[0]
        return count

    def _ingest(self, work: queue.Queue[ArrowBlock | None], failure: list[BaseException]) -> None:
        """The thread: open the scratch file with ADBC, create the table, append every block."""
        import adbc_driver_manager
        import adbc_driver_sqlite

        finished = False  # the caller's end-of-blocks marker was taken
        try:
            with adbc_driver_sqlite.connect(str(self.path)) as database, \
                    adbc_driver_manager.AdbcConnection(database) as connection:

                def run(sql: str) -> None:
                    with adbc_driver_manager.AdbcStatement(connection) as statement:
                        statement.set_sql_query(sql)
                        statement.execute_update()

                # A scratch file: no journal, no syncing; it is deleted after the import. Large
                # pages: appending a million rows took about 10 % less CPU than with 4 KiB.
                run("PRAGMA page_size=65536")
                if self.table_sql:  # its unique index takes random inserts: keep it in memory
                    run(f"PRAGMA cache_size=-{SCRATCH_CACHE_KIB}")
                run("PRAGMA journal_mode=OFF")
                run("PRAGMA synchronous=OFF")
                typed = ", ".join(
                    f"{name} {'INTEGER' if name in _INTEGER_COLUMNS else 'TEXT'}" for name in STORED_COLUMNS
                )
                run(self.table_sql or f"CREATE TABLE stage (pos INTEGER PRIMARY KEY, {typed})")
                connection.set_autocommit(False)
                while (block := work.get()) is not None:
                    with adbc_driver_manager.AdbcStatement(connection) as statement:
                        statement.set_options(**{
                            "adbc.ingest.target_table": "stage",
                            "adbc.ingest.mode": "adbc.ingest.mode.append",
                        })
                        statement.bind_stream(block.__arrow_c_stream__())
                        statement.execute_update()
                finished = True
                connection.commit()
        except BaseException as error:  # handed to the caller's thread
            if isinstance(error, adbc_driver_manager.Error) and "UNIQUE constraint failed" in str(error):
                failure.append(RepeatedId(str(error)))
            else:
                failure.append(error)
            while not finished and work.get() is not None:
                pass  # let the caller finish putting blocks, then stop

    def attach(self, connection: Connection) -> None:
        """ATTACH the filled file to the import's connection (allowed inside its transaction)."""
        connection.exec_driver_sql(f"ATTACH DATABASE ? AS {self.alias}", (str(self.path),))
        self._attached_to = connection

    def release(self) -> None:
        """DETACH and delete the file; call after the transaction ended (commit or rollback)."""
        try:
            if self._attached_to is not None:
                driver = self._attached_to.connection.driver_connection
                if driver is not None:
                    driver.execute(f"DETACH DATABASE {self.alias}")
        except Exception:  # a closed or broken connection has dropped it anyway
            pass
        finally:
            self._attached_to = None
            self.path.unlink(missing_ok=True)
