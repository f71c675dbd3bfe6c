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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marginbook.domain.errors import InputProblem
from marginbook.domain.events import EventFieldError, EventKind, LedgerEvent, Origin, default_event_id
from marginbook.domain.numbers import decimal_context

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

_PENDING = "pending"
_INCOME_LEDGER_TYPES = frozenset({"rebate", "cashback", "referral", "reward", "airdrop", "bonus"})
_BINANCE_INCOME = {
    "REALIZED_PNL": EventKind.REALIZED_PNL,
    "FUNDING_FEE": EventKind.FUNDING,
    "COMMISSION": EventKind.FEE,
}


class SyncProblem(ValueError):
    """A record the mapping cannot turn into events; ``field`` names the unified field."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


def _decimal(value: object, field_name: str) -> Decimal:
    if value is None or isinstance(value, bool):
        raise SyncProblem(field_name, "is missing")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise SyncProblem(field_name, f"not a number: {value!r}") from None
    if not number.is_finite():
        raise SyncProblem(field_name, f"not a finite number: {value!r}")
    return number


def _optional_decimal(value: object, field_name: str) -> Decimal | None:
    return None if value is None or value == "" else _decimal(value, field_name)


def _time(record: dict[str, Any]) -> datetime:
    stamp = record.get("timestamp")
    if not isinstance(stamp, int | float | str) or isinstance(stamp, bool) or str(stamp).strip() == "":
        raise SyncProblem("timestamp", "is missing")
    return datetime.fromtimestamp(int(float(stamp)) / 1000, UTC)


@dataclass(frozen=True, slots=True)
class Mapped:
    """Events of one record, before ids, with the id the venue gives (``None`` = content hash)."""

    event: LedgerEvent
    venue_id: str | None


def _event(**fields: Any) -> LedgerEvent:
    return LedgerEvent(id=_PENDING, **fields)


def _fee_list(record: dict[str, Any]) -> list[tuple[str, Decimal]]:
    fees = record.get("fees") or ([record["fee"]] if record.get("fee") else [])
    result: list[tuple[str, Decimal]] = []
    for fee in fees:
        if not isinstance(fee, dict):
            continue
        cost = _optional_decimal(fee.get("cost"), "fee.cost")
        if not cost:
            continue
        currency = fee.get("currency")
        if not currency:
            raise SyncProblem("fee.currency", f"a fee of {cost} without a currency")
        result.append((str(currency), cost))
    return result


def _base_quote(exchange: Any, symbol: str) -> tuple[str, str]:
    market = (getattr(exchange, "markets", None) or {}).get(symbol)
    if market and market.get("base") and market.get("quote"):
        return str(market["base"]), str(market["quote"])
    base, slash, quote = symbol.partition("/")
    if not slash or not base or not quote:
        raise SyncProblem("symbol", f"cannot tell base and quote of {symbol!r}")
    return base, quote


def map_trade(exchange: Any, trade: dict[str, Any], wallet: str) -> list[Mapped]:
    """Events of one unified trade (a spot fill); a contract fill gives none."""
    symbol = str(trade.get("symbol") or "")
    if ":" in symbol:
        return []
    base, quote = _base_quote(exchange, symbol)
    side = trade.get("side")
    if side not in ("buy", "sell"):
        raise SyncProblem("side", f"expected buy or sell, got {side!r}")
    amount = _decimal(trade.get("amount"), "amount")
    cost = _optional_decimal(trade.get("cost"), "cost")
    if cost is None:
        cost = amount * _decimal(trade.get("price"), "price")
    fees = _fee_list(trade)
    timestamp = _time(trade)
    trade_id = str(trade.get("id") or "") or None
    origin = Origin(source=f"api:{exchange.id}", ref=trade_id)
    first = fees[0] if fees else (None, None)
    mapped = [
        Mapped(
            _event(
                timestamp=timestamp,
                kind=EventKind(side),
                wallet=wallet,
                asset=base,
                amount=amount,
                counter_asset=quote,
                counter_amount=cost,
                fee_asset=first[0],
                fee_amount=first[1],
                origin=origin,
            ),
            _trade_id(exchange.id, trade_id),
        )
    ]
    for number, (currency, fee) in enumerate(fees[1:], start=2):
        fee_id = f"{_trade_id(exchange.id, trade_id)}:fee{number}" if trade_id else None
        mapped.append(
            Mapped(
                _event(
                    timestamp=timestamp,
                    kind=EventKind.FEE,
                    wallet=wallet,
                    asset=currency,
                    amount=fee,
                    note=f"fee of trade {trade_id}",
                    origin=origin,
                ),
                fee_id,
            )
        )
    return mapped


def _trade_id(exchange_id: str, trade_id: str | None) -> str | None:
    if trade_id is None:
        return None
    return trade_id if exchange_id == "kraken" else f"trade:{trade_id}"


def map_ledger_entry(exchange: Any, entry: dict[str, Any], wallet: str) -> list[Mapped]:
    """Events of one unified ledger entry (see the module's mapping)."""
    raw = entry.get("info")
    info: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if "incomeType" in info:
        return _binance_income(exchange, entry, info, wallet)
    kind = str(entry.get("type") or "")
    entry_id = str(entry.get("id") or "") or None
    currency = str(entry.get("currency") or "")
    if not currency:
        raise SyncProblem("currency", "is missing")
    direction = entry.get("direction")
    amount = abs(_decimal(entry.get("amount"), "amount"))
    signed = -amount if direction == "out" else amount
    fees = _fee_list(entry)
    fee_fields: dict[str, Any] = {"fee_asset": fees[0][0], "fee_amount": fees[0][1]} if fees else {}
    common = {
        "timestamp": _time(entry),
        "wallet": wallet,
        "asset": currency,
        "origin": Origin(source=f"api:{exchange.id}", ref=entry_id),
    }
    if kind in ("trade", "transfer"):
        return []
    if kind == "transaction" and amount:
        event_kind = EventKind.WITHDRAWAL if direction == "out" else EventKind.DEPOSIT
        return [Mapped(_event(kind=event_kind, amount=amount, **fee_fields, **common), entry_id)]
    if kind == "margin":
        if amount:
            return [
                Mapped(_event(kind=EventKind.REALIZED_PNL, amount=signed, **fee_fields, **common), entry_id)
            ]
        if fees:
            opening = _event(
                kind=EventKind.INTEREST,
                amount=fees[0][1],
                note=f"{exchange.id.capitalize()} margin opening fee",
                **{**common, "asset": fees[0][0]},
            )
            return [Mapped(opening, entry_id)]
        return []
    if kind == "rollover":
        if amount:
            raise SyncProblem("amount", "a rollover that moves an amount, not only a fee, is not understood")
        if not fees:
            return []
        return [
            Mapped(
                _event(
                    kind=EventKind.INTEREST,
                    amount=fees[0][1],
                    note=f"{exchange.id.capitalize()} margin rollover fee",
                    **{**common, "asset": fees[0][0]},
                ),
                entry_id,
            )
        ]
    if kind == "fee" and direction == "out" and amount:
        return [Mapped(_event(kind=EventKind.FEE, amount=amount, **common), entry_id)]
    if kind in _INCOME_LEDGER_TYPES and direction == "in" and amount:
        return [
            Mapped(
                _event(kind=EventKind.INCOME, amount=amount, note=f"{exchange.id} {kind}", **common), entry_id
            )
        ]
    if not amount and not fees:
        return []
    raise SyncProblem(
        "type", f"ledger entry type {kind!r} ({direction} {amount} {currency}) is not understood"
    )


def _binance_income(exchange: Any, entry: dict[str, Any], info: dict[str, Any], wallet: str) -> list[Mapped]:
    income_type = str(info.get("incomeType"))
    if income_type == "TRANSFER":
        return []
    kind = _BINANCE_INCOME.get(income_type)
    if kind is None:
        raise SyncProblem("incomeType", f"Binance income type {income_type!r} is not understood")
    amount = _decimal(info.get("income"), "income")
    entry_id = str(info.get("tranId") or entry.get("id") or "") or None
    common = {
        "timestamp": _time(entry),
        "wallet": wallet,
        "asset": str(info.get("asset") or entry.get("currency")),
        "origin": Origin(source=f"api:{exchange.id}", ref=entry_id),
    }
    if amount == 0:
        return []
    if kind is EventKind.FEE:
        if amount > 0:
            raise SyncProblem("income", "a positive commission (a rebate) is not understood")
        return [Mapped(_event(kind=kind, amount=-amount, note="USDⓈ-M commission", **common), entry_id)]
    return [Mapped(_event(kind=kind, amount=amount, **common), entry_id)]


def map_borrow_interest(exchange: Any, record: dict[str, Any], wallet: str) -> list[Mapped]:
    """An ``interest`` event for one unified borrow-interest record."""
    interest = _decimal(record.get("interest"), "interest")
    currency = record.get("currency")
    if not currency:
        raise SyncProblem("currency", "is missing")
    if interest == 0:
        return []
    if interest < 0:
        raise SyncProblem("interest", "negative interest is not understood")
    note = f"{record.get('marginMode') or 'margin'} interest"
    if record.get("symbol"):
        note += f" ({record['symbol']})"
    event = _event(
        timestamp=_time(record),
        kind=EventKind.INTEREST,
        wallet=wallet,
        asset=str(currency),
        amount=interest,
        note=note,
        origin=Origin(source=f"api:{exchange.id}"),
    )
    return [Mapped(event, None)]


def map_funding(exchange: Any, record: dict[str, Any], wallet: str) -> list[Mapped]:
    """A signed ``funding`` event for one unified funding-history record."""
    amount = _decimal(record.get("amount"), "amount")
    code = record.get("code")
    if not code:
        raise SyncProblem("code", "is missing")
    if amount == 0:
        return []
    record_id = str(record.get("id") or "") or None
    event = _event(
        timestamp=_time(record),
        kind=EventKind.FUNDING,
        wallet=wallet,
        asset=str(code),
        amount=amount,
        origin=Origin(source=f"api:{exchange.id}", ref=record_id),
    )
    return [Mapped(event, record_id)]


MAPPERS: dict[str, Callable[[Any, dict[str, Any], str], list[Mapped]]] = {
    "trades": map_trade,
    "ledger": map_ledger_entry,
    "borrow_interest": map_borrow_interest,
    "funding": map_funding,
}


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
            key = repr((record.get("id"), record.get("timestamp"), record.get("amount"),
                        record.get("interest"), record.get("currency"), record.get("symbol")))
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
