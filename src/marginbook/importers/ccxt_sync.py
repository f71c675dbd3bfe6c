"""Exchange API sync through ccxt: unified trades, ledger, borrow interest, funding → ledger events.

ccxt turns each exchange's responses into unified structures; this module maps those to
:class:`~marginbook.domain.events.LedgerEvent` and pages through the history. The exchange is
told to hand numbers over as strings (``exchange.number = str``), so every quantity is an exact
``Decimal`` of the exchange's own text, never a binary float.

Mapping (``docs/importers.md``):

- **trades** (``fetchMyTrades``): a spot fill → ``buy``/``sell`` of the base for ``cost`` of the
  quote, its first fee on the event and any further fee as a ``fee`` event. Fills of contracts
  (``BTC/USDT:USDT``) move no coins; their results come from the ledger and funding.
- **ledger** (``fetchLedger``): deposits/withdrawals (``transaction``), Kraken ``margin``
  (profit or loss; a zero amount with a fee is the opening fee = ``interest``) and ``rollover``
  (``interest``), ``fee``, rewards (``income``); ``trade`` entries are skipped (the trades carry
  them), ``transfer`` between the user's own accounts too. Binance's ledger is its USDⓈ-M income
  history and is read by its ``incomeType`` (realized P&L, funding, commission).
- **borrow interest** (``fetchBorrowInterest``) → ``interest``.
- **funding** (``fetchFundingHistory``) → ``funding``, signed (negative = paid).

Ids: ``EXCHANGE:ID`` for ledger and funding records (Binance's income ``tranId`` is the same in
both, so a funding fee met twice is one event), ``EXCHANGE:trade:ID`` for trades, and for Kraken
``kraken:ID`` as its CSV importer writes them, so an API sync after a CSV import adds nothing new.
Interest records carry no id and get a content hash.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from marginbook.domain.errors import InputProblem
from marginbook.domain.events import EventFieldError, LedgerEvent, default_event_id
from marginbook.domain.numbers import decimal_context
from marginbook.importers._ccxt_records import (
    MAPPERS,
    Mapped,
    SyncProblem,
    map_borrow_interest,
    map_funding,
    map_ledger_entry,
    map_trade,
)

__all__ = [
    "CAPABILITY",
    "KINDS",
    "MAPPERS",
    "Mapped",
    "SyncProblem",
    "SyncResult",
    "fetch_history",
    "map_borrow_interest",
    "map_funding",
    "map_ledger_entry",
    "map_records",
    "map_trade",
    "sync",
]

KINDS = ("trades", "ledger", "borrow_interest", "funding")
#: The ccxt capability each kind needs (``exchange.has[...]``).
CAPABILITY = {
    "trades": "fetchMyTrades",
    "ledger": "fetchLedger",
    "borrow_interest": "fetchBorrowInterest",
    "funding": "fetchFundingHistory",
}
#: Exchanges whose history endpoints answer newest first, paged by an offset parameter.
OFFSET_PAGED = {"kraken": "ofs"}
#: Page sizes the exchanges fix (Kraken returns 50 records a call whatever is asked).
PAGE_SIZE = {"kraken": 50}
DEFAULT_PAGE = 500
MAX_PAGES = 10_000


@dataclass(slots=True)
class SyncResult:
    """What one sync fetched: events with their final ids, problems, and the new cursors.

    Attributes:
        events: every event, ids set, each id once.
        problems: records that could not be mapped (nothing should be written while any exist).
        cursors: kind → the latest record timestamp (ms) seen, for the next incremental sync.
        unsupported: kinds the exchange does not offer through ccxt.
    """

    events: list[LedgerEvent] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    cursors: dict[str, int] = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)


def map_records(
    exchange: Any, kind: str, records: Iterable[dict[str, Any]], wallet: str, result: SyncResult
) -> None:
    """Map ``records`` of ``kind`` into ``result``: events with ids, problems named by record."""
    mapper = MAPPERS[kind]
    occurrences: Counter[str] = Counter()
    known = {event.id: event for event in result.events}
    source = f"api:{exchange.id}"
    for record in records:
        reference = str(record.get("id") or record.get("timestamp") or "?")
        try:
            with decimal_context():
                mapped = mapper(exchange, record, wallet)
        except (SyncProblem, EventFieldError) as error:
            result.problems.append(
                InputProblem(source, None, f"{kind} {reference}: {error.field}", error.problem)
            )
            continue
        except (ValueError, ArithmeticError, TypeError, KeyError) as error:
            result.problems.append(InputProblem(source, None, f"{kind} {reference}", str(error)))
            continue
        for item in mapped:
            if item.venue_id is not None:
                event_id = f"{exchange.id}:{item.venue_id}"
            else:
                fingerprint = item.event.fingerprint()
                event_id = default_event_id(fingerprint, occurrences[fingerprint])
                occurrences[fingerprint] += 1
            event = dataclasses.replace(item.event, id=event_id)
            earlier = known.get(event_id)
            if earlier is not None:
                if earlier.fingerprint() != event.fingerprint():
                    result.problems.append(
                        InputProblem(
                            source,
                            None,
                            f"{kind} {reference}",
                            f"id {event_id} seen twice with different content",
                        )
                    )
                continue
            known[event_id] = event
            result.events.append(event)


def _timestamps(records: list[dict[str, Any]]) -> list[int]:
    stamps = []
    for record in records:
        stamp = record.get("timestamp")
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            stamps.append(int(stamp))
    return stamps


def fetch_history(
    exchange: Any, kind: str, since: int | None, *, symbol: str | None = None
) -> list[dict[str, Any]]:
    """Every record of ``kind`` from ``since`` (ms, inclusive) on, paging as the exchange needs.

    Oldest-first exchanges are paged forward from the latest timestamp seen; newest-first ones
    (:data:`OFFSET_PAGED`) by their offset parameter, which cannot get stuck on a page of
    records that share one timestamp. Records met twice are kept once.
    """
    offset_param = OFFSET_PAGED.get(exchange.id)
    page = PAGE_SIZE.get(exchange.id, DEFAULT_PAGE)

    def call(start: int | None, params: dict[str, Any]) -> list[dict[str, Any]]:
        if kind == "trades":
            found = exchange.fetch_my_trades(symbol, start, page, params)
        elif kind == "ledger":
            found = exchange.fetch_ledger(None, start, page, params)
        elif kind == "borrow_interest":
            found = exchange.fetch_borrow_interest(None, symbol, start, page, params)
        else:
            found = exchange.fetch_funding_history(symbol, start, page, params)
        return list(found or [])

    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    start, offset = since, 0
    for _ in range(MAX_PAGES):
        batch = call(start, {offset_param: offset} if offset_param and offset else {})
        fresh = []
        for record in batch:
            key = repr(
                (
                    record.get("id"),
                    record.get("timestamp"),
                    record.get("amount"),
                    record.get("interest"),
                    record.get("currency"),
                    record.get("symbol"),
                )
            )
            if key not in seen:
                seen.add(key)
                fresh.append(record)
        records.extend(fresh)
        stamps = _timestamps(batch)
        if len(batch) < page or not stamps:
            break
        if offset_param:
            offset += len(batch)  # newest first: the next page is further back
        elif fresh:
            start = max(stamps)  # oldest first: resume at the latest time seen (inclusive)
        else:
            break
    return records


def sync(
    exchange: Any,
    *,
    kinds: Iterable[str] = KINDS,
    cursors: dict[str, int] | None = None,
    since: int | None = None,
    symbols: Iterable[str] = (),
    wallet: str | None = None,
) -> SyncResult:
    """Fetch and map every requested kind the exchange offers.

    Args:
        exchange: a ccxt exchange with credentials set (or a recorded stand-in in tests).
        kinds: which of :data:`KINDS` to fetch.
        cursors: kind → last synced timestamp (ms); fetching resumes there (inclusive: records
            met again keep their ids, so nothing is added twice).
        since: a start (ms) for kinds without a cursor; ``None`` = as far back as the API goes.
        symbols: markets for exchanges whose trade or funding history is per market (Binance).
        wallet: the wallet to book into; default the exchange id.
    """
    exchange.number = str
    result = SyncResult()
    wallet_name = wallet or str(exchange.id)
    per_symbol: list[str | None] = [*symbols] or [None]
    for kind in kinds:
        if not exchange.has.get(CAPABILITY[kind]):
            result.unsupported.append(kind)
            continue
        start = (cursors or {}).get(kind, since)
        records: list[dict[str, Any]] = []
        for symbol in per_symbol if kind in ("trades", "funding", "borrow_interest") else [None]:
            records.extend(fetch_history(exchange, kind, start, symbol=symbol))
        map_records(exchange, kind, records, wallet_name, result)
        stamps = _timestamps(records)
        if stamps:
            result.cursors[kind] = max(stamps)
        elif start is not None:
            result.cursors[kind] = start
    result.events.sort(key=lambda event: event.timestamp)
    return result
