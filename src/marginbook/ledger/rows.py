"""Conversion between :class:`LedgerEvent` values and rows of the ``events`` table.

Decimals travel as exact decimal text (no exponent, no trailing zeros) and times as integer
microseconds since the epoch (UTC), so nothing is rounded on the way in or out. A stored row
is a plain tuple in :data:`STORED_COLUMNS` order: bulk imports build a million of them, and a
tuple is what the database driver's ``executemany`` takes without further work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from marginbook.domain.events import EventKind, LedgerEvent, LotPick, Origin

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)

#: The columns of a stored row, in tuple order (``seq`` is assigned by the database).
STORED_COLUMNS: tuple[str, ...] = (
    "id", "ts_us", "kind", "wallet", "asset", "amount", "counter_asset", "counter_amount",
    "fee_asset", "fee_amount", "usd_value", "to_wallet", "cost_basis_usd", "acquired_at_us", "lots",
    "position", "opened_at_us", "note", "source", "source_row", "source_ref", "fingerprint",
)
ID_INDEX = STORED_COLUMNS.index("id")
FINGERPRINT_INDEX = STORED_COLUMNS.index("fingerprint")

StoredRow = tuple[Any, ...]


def to_micros(value: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly (no float on the way)."""
    return (value - EPOCH) // _ONE_MICROSECOND


def from_micros(value: int) -> datetime:
    """The UTC time ``value`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=value)


def fingerprint_digest(fingerprint: str) -> str:
    """The stored form of :meth:`LedgerEvent.fingerprint`: its SHA-256 in 64 hex digits."""
    return hashlib.sha256(fingerprint.encode()).hexdigest()


def decimal_text(value: Decimal) -> str:
    """Exact text of a finite decimal: no exponent, no trailing zeros, ``0`` for zero.

    Unlike :func:`marginbook.domain.numbers.plain` this never rounds, whatever the number
    of digits: what is stored is what is read back.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _decimal_or_none_text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _micros_or_none(value: datetime | None) -> int | None:
    return None if value is None else (value - EPOCH) // _ONE_MICROSECOND


def lots_text(lots: tuple[LotPick, ...]) -> str | None:
    """Specific-identification picks as JSON ``[[id, quantity], ...]`` (``None`` when none).

    JSON rather than the CSV's ``ID:QTY;ID:QTY`` so that any character in an id survives.
    """
    if not lots:
        return None
    return json.dumps([[pick.acquisition_id, decimal_text(pick.quantity)] for pick in lots])


def event_to_row(event: LedgerEvent) -> StoredRow:
    """The stored row of ``event`` (a tuple in :data:`STORED_COLUMNS` order)."""
    origin = event.origin
    return (
        event.id,
        (event.timestamp - EPOCH) // _ONE_MICROSECOND,
        event.kind.value,
        event.wallet,
        event.asset,
        decimal_text(event.amount),
        event.counter_asset,
        _decimal_or_none_text(event.counter_amount),
        event.fee_asset,
        _decimal_or_none_text(event.fee_amount),
        _decimal_or_none_text(event.usd_value),
        event.to_wallet,
        _decimal_or_none_text(event.cost_basis_usd),
        _micros_or_none(event.acquired_at),
        lots_text(event.lots),
        event.position,
        _micros_or_none(event.opened_at),
        event.note,
        origin.source,
        origin.row,
        origin.ref,
        fingerprint_digest(event.fingerprint()),
    )


def _decimal_or_none(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _datetime_or_none(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def _lots_from_text(text: str | None) -> tuple[LotPick, ...]:
    if not text:
        return ()
    return tuple(LotPick(acquisition_id, Decimal(quantity)) for acquisition_id, quantity in json.loads(text))


def row_to_event(row: Mapping[Any, Any]) -> LedgerEvent:
    """The :class:`LedgerEvent` stored in ``row`` (a mapping of the ``events`` columns)."""
    return LedgerEvent(
        id=row["id"],
        timestamp=from_micros(row["ts_us"]),
        kind=EventKind(row["kind"]),
        wallet=row["wallet"],
        asset=row["asset"],
        amount=Decimal(row["amount"]),
        counter_asset=row["counter_asset"],
        counter_amount=_decimal_or_none(row["counter_amount"]),
        fee_asset=row["fee_asset"],
        fee_amount=_decimal_or_none(row["fee_amount"]),
        usd_value=_decimal_or_none(row["usd_value"]),
        to_wallet=row["to_wallet"],
        cost_basis_usd=_decimal_or_none(row["cost_basis_usd"]),
        acquired_at=_datetime_or_none(row["acquired_at_us"]),
        lots=_lots_from_text(row["lots"]),
        position=row["position"],
        opened_at=_datetime_or_none(row["opened_at_us"]),
        note=row["note"],
        origin=Origin(source=row["source"], row=row["source_row"], ref=row["source_ref"]),
    )


def stored_row_to_event(row: StoredRow) -> LedgerEvent:
    """The event of a stored-row tuple (for messages about rows not yet written)."""
    return row_to_event(dict(zip(STORED_COLUMNS, row, strict=True)))
