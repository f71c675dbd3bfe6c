"""Conversion between :class:`LedgerEvent` values and rows of the ``events`` table.

Decimals travel as their exact ``plain()`` text and times as integer microseconds since the
epoch (UTC), so nothing is rounded on the way in or out. These functions run once per event
on bulk imports, so they avoid per-call overhead (no reflection, no generic dispatch).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from marginbook.domain.events import EventKind, LedgerEvent, LotPick, Origin
from marginbook.domain.numbers import plain

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly (no float on the way)."""
    return (value - EPOCH) // _ONE_MICROSECOND


def from_micros(value: int) -> datetime:
    """The UTC time ``value`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=value)


def fingerprint_digest(event: LedgerEvent) -> str:
    """A 64-hex-digit SHA-256 of the event's canonical content (not its id or origin)."""
    return hashlib.sha256(event.fingerprint().encode()).hexdigest()


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def _micros_or_none(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _lots_text(lots: tuple[LotPick, ...]) -> str | None:
    # JSON rather than the CSV's ``ID:QTY;ID:QTY`` so that any character in an id survives.
    if not lots:
        return None
    return json.dumps([[pick.acquisition_id, plain(pick.quantity)] for pick in lots])


def event_to_row(event: LedgerEvent) -> dict[str, Any]:
    """The ``events`` row of ``event`` (without ``seq``, which the database assigns)."""
    origin = event.origin
    return {
        "id": event.id,
        "ts_us": to_micros(event.timestamp),
        "kind": event.kind.value,
        "wallet": event.wallet,
        "asset": event.asset,
        "amount": plain(event.amount),
        "counter_asset": event.counter_asset,
        "counter_amount": _decimal_text(event.counter_amount),
        "fee_asset": event.fee_asset,
        "fee_amount": _decimal_text(event.fee_amount),
        "usd_value": _decimal_text(event.usd_value),
        "to_wallet": event.to_wallet,
        "cost_basis_usd": _decimal_text(event.cost_basis_usd),
        "acquired_at_us": _micros_or_none(event.acquired_at),
        "lots": _lots_text(event.lots),
        "position": event.position,
        "opened_at_us": _micros_or_none(event.opened_at),
        "note": event.note,
        "source": origin.source,
        "source_row": origin.row,
        "source_ref": origin.ref,
        "fingerprint": fingerprint_digest(event),
    }


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
