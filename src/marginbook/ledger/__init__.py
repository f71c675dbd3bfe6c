"""The ledger: every event of a trader's money, stored and queried in one place.

SQLite by default (a file in the user's data directory), PostgreSQL by URL; the schema is
migrated with Alembic when a ledger is opened. Amounts are stored as exact decimal text.
Only :mod:`marginbook.domain` is imported from marginbook. See ``docs/ledger.md``.

Example::

    from marginbook.ledger import open_store

    with open_store("sqlite:///my.db") as store:
        result = store.add_events(events)
        for event in store.events(wallet="kraken"):
            ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marginbook.ledger.store import AddResult, EventWriter, LedgerStore

__all__ = ["AddResult", "EventWriter", "LedgerStore", "open_store"]


def __getattr__(name: str) -> Any:
    """The store's classes, imported (with SQLAlchemy) when first asked for: the package's
    SQLAlchemy-free modules (:mod:`marginbook.ledger.location`, ``revision``, ``sqlite_read``)
    can then be imported alone."""
    if name in ("AddResult", "EventWriter", "LedgerStore"):
        from marginbook.ledger import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(url: str | None = None) -> LedgerStore:
    """Open (creating and migrating as needed) the ledger at ``url``.

    Args:
        url: a SQLAlchemy URL (``sqlite:///FILE``, ``postgresql+psycopg://user@host/db``),
            or ``None`` for ``marginbook.db`` in the user's data directory. Missing
            directories of a SQLite file are created.

    Raises:
        InputError: for a URL marginbook cannot use (exit code 2 at the command line).
        MarginbookError: when the database cannot be reached or migrated.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from marginbook.domain.errors import MarginbookError
    from marginbook.ledger.engine import describe, make_engine, resolve_url
    from marginbook.ledger.migrate import upgrade_to_head
    from marginbook.ledger.store import LedgerStore

    resolved = resolve_url(url)
    engine = make_engine(resolved)
    try:
        upgrade_to_head(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        reason = str(getattr(error, "orig", None) or error)
        raise MarginbookError(f"cannot open the ledger at {describe(resolved)}: {reason.strip()}") from error
    return LedgerStore(engine, resolved)
