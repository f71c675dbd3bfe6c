"""Read the ledger's events for the tax engine, fast: validated once on import, not again.

``LedgerStore.events()`` builds a full :class:`~marginbook.domain.events.LedgerEvent` per
row, re-running every field check (about 30 µs a row here, most of the time of a million-
event tax run). The tax engine only reads the fields (:class:`marginbook.tax.events.TaxEvent`),
so this reader selects the same rows in the same order (``ts_us``, ``seq``) and builds a
light immutable :class:`StoredEvent` per row. If the ledger's schema is not the one this
reader knows, :func:`tax_events_from_store` falls back to ``store.events()``; a test checks
that both readers give the same events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from marginbook.domain.events import EventKind, LotPick, Origin
from marginbook.tax.events import TaxEvent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS = {kind.value: kind for kind in EventKind}
_FETCH = 5000

#: The ``events`` columns read, in StoredEvent order (origin columns last).
COLUMNS = (
    "id",
    "ts_us",
    "kind",
    "wallet",
    "asset",
    "amount",
    "counter_asset",
    "counter_amount",
    "fee_asset",
    "fee_amount",
    "usd_value",
    "to_wallet",
    "cost_basis_usd",
    "acquired_at_us",
    "lots",
    "position",
    "opened_at_us",
    "note",
    "source",
    "source_row",
    "source_ref",
)


class StoredEvent(NamedTuple):
    """A ledger event read back from the database (fields as in ``LedgerEvent``)."""

    id: str
    timestamp: datetime
    kind: EventKind
    wallet: str
    asset: str
    amount: Decimal
    counter_asset: str | None
    counter_amount: Decimal | None
    fee_asset: str | None
    fee_amount: Decimal | None
    usd_value: Decimal | None
    to_wallet: str | None
    cost_basis_usd: Decimal | None
    acquired_at: datetime | None
    lots: tuple[LotPick, ...]
    position: str | None
    opened_at: datetime | None
    note: str | None
    origin: Origin


def _time(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _lots(text: str | None) -> tuple[LotPick, ...]:
    if not text:
        return ()
    return tuple(LotPick(acquisition_id, Decimal(quantity)) for acquisition_id, quantity in json.loads(text))


def _event(row: Any) -> StoredEvent:
    (
        id_,
        ts_us,
        kind,
        wallet,
        asset,
        amount,
        counter_asset,
        counter_amount,
        fee_asset,
        fee_amount,
        usd_value,
        to_wallet,
        cost_basis_usd,
        acquired_at_us,
        lots,
        position,
        opened_at_us,
        note,
        source,
        source_row,
        source_ref,
    ) = row
    return StoredEvent(
        id_,
        _EPOCH + timedelta(microseconds=ts_us),
        _KINDS[kind],
        wallet,
        asset,
        Decimal(amount),
        counter_asset,
        None if counter_amount is None else Decimal(counter_amount),
        fee_asset,
        None if fee_amount is None else Decimal(fee_amount),
        None if usd_value is None else Decimal(usd_value),
        to_wallet,
        _number(cost_basis_usd),
        _time(acquired_at_us),
        _lots(lots),
        position,
        _time(opened_at_us),
        note,
        Origin(source, source_row, source_ref),
    )


def stored_events(store: Any, end: datetime | None = None) -> Iterator[StoredEvent]:
    """Every event before ``end`` in ledger order, read straight from the ``events`` table.

    Args:
        store: an open ``marginbook.ledger.LedgerStore``.
        end: exclusive upper bound (timezone-aware), or ``None`` for all.
    """
    from sqlalchemy import select

    from marginbook.ledger.schema import events as table

    statement = select(*(table.c[name] for name in COLUMNS)).order_by(table.c.ts_us, table.c.seq)
    if end is not None:
        micros = (end.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
        statement = statement.where(table.c.ts_us < micros)
    with store.engine.connect() as connection:
        result = connection.execution_options(yield_per=_FETCH).execute(statement)
        for partition in result.partitions():
            yield from map(_event, partition)


def tax_events_from_store(store: Any, end: datetime | None = None) -> Iterator[TaxEvent]:
    """The fast reader when the ledger's schema has the columns it knows, else ``store.events()``."""
    try:
        from marginbook.ledger.schema import events as table
    except ImportError:
        return iter(store.events(end=end))
    if not all(name in table.c for name in (*COLUMNS, "seq")):
        return iter(store.events(end=end))
    return stored_events(store, end)
