"""What a backtest produced, as records a person (or a JSON reader) can use.

The kernel returns float arrays; this module turns them into :class:`Trade` and
:class:`MarginCall` records and a :class:`BacktestResult` with the summary figures.
Amounts stay floats here (simulation output, not tax figures); they become exact decimals
when written: :meth:`BacktestResult.to_json` writes each float's shortest round-trip text
as a decimal string, and :mod:`marginbook.backtest.ledger_export` builds ledger events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from marginbook.backtest import layout as L
from marginbook.backtest.data import Bars
from marginbook.backtest.settings import BacktestSettings
from marginbook.domain.events import format_timestamp
from marginbook.domain.numbers import plain

FloatArray = npt.NDArray[np.float64]


def decimal_text(value: float) -> str:
    """A float as the decimal string of its shortest round-trip representation (``0.1`` → ``"0.1"``)."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return plain(Decimal(repr(float(value))))


@dataclass(frozen=True, slots=True)
class Trade:
    """One position from entry to exit.

    Attributes:
        side: ``long`` or ``short``.
        entry_time, exit_time: bar open times of the entry and exit bars (UTC).
        entry_bar, exit_bar: their indexes.
        quantity: base units.
        entry_price, exit_price: fill prices (a still-open trade's exit price is the last close).
        entry_fee, exit_fee: fees paid (a liquidation's fee is the venue's liquidation fee).
        interest: interest paid, in the quote asset.
        interest_units: interest in the lent asset (quote for a long, base for a short).
        interest_charges: how many charges the venue's schedule made.
        funding: funding received (+) or paid (−).
        pnl: net result: price P&L − fees − interest + funding.
        exit_reason: ``signal``, ``stop_loss``, ``take_profit``, ``trailing_stop``,
            ``liquidation`` or ``open``.
        liquidation_price: at entry (``nan`` when the position cannot be liquidated).
        margin: initial margin (collateral) committed.
        borrowed: the amount lent: quote for a long, base units for a short.
        continues: the rest of the previous trade's position after the venue liquidated part
            of it (tiered venues); its entry is that position's, with no entry fee.
    """

    side: str
    entry_time: datetime
    exit_time: datetime
    entry_bar: int
    exit_bar: int
    quantity: float
    entry_price: float
    exit_price: float
    entry_fee: float
    exit_fee: float
    interest: float
    interest_units: float
    interest_charges: int
    funding: float
    pnl: float
    exit_reason: str
    liquidation_price: float
    margin: float
    borrowed: float
    continues: bool = False

    @property
    def is_open(self) -> bool:
        """True when the position was still open after the last bar."""
        return self.exit_reason == "open"

    def to_json(self) -> dict[str, Any]:
        """The trade as JSON-ready values (decimal strings, ISO-8601 UTC times)."""
        return {
            "side": self.side,
            "time": format_timestamp(self.entry_time),
            "price": decimal_text(self.entry_price),
            "quantity": decimal_text(self.quantity),
            "fee": decimal_text(self.entry_fee),
            "exit_time": format_timestamp(self.exit_time),
            "exit_price": decimal_text(self.exit_price),
            "exit_fee": decimal_text(self.exit_fee),
            "exit_reason": self.exit_reason,
            "interest": decimal_text(self.interest),
            "funding": decimal_text(self.funding),
            "pnl": decimal_text(self.pnl),
            "margin": decimal_text(self.margin),
            "liquidation_price": None if math.isnan(self.liquidation_price)
            else decimal_text(self.liquidation_price),
            "continues": self.continues,
        }


@dataclass(frozen=True, slots=True)
class MarginCall:
    """The first time a position's margin fell to the venue's call level.

    Attributes:
        time: open time of the bar whose adverse extreme reached the call price.
        price: the call price.
        side: the position's side.
        quantity: the position's size.
        trade: index of the trade in :attr:`BacktestResult.trades`.
    """

    time: datetime
    price: float
    side: str
    quantity: float
    trade: int

    def to_json(self) -> dict[str, Any]:
        """The call as JSON-ready values."""
        return {"time": format_timestamp(self.time), "price": decimal_text(self.price), "side": self.side,
                "quantity": decimal_text(self.quantity), "trade": self.trade}


