"""Where the ledger lives: database URLs, the default SQLite file, and engine set-up.

The default file and the URL-to-file rule are in :mod:`marginbook.ledger.location` (no
SQLAlchemy there, for commands that read a SQLite file directly).

SQLite is the default: one file, ``marginbook.db``, in the user's data directory (found with
platformdirs, e.g. ``~/.local/share/marginbook`` on Linux). PostgreSQL is chosen by URL,
``postgresql+psycopg://user@host:5432/dbname``; ``postgresql://`` and ``postgres://`` are
read as the psycopg (3) driver, the one marginbook ships with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from marginbook.domain.errors import InputError, InputProblem
from marginbook.ledger.location import BUSY_TIMEOUT_MS, database_file, default_db_path, sqlite_url


def resolve_url(url: str | None) -> URL:
    """Parse a ledger URL (``None`` = the default SQLite file) and pick the driver.

    Raises:
        InputError: when ``url`` is not a database URL marginbook can use.
    """
    text = sqlite_url(default_db_path()) if url is None else url
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise _bad_url(text, "not a database URL (try sqlite:///FILE or postgresql+psycopg://...)") from None
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise _bad_url(text, f"unsupported database {backend!r}; use SQLite or PostgreSQL")
    return parsed


def _bad_url(text: str, problem: str) -> InputError:
    return InputError(InputProblem("--db", None, "", f"{problem}: {_hide_password(text)}"))


def _hide_password(text: str) -> str:
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        return text


def describe(url: URL) -> str:
    """The URL as shown to a person (password hidden)."""
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL (``~`` expanded), or ``None`` for an in-memory database, a
    ``file:`` URI or another backend (:func:`marginbook.ledger.location.database_file`)."""
    if url.get_backend_name() != "sqlite":
        return None
    return database_file(url.database)


def make_engine(url: URL) -> Engine:
    """An engine for ``url``; for SQLite, with real transactions and tuned pragmas.

    SQLite's Python driver starts transactions lazily and never around DDL or SAVEPOINTs;
    the ledger needs all three (an import is one transaction; migrations are atomic;
    conflict checks roll back to a savepoint), so SQLAlchemy emits ``BEGIN`` itself. WAL
    journaling with ``synchronous=NORMAL`` is safe against corruption and several times
    faster for bulk imports than the default rollback journal with full sync.

    Raises:
        InputError: when the URL's driver is not installed.
    """
    file = sqlite_file(url)
    if file is not None:
        file.expanduser().parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(file.expanduser()))
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise _bad_url(describe(url), "no driver installed for this URL") from None
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine, in_memory=file is None)
    return engine


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MiB of page cache: the unique index on random-looking ids then stays in
            # memory during a large import instead of being re-read page by page.
            cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")
