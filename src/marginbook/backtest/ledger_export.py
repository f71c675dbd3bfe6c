"""A backtest's trades, interest and liquidations as ledger events, so a run can be taxed.

Exact decimals begin here. Each float from the kernel becomes a decimal once, quantized to
8 places (a satoshi for BTC; a hundred-millionth of a dollar for USDT), and every event of a
position reuses those same decimals, so what a position acquires it disposes of exactly:
lots acquired = lots disposed + lots held, to the last unit.

How a position is written depends on how the venue settles it (the margin engine's venue
profile, ``settlement``):

- ``spot`` (Binance spot margin): real trades on borrowed money. A long is ``borrow`` quote,
  ``buy`` base, ``interest`` (quote), then ``sell`` base (``liquidation`` when the venue
  forced it) and ``repay`` quote. A short is ``borrow`` base, ``sell`` base, ``interest``
  (base), then ``buy`` back the base owed and ``repay`` it; a forced close of a short is the
  forced ``buy`` and the ``repay``, with a note, because ``liquidation`` always means a
  forced sale.
- ``pnl`` (futures, Kraken margin): the position settles a profit or loss in the quote
  asset: one ``realized_pnl`` (price P&L less trading fees) with ``opened_at``, one
  ``interest`` when interest was charged, one ``funding`` when funding was paid or received.

A partial liquidation (tiered futures venues) closes one trade for the units the venue
sold (its ``realized_pnl``, noted ``liquidation``) and continues the position in the next
trade, whose events keep the same ``position``.

Interest is written as one event per position at its close (the total of the venue's
charges, whose count is in the note). A position still open after the last bar gets only
its opening events. Every event carries ``position`` and an origin ``sim:<run id>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from marginbook.backtest.results import BacktestResult, Trade
from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.domain.numbers import ZERO, decimal_context

UNIT = Decimal("0.00000001")


def exact(value: float) -> Decimal:
    """A kernel float as an exact decimal, rounded half-up to 8 places."""
    with decimal_context():
        return Decimal(repr(float(value))).quantize(UNIT)


def ledger_events(result: BacktestResult, *, base: str, quote: str, run_id: str,
                  settlement: str, wallet: str | None = None) -> list[LedgerEvent]:
    """The ledger events of every trade of ``result`` (see the module docstring).

    Args:
        result: the backtest's result.
        base, quote: asset names (``BTC``, ``USDT``).
        run_id: identifies the run; event ids and origins derive from it.
        settlement: ``spot`` or ``pnl``.
        wallet: the wallet the events happen in (default ``backtest-<venue>``).
    """
    wallet_name = wallet or f"backtest-{result.settings.venue}"
    events: list[LedgerEvent] = []
    position = ""
    for index, trade in enumerate(result.trades):
        row = f"{run_id}-{index + 1}"
        if not trade.continues:  # the rest of a partly liquidated position stays in its position
            position = row
        writer = _spot_events if settlement == "spot" else _pnl_events
        for step, (kind_time, fields) in enumerate(writer(trade, base, quote)):
            kind, timestamp = kind_time
            events.append(LedgerEvent(
                id=f"{row}-{step + 1}", timestamp=timestamp, kind=kind, wallet=wallet_name,
                position=position, origin=Origin(source=f"sim:{run_id}", ref=f"{index + 1}.{step + 1}"),
                **fields,
            ))
    return events


_Event = tuple[tuple[EventKind, datetime], dict[str, Any]]


def _spot_events(trade: Trade, base: str, quote: str) -> Iterator[_Event]:
    qty, entry_price, exit_price = exact(trade.quantity), exact(trade.entry_price), exact(trade.exit_price)
    entry_fee, exit_fee = exact(trade.entry_fee), exact(trade.exit_fee)
    interest_units = exact(trade.interest_units)
    opened, closed = trade.entry_time, trade.exit_time
    with decimal_context():
        entry_value = (qty * entry_price).quantize(UNIT)
        if trade.side == "long":
            borrowed = exact(trade.borrowed)
            if borrowed > 0:
                yield (EventKind.BORROW, opened), {"asset": quote, "amount": borrowed}
            yield (EventKind.BUY, opened), {"asset": base, "amount": qty, "counter_asset": quote,
                                            "counter_amount": entry_value, **_fee(quote, entry_fee)}
            if trade.is_open:
                return
            if interest_units > 0:
                yield (EventKind.INTEREST, closed), {"asset": quote, "amount": interest_units,
                                                     "note": _charges_note(trade)}
            kind = EventKind.LIQUIDATION if trade.exit_reason == "liquidation" else EventKind.SELL
            yield (kind, closed), {"asset": base, "amount": qty, "counter_asset": quote,
                                   "counter_amount": (qty * exit_price).quantize(UNIT),
                                   "note": trade.exit_reason, **_fee(quote, exit_fee)}
            if borrowed > 0:
                yield (EventKind.REPAY, closed), {"asset": quote, "amount": borrowed}
            return
        yield (EventKind.BORROW, opened), {"asset": base, "amount": qty}
        yield (EventKind.SELL, opened), {"asset": base, "amount": qty, "counter_asset": quote,
                                         "counter_amount": entry_value, **_fee(quote, entry_fee)}
        if trade.is_open:
            return
        owed = qty + interest_units
        note = "forced close (liquidation)" if trade.exit_reason == "liquidation" else trade.exit_reason
        yield (EventKind.BUY, closed), {"asset": base, "amount": owed, "counter_asset": quote,
                                        "counter_amount": (owed * exit_price).quantize(UNIT), "note": note,
                                        **_fee(quote, exit_fee)}
        if interest_units > 0:
            yield (EventKind.INTEREST, closed), {"asset": base, "amount": interest_units,
                                                 "note": _charges_note(trade)}
        yield (EventKind.REPAY, closed), {"asset": base, "amount": qty}


def _pnl_events(trade: Trade, base: str, quote: str) -> Iterator[_Event]:
    if trade.is_open:
        return
    with decimal_context():
        qty = exact(trade.quantity)
        price_pnl = (qty * (exact(trade.exit_price) - exact(trade.entry_price))).quantize(UNIT)
        if trade.side == "short":
            price_pnl = -price_pnl
        fees = exact(trade.entry_fee) + exact(trade.exit_fee)
        pnl = price_pnl - fees
        note = f"{trade.side} {qty} {base} {trade.exit_reason}"
        if pnl != ZERO:
            yield (EventKind.REALIZED_PNL, trade.exit_time), {"asset": quote, "amount": pnl,
                                                              "opened_at": trade.entry_time, "note": note}
        interest = exact(trade.interest)
        if interest > 0:
            yield (EventKind.INTEREST, trade.exit_time), {"asset": quote, "amount": interest,
                                                          "note": _charges_note(trade)}
        funding = exact(trade.funding)
        if funding != ZERO:
            yield (EventKind.FUNDING, trade.exit_time), {"asset": quote, "amount": funding,
                                                         "note": "funding total of the position"}


def _fee(asset: str, amount: Decimal) -> dict[str, Any]:
    return {"fee_asset": asset, "fee_amount": amount} if amount > 0 else {}


def _charges_note(trade: Trade) -> str:
    return f"{trade.interest_charges} interest charges"
