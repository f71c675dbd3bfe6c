"""The schema revision this marginbook writes and reads, without Alembic or SQLAlchemy.

A ledger is up to date when Alembic's table holds one row, :data:`HEAD_REVISION`.
:mod:`marginbook.ledger.migrate` migrates a ledger that is not; a read-only command reads
an up-to-date SQLite file directly (:mod:`marginbook.ledger.sqlite_read`).
"""

from __future__ import annotations

from collections.abc import Sequence

#: The newest shipped migration's revision, written down so that opening an up-to-date ledger
#: does not import Alembic (about 0.2 s of every command's start); a test checks that it is
#: Alembic's head. A new migration must update it.
HEAD_REVISION = "0001"
#: Alembic's own table of the revision a database is at.
VERSION_TABLE = "alembic_version"
#: The statement that reads it (any backend).
VERSION_SQL = f"SELECT version_num FROM {VERSION_TABLE}"


def stamped(versions: Sequence[str]) -> str | None:
    """The revision of the rows of :data:`VERSION_SQL` (``None`` unless there is exactly one)."""
    return versions[0] if len(versions) == 1 else None