@dataclass(frozen=True)
class BacktestResult:
    """Everything one run produced.

    The kernel's trade and margin-call matrices are kept as they are; :attr:`trades` and
    :attr:`margin_calls` build the records on first use, so a sweep or a benchmark that only
    wants the summary does not pay for ten thousand Python objects.

    Attributes:
        settings: the run's settings.
        bars: the price bars it ran on.
        equity: equity at each bar's close.
        liquidation_prices: each bar's liquidation price (``nan`` when flat).
        trade_rows: the kernel's trade matrix (``TR_*`` columns), one row per trade.
        call_rows: the kernel's margin-call matrix (``MC_*`` columns).
        fees_paid, interest_paid: totals in the quote asset.
        funding: funding received (+) or paid (−) in total.
        skipped_entries: entries refused because equity could not pay margin and fee, or
            because the leverage is above the venue's cap for the position's notional tier.
        elapsed_s: wall time of the kernel call.
        strategy: the strategy name and parameters, for reports.
    """

    settings: BacktestSettings
    bars: Bars
    equity: FloatArray
    liquidation_prices: FloatArray
    trade_rows: FloatArray
    call_rows: FloatArray
    fees_paid: float
    interest_paid: float
    funding: float
    skipped_entries: int
    elapsed_s: float
    strategy: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def trades(self) -> tuple[Trade, ...]:
        """Every position, in order of entry."""
        return trades_from_rows(self.trade_rows, self.bars)

    @cached_property
    def margin_calls(self) -> tuple[MarginCall, ...]:
        """The first margin call of each position that had one."""
        return calls_from_rows(self.call_rows, self.bars)

    def positions(self) -> list[list[Trade]]:
        """The trades grouped by position: a trade, then those continuing it after partial
        liquidations (each carries the rest the venue left open)."""
        positions: list[list[Trade]] = []
        for trade in self.trades:
            if trade.continues:
                positions[-1].append(trade)
            else:
                positions.append([trade])
        return positions

    @property
    def trade_count(self) -> int:
        """How many positions were opened (the rest of a partly liquidated position is not a new one)."""
        return int(np.count_nonzero(self.trade_rows[:, L.TR_CONTINUES] == 0.0))

    @property
    def liquidation_count(self) -> int:
        """How many positions the venue liquidated."""
        return int(np.count_nonzero(self.trade_rows[:, L.TR_REASON] == L.EXIT_LIQUIDATION))

    @property
    def final_equity(self) -> float:
        """Equity after the last bar (an open position marked to the last close)."""
        return float(self.equity[-1])

    @property
    def return_pct(self) -> float:
        """Return on the starting cash, in percent."""
        return (self.final_equity / self.settings.cash - 1.0) * 100.0

    @property
    def drawdown(self) -> FloatArray:
        """Drawdown at each close from the running equity peak (starting cash included), ≤ 0, in percent."""
        peak = np.maximum.accumulate(np.maximum(self.equity, self.settings.cash))
        return np.asarray((self.equity / peak - 1.0) * 100.0)

    @property
    def max_drawdown_pct(self) -> float:
        """The deepest drawdown, as a positive percentage."""
        return float(-self.drawdown.min()) if len(self.equity) else 0.0

    @property
    def liquidations(self) -> tuple[Trade, ...]:
        """The trades the venue liquidated (the part a partial liquidation sold is one)."""
        return tuple(t for t in self.trades if t.exit_reason == "liquidation")

    def _liquidation_records(self) -> list[dict[str, Any]]:
        trades = self.trades
        return [
            {"time": format_timestamp(t.exit_time), "price": decimal_text(t.exit_price),
             "quantity": decimal_text(t.quantity), "side": t.side, "fee": decimal_text(t.exit_fee),
             "loss": decimal_text(-t.pnl),
             # The venue sold these units and kept the rest open (the next trade continues it).
             "partial": index + 1 < len(trades) and trades[index + 1].continues}
            for index, t in enumerate(trades) if t.exit_reason == "liquidation"
        ]

    def to_json(self) -> dict[str, Any]:
        """The result as the CLI contract's JSON document (decimal strings, lists as for ``paper``)."""
        return {
            "final_equity": decimal_text(self.final_equity),
            "return_pct": decimal_text(self.return_pct),
            "max_drawdown_pct": decimal_text(self.max_drawdown_pct),
            "trades": [t.to_json() for t in self.trades],
            "liquidations": self._liquidation_records(),
            "margin_calls": [c.to_json() for c in self.margin_calls],
            "interest_paid": decimal_text(self.interest_paid),
            "fees_paid": decimal_text(self.fees_paid),
            "funding": decimal_text(self.funding),
            "bars": len(self.bars),
            "elapsed_s": round(self.elapsed_s, 6),
            "skipped_entries": self.skipped_entries,
            "venue": self.settings.venue,
            "leverage": decimal_text(self.settings.leverage),
            "mode": self.settings.mode,
            "strategy": self.strategy,
        }


def trades_from_rows(rows: FloatArray, bars: Bars) -> tuple[Trade, ...]:
    """Turn the kernel's trade matrix rows into :class:`Trade` records."""
    trades = []
    for row in rows:
        entry_bar, exit_bar = int(row[L.TR_ENTRY_BAR]), int(row[L.TR_EXIT_BAR])
        trades.append(Trade(
            side="long" if row[L.TR_SIDE] > 0 else "short",
            entry_time=bars.time_of(entry_bar), exit_time=bars.time_of(exit_bar),
            entry_bar=entry_bar, exit_bar=exit_bar,
            quantity=float(row[L.TR_QUANTITY]), entry_price=float(row[L.TR_ENTRY_PRICE]),
            exit_price=float(row[L.TR_EXIT_PRICE]), entry_fee=float(row[L.TR_ENTRY_FEE]),
            exit_fee=float(row[L.TR_EXIT_FEE]), interest=float(row[L.TR_INTEREST]),
            interest_units=float(row[L.TR_INTEREST_UNITS]), interest_charges=int(row[L.TR_CHARGES]),
            funding=float(row[L.TR_FUNDING]), pnl=float(row[L.TR_PNL]),
            exit_reason=L.EXIT_NAMES[int(row[L.TR_REASON])],
            liquidation_price=float(row[L.TR_LIQUIDATION_PRICE]), margin=float(row[L.TR_MARGIN]),
            borrowed=float(row[L.TR_BORROWED]), continues=bool(row[L.TR_CONTINUES]),
        ))
    return tuple(trades)


def calls_from_rows(rows: FloatArray, bars: Bars) -> tuple[MarginCall, ...]:
    """Turn the kernel's margin-call matrix rows into :class:`MarginCall` records."""
    return tuple(
        MarginCall(time=bars.time_of(int(row[L.MC_BAR])), price=float(row[L.MC_PRICE]),
                   side="long" if row[L.MC_SIDE] > 0 else "short", quantity=float(row[L.MC_QUANTITY]),
                   trade=int(row[L.MC_TRADE]))
        for row in rows
    )
