"""A compact way to write ledger events in tests: only the fields that matter are given."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marginbook.domain.events import EventKind, LedgerEvent, Origin


def event(
    event_id: str,
    when: str = "2025-01-02T03:04:05Z",
    kind: str = "buy",
    *,
    source: str = "test.csv",
    row: int | None = None,
    **fields: Any,
) -> LedgerEvent:
    """A valid event; trades default to 1 BTC for 30000 USD in wallet ``kraken``."""
    values: dict[str, Any] = {"wallet": "kraken", "asset": "BTC", "amount": Decimal("1")}
    if EventKind(kind) in {EventKind.BUY, EventKind.SELL, EventKind.LIQUIDATION}:
        values |= {"counter_asset": "USD", "counter_amount": Decimal("30000")}
    values |= fields
    timestamp = datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC)
    return LedgerEvent(
        id=event_id, timestamp=timestamp, kind=EventKind(kind), origin=Origin(source, row), **values
    )
