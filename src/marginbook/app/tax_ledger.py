"""The ledger's events for a read-only tax computation, opened the cheapest way that is safe.

An up-to-date SQLite ledger file (a plain ``sqlite:///FILE`` URL, or the default file, at the
schema revision this marginbook writes) is read directly with ``sqlite3``, read-only: no
SQLAlchemy, no Alembic, no engine set-up (about 0.2 s of a ``marginbook tax`` run). Every
other ledger (PostgreSQL, a missing file, another revision, an odd URL) is opened with
:func:`marginbook.ledger.open_store`, which creates, migrates or refuses it as for any command.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import import_module

from marginbook.domain.errors import MarginbookError
from marginbook.tax.events import TaxEvent


@contextmanager
def ledger_tax_events(db_url: str | None, end: datetime, unavailable: str) -> Iterator[Iterable[TaxEvent]]:
    """The events before ``end`` in ledger order, readable (again) until the block ends.

    Args:
        db_url: the ledger URL (``None``: the default SQLite file).
        end: exclusive upper bound.
        unavailable: the error's text when this build has no ledger database.

    Raises:
        MarginbookError: ``unavailable``; or the ledger cannot be opened (as ``open_store``).
    """
    try:
        from marginbook.ledger.sqlite_read import up_to_date_file
    except ImportError:
        raise MarginbookError(unavailable) from None
    path = up_to_date_file(db_url)
    if path is not None:
        from marginbook.app.stored_events import tax_events_from_file

        yield tax_events_from_file(path, end)
        return
    try:
        from marginbook.ledger import open_store

        import_module("marginbook.ledger.store")  # SQLAlchemy: absent from some builds
    except ImportError:
        raise MarginbookError(unavailable) from None
    from marginbook.app.stored_events import tax_events_from_store

    with open_store(db_url) as store:
        yield tax_events_from_store(store, end)
