"""Read a SQLite ledger file with the standard library's ``sqlite3``, never writing to it.

For read-only commands on an up-to-date ledger (``marginbook tax``): no SQLAlchemy, no
Alembic, no pragma that changes the file. Anything else (PostgreSQL, a missing file, another
schema revision, an odd URL) goes through :func:`marginbook.ledger.open_store`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

from marginbook.ledger.location import BUSY_TIMEOUT_MS, plain_sqlite_file
from marginbook.ledger.revision import HEAD_REVISION, VERSION_SQL, VERSION_TABLE, stamped


def read_only_uri(path: Path) -> str:
    """The SQLite URI that opens ``path`` read-only (never created, never written)."""
    return f"file:{quote(str(path.absolute()))}?mode=ro"


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that only reads ``path``: opened read-only, ``query_only`` on, waiting for
    a lock as the store's connections do (a WAL ledger being written by another process).

    Each statement sees its own snapshot (no transaction is held open between statements).
    """
    connection = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA query_only=ON")
    except BaseException:
        connection.close()
        raise
    return connection


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """:func:`connect_read_only`, closed at the end of the block."""
    with closing(connect_read_only(path)) as connection:
        yield connection


def revision(connection: sqlite3.Connection) -> str | None:
    """The revision stamped in the file (``None``: no Alembic table, or not one row)."""
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
    ).fetchone()
    if found is None:
        return None
    return stamped([row[0] for row in connection.execute(VERSION_SQL)])


def up_to_date_file(url: str | None) -> Path | None:
    """The ledger file of ``url`` when it can be read directly: a plain ``sqlite:///FILE`` URL
    (or ``None``, the default file) of an existing file at :data:`HEAD_REVISION`. ``None``
    for every other case, which :func:`marginbook.ledger.open_store` handles as before."""
    path = plain_sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        with reading(path) as connection:
            current = revision(connection)
    except sqlite3.Error:
        return None  # not a database, unreadable...: open_store says what is wrong
    return path if current == HEAD_REVISION else None
