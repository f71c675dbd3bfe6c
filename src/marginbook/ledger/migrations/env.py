"""Alembic environment of the ledger.

marginbook runs the migrations itself when a ledger is opened
(:func:`marginbook.ledger.migrate.upgrade_to_head`), passing its open connection in
``config.attributes["connection"]``. A developer writing a new migration can also run the
``alembic`` command with ``-x url=sqlite:///some.db``
(see ``docs/ledger.md``); then this file connects by itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from marginbook.ledger.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Migrate on the connection marginbook passed in, or on ``-x url=...``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with: alembic ... -x url=sqlite:///FILE")
    engine = create_engine(url)
    with engine.connect() as own_connection:
        _run(own_connection)
    engine.dispose()


run_migrations()
