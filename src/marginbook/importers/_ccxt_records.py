"""ccxt's unified records → ledger events: one function per kind (see :mod:`ccxt_sync`).

Each mapper takes the exchange (for its id and markets), one unified record and the wallet, and
returns :class:`Mapped` events whose ids :func:`marginbook.importers.ccxt_sync.map_records` sets.
A record that cannot be mapped raises :class:`SyncProblem` naming the unified field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marginbook.domain.events import EventKind, LedgerEvent, Origin

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
