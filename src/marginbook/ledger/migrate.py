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

if TYPE_CHECKING:
    from alembic.config import Config

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


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration the database lacks, in one transaction."""
    from alembic import command

    with engine.begin() as connection:
        if current_revision(connection) == head_revision():
            return
        command.upgrade(_config(connection), "head")
