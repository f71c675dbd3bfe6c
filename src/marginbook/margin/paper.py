"""A paper-trading run: orders replayed against price bars through the margin engine.

:func:`replay` is the use case behind ``marginbook paper``: files in, a :class:`RunResult`
out, with the run's ledger events (exact decimals, origin ``sim:<run id>``) ready to be
exported as ledger CSV and taxed like a real year.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import LedgerEvent
from marginbook.margin.broker.engine import Engine, RunConfig, run_bars
from marginbook.margin.ledger import to_decimal
from marginbook.margin.orders import Order, read_orders
from marginbook.margin.prices import Bars, read_bars


@dataclass(slots=True)
class RunResult:
    """What a run did, in exact decimals.

    Attributes:
        run_id: the run's id.
        final_equity: equity at the last close (quote).
        final_cash: cash implied by the emitted events (quote).
        trades, liquidations, margin_calls, rejected: one dict per occurrence.
        interest_paid, fees_paid: totals in quote; funding: net funding received (+) / paid (−).
        events: the run's ledger events.
        open_positions: positions still open at the end, with their liquidation prices.
    """

    run_id: str
    quote: str
    base: str
    final_equity: Decimal
    final_cash: Decimal
    trades: list[dict[str, Any]]
    liquidations: list[dict[str, Any]]
    margin_calls: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    interest_paid: Decimal
    fees_paid: Decimal
    funding: Decimal
    events: list[LedgerEvent]
    open_positions: list[dict[str, Any]] = field(default_factory=list)
    bars: int = 0


def run_id_for(*parts: str) -> str:
    """A short, stable run id from the run's inputs (same inputs → same id → idempotent import)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]{2,10})?\s*$")


def parse_amount(text: str, flag: str, default_asset: str) -> tuple[Decimal, str]:
    """``10000USD`` → (10000, ``USD``); a bare number takes ``default_asset``."""
    match = _AMOUNT.match(text)
    if match is None or Decimal(match.group(1)) <= 0:
        raise InputError(InputProblem(flag, None, "", f"expected an amount like 10000USD, got {text!r}"))
    return Decimal(match.group(1)), (match.group(2) or default_asset).upper()


def split_deposits(texts: list[str], base: str, default_quote: str) -> tuple[Decimal, str, Decimal]:
    """``--deposit`` values → (quote amount, quote asset, base-asset collateral).

    One cash (quote) asset per account; deposits of the traded asset are collateral.
    """
    quote_amount, quote, base_amount = Decimal(0), "", Decimal(0)
    for text in texts:
        amount, asset = parse_amount(text, "--deposit", default_quote)
        if asset == base:
            base_amount += amount
        elif quote and asset != quote:
            raise InputError(
                InputProblem("--deposit", None, "", f"one cash asset per account: {quote} or {asset}")
            )
        else:
            quote, quote_amount = asset, quote_amount + amount
    return quote_amount, quote or default_quote, base_amount


def base_from_file(path: Path) -> str | None:
    """The base asset from a price file named like ``BTC-USDT_1h.csv``, when it is."""
    match = re.match(r"^([A-Za-z0-9]{2,10})[-_/]", path.name)
    return match.group(1).upper() if match else None


def result_of(engine: Engine, bars: int) -> RunResult:
    """Collect an engine's run into a :class:`RunResult`."""
    account = engine.account
    totals = engine.executor.totals
    cash = engine.sink.cash(account.quote)
    price = engine.last_price
    equity = cash
    if account.positions or account.base_collateral:
        equity = cash + to_decimal(account.equity(price) - account.cash)
    open_positions = [
        {
            "position": p.ledger_id,
            "side": "long" if p.side > 0 else "short",
            "quantity": to_decimal(p.quantity),
            "entry_price": to_decimal(p.entry_price),
            "liquidation_price": to_decimal(account.position_liquidation_price(p, price)),
        }
        for p in account.positions.values()
    ]
    return RunResult(
        run_id=engine.config.run_id,
        quote=account.quote,
        base=account.base,
        final_equity=equity,
        final_cash=cash,
        trades=totals.trades,
        liquidations=totals.liquidations,
        margin_calls=engine.margin_calls,
        rejected=engine.rejected,
        interest_paid=totals.interest,
        fees_paid=totals.fees,
        funding=totals.funding,
        events=engine.sink.events,
        open_positions=open_positions,
        bars=bars,
    )


def replay(
    config: RunConfig, bars: Bars, orders: list[Order], *, record: bool = False
) -> tuple[Engine, RunResult]:
    """Run ``orders`` against ``bars``; return the engine (for inspection) and the result."""
    engine = Engine(config, orders, record=record)
    run_bars(engine, bars.times, bars.epochs, bars.open, bars.high, bars.low, bars.close)
    return engine, result_of(engine, len(bars))


def load_inputs(prices: Path, orders: Path) -> tuple[Bars, list[Order]]:
    """Read both files, reporting the problems of both before giving up."""
    problems: list[InputProblem] = []
    bars: Bars | None = None
    order_list: list[Order] = []
    try:
        bars = read_bars(prices)
    except InputError as error:
        problems.extend(error.problems)
    try:
        order_list = read_orders(orders)
    except InputError as error:
        problems.extend(error.problems)
    if problems or bars is None:
        raise InputError(problems)
    return bars, order_list


def jsonable(value: Any) -> Any:
    """Decimals as strings, times as ISO-8601 ``Z``, recursively (the CLI's JSON contract)."""
    from marginbook.domain.events import format_timestamp
    from marginbook.domain.numbers import plain

    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def result_json(result: RunResult) -> dict[str, Any]:
    """The JSON document of ``marginbook paper --format json``."""
    document: dict[str, Any] = jsonable(
        {
            "run_id": result.run_id,
            "quote": result.quote,
            "base": result.base,
            "final_equity": result.final_equity,
            "final_cash": result.final_cash,
            "trades": result.trades,
            "liquidations": result.liquidations,
            "margin_calls": result.margin_calls,
            "rejected_orders": result.rejected,
            "open_positions": result.open_positions,
            "interest_paid": result.interest_paid,
            "fees_paid": result.fees_paid,
            "funding": result.funding,
            "events": len(result.events),
            "bars": result.bars,
        }
    )
    return document


def run_live(config: RunConfig, orders: list[Order], feed: Any, *, max_bars: int = 0) -> RunResult:
    """Trade ``orders`` on a live feed's closed bars until ``max_bars`` (0 = until interrupted).

    Each bar is processed when the next one is known to have opened (the feed only yields
    closed bars, so a bar's end is its open plus the feed's step).
    """
    engine = Engine(config, orders)
    step = getattr(feed, "step_ms", 60_000) // 1000
    count = 0
    try:
        for bar in feed.bars():
            engine.on_bar(bar.time, bar.epoch, bar.open, bar.high, bar.low, bar.close, bar.epoch + step)
            count += 1
            if max_bars and count >= max_bars:
                break
    except KeyboardInterrupt:
        pass
    return result_of(engine, count)
