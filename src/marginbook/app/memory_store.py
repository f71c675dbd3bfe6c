"""An in-memory event store with the ledger store's interface, for tests and the static report.

It keeps the ledger's rules that the dashboard relies on: events come back in
``(timestamp, import order)`` order; adding is all-or-nothing; an event whose id is known with
the same content is "unchanged", with other content a conflict (``InputError``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import LedgerEvent


@dataclass(frozen=True, slots=True)
class MemoryAddResult:
    """How many events were added, and how many were already there."""

    added: int
    unchanged: int


class MemoryStore:
    """A ledger held in a list, sorted by ``(timestamp, sequence)``."""

    def __init__(self, events: Iterable[LedgerEvent] = ()) -> None:
        self._keys: list[tuple[datetime, int]] = []
        self._events: list[LedgerEvent] = []
        self._by_id: dict[str, LedgerEvent] = {}
        self._sequence = 0
        events = list(events)
        if events:
            self.add_events(events)

    def add_events(self, events: list[LedgerEvent]) -> MemoryAddResult:
        """Add every event or none (a conflicting id raises ``InputError``)."""
        fresh: list[LedgerEvent] = []
        seen: dict[str, LedgerEvent] = {}
        problems = []
        unchanged = 0
        for event in events:
            known = self._by_id.get(event.id) or seen.get(event.id)
            if known is None:
                seen[event.id] = event
                fresh.append(event)
            elif known.fingerprint() == event.fingerprint():
                unchanged += 1
            else:
                problems.append(
                    InputProblem(
                        event.origin.source or "input",
                        event.origin.row,
                        "id",
                        f"event {event.id} is already in the ledger with other content",
                    )
                )
        if problems:
            raise InputError(problems)
        for event in fresh:
            key = (event.timestamp, self._sequence)
            self._sequence += 1
            index = bisect.bisect_right(self._keys, key)
            self._keys.insert(index, key)
            self._events.insert(index, event)
            self._by_id[event.id] = event
        return MemoryAddResult(added=len(fresh), unchanged=unchanged)

    def events(
        self,
        *,
        wallet: str | None = None,
        asset: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[LedgerEvent]:
        """Events in ledger order; ``start`` inclusive, ``end`` exclusive."""
        for event in self._events:
            if wallet is not None and event.wallet != wallet and event.to_wallet != wallet:
                continue
            if asset is not None and event.asset != asset and event.counter_asset != asset:
                continue
            if start is not None and event.timestamp < start:
                continue
            if end is not None and event.timestamp >= end:
                break
            yield event

    def count(self) -> int:
        """How many events are held."""
        return len(self._events)
