"""Where a SQLite ledger file is, from its URL, without SQLAlchemy.

The default ledger file, the URL of a file, and which SQLite "database" strings are files.
:mod:`marginbook.ledger.engine` builds on these for SQLAlchemy URLs; a read-only command
(``marginbook tax``) uses :func:`plain_sqlite_file` to find the file before deciding whether
it needs SQLAlchemy at all.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

DB_FILE_NAME = "marginbook.db"
#: How long a connection to a SQLite ledger waits for a lock, in milliseconds.
BUSY_TIMEOUT_MS = 10_000
_PLAIN_PREFIX = "sqlite:///"


def default_db_path() -> Path:
    """The default ledger file: ``marginbook.db`` in the user's data directory."""
    from platformdirs import user_data_path

    return user_data_path("marginbook", appauthor=False) / DB_FILE_NAME


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file at ``path``."""
    return f"sqlite:///{path}"


def database_file(database: str | None) -> Path | None:
    """The file named by a SQLite URL's database part (``~`` expanded), or ``None`` for an
    in-memory database (none, empty, ``:memory:``) or a ``file:`` URI."""
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def plain_sqlite_file(url: str | None) -> Path | None:
    """The file of a plain ``sqlite:///FILE`` URL (``None``: the default file), else ``None``.

    Only that form, the one :func:`sqlite_url` writes: another driver name, a query string or
    anything else is left to SQLAlchemy (``None`` here). The database part is read as
    SQLAlchemy's ``make_url`` reads it (everything after the third slash, percent-decoded;
    a test compares the two).
    """
    if url is None:
        return default_db_path()
    if not url.startswith(_PLAIN_PREFIX) or "?" in url:
        return None
    return database_file(unquote(url.removeprefix(_PLAIN_PREFIX)))
