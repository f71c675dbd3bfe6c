"""Bring a ledger database to the newest schema, programmatically, with Alembic.

The migration scripts ship inside the package (``marginbook/ledger/migrations``), so an
installed marginbook upgrades a user's ledger the first time a newer version opens it, in
one transaction: a failed migration leaves the old schema untouched (both SQLite, with the
explicit ``BEGIN`` set up in :mod:`marginbook.ledger.engine`, and PostgreSQL have
transactional DDL).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from marginbook.ledger.revision import HEAD_REVISION, VERSION_SQL, VERSION_TABLE, stamped

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HEAD_REVISION", "MIGRATIONS_DIR", "current_revision", "head_revision", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision among the shipped migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _stamped_revision(connection: Connection) -> str | None:
    """The revision in Alembic's own table, read with plain SQL (``None``: no such table or row)."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return stamped(connection.execute(text(VERSION_SQL)).scalars().all())


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration the database lacks, in one transaction.

    A ledger already at :data:`HEAD_REVISION` is left as it is without loading Alembic.
    """
    with engine.begin() as connection:
        if _stamped_revision(connection) == HEAD_REVISION:
            return
        from alembic import command

        command.upgrade(_config(connection), "head")
