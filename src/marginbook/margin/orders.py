"""Orders and the orders file of ``marginbook paper``.

The file is CSV ``timestamp,side,type,quantity[,price][,stop_price][,trail][,leverage][,position]``
(spec/cli.md). ``side`` is ``buy`` or ``sell``; ``type`` one of ``market``, ``limit``,
``stop``, ``take_profit``, ``trailing_stop``. An order is live from its timestamp: it can
first fill in the first bar that opens at or after that time (the price inside an earlier
bar at that moment is unknown).

Which fields each type needs: ``limit`` and ``take_profit`` a ``price``; ``stop`` a
``stop_price``; ``trailing_stop`` a ``trail`` — a fraction of the price (``0.05`` = 5 %),
as every rate in marginbook. ``position`` names the position an order belongs to
(default ``main``); one name holds one net position (one-way mode).

Protective orders and brackets: a ``stop``, ``take_profit`` or ``trailing_stop`` on the
opposite side of its position's exposure (open, or pending from an entry order) protects
that position: it waits for the position to open, closes up to its quantity, and all the
protective orders of one position form one one-cancels-other group — when one fills, or
the position closes, the others are cancelled. A ``stop`` with no such exposure is a stop
entry (a breakout order).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from marginbook.domain.errors import InputError, InputProblem
from marginbook.margin.prices import parse_time

OrderType = Literal["market", "limit", "stop", "take_profit", "trailing_stop"]
OrderStatus = Literal["pending", "live", "filled", "cancelled", "rejected"]
ORDER_TYPES: tuple[OrderType, ...] = ("market", "limit", "stop", "take_profit", "trailing_stop")
PROTECTIVE_TYPES = frozenset({"stop", "take_profit", "trailing_stop"})

REQUIRED = ("timestamp", "side", "type", "quantity")
OPTIONAL = ("price", "stop_price", "trail", "leverage", "position")
DEFAULT_POSITION = "main"


@dataclass(slots=True)
class Order:
    """One order of a run.

    Attributes:
        row: the orders-file row (header = 1), for messages.
        at: when it becomes live (UTC).
        epoch: the same in epoch seconds.
        side: +1 buy, −1 sell.
        type: see :data:`OrderType`.
        quantity: base units, exact as written.
        price: limit / take-profit price, ``nan`` when none.
        stop_price: stop trigger, ``nan`` when none.
        trail: trailing fraction, ``nan`` when none.
        leverage: leverage of an entry, ``nan`` = the run's default.
        position: the position name.
        status: lifecycle state.
        protective: decided when the order goes live (see the module docstring).
        trail_level: the current level of a trailing stop (``nan`` until set).
        note: why it was cancelled or rejected.
    """

    row: int
    at: datetime
    epoch: int
    side: int
    type: OrderType
    quantity: Decimal
    price: float = math.nan
    stop_price: float = math.nan
    trail: float = math.nan
    leverage: float = math.nan
    position: str = DEFAULT_POSITION
    status: OrderStatus = "pending"
    protective: bool = False
    trail_level: float = math.nan
    note: str = ""

    @property
    def side_name(self) -> str:
        """``buy`` or ``sell``."""
        return "buy" if self.side > 0 else "sell"


def _positive_float(text: str, field: str, source: str, row: int, problems: list[InputProblem]) -> float:
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        problems.append(InputProblem(source, row, field, f"not a number: {text!r}"))
        return math.nan
    if not value > 0.0 or math.isinf(value):
        problems.append(InputProblem(source, row, field, f"must be positive, got {text}"))
        return math.nan
    return value


def _parse_row(cells: dict[str, str], source: str, row: int, problems: list[InputProblem]) -> Order | None:
    before = len(problems)
    try:
        at = parse_time(cells["timestamp"])
    except ValueError as error:
        problems.append(InputProblem(source, row, "timestamp", str(error)))
        at = None
    side_text = cells["side"].lower()
    if side_text not in ("buy", "sell"):
        problems.append(InputProblem(source, row, "side", f"must be buy or sell, got {cells['side']!r}"))
    type_text = cells["type"].lower()
    if type_text not in ORDER_TYPES:
        problems.append(InputProblem(source, row, "type", f"must be one of {', '.join(ORDER_TYPES)}"))
    quantity = Decimal(0)
    try:
        quantity = Decimal(cells["quantity"])
        if not quantity.is_finite() or quantity <= 0:
            raise InvalidOperation
        if quantity != quantity.quantize(Decimal("1e-8")):
            problems.append(InputProblem(source, row, "quantity", "at most 8 decimal places"))
    except InvalidOperation:
        problems.append(
            InputProblem(source, row, "quantity", f"must be a positive decimal, got {cells['quantity']!r}")
        )
    price = _positive_float(cells.get("price", ""), "price", source, row, problems)
    stop_price = _positive_float(cells.get("stop_price", ""), "stop_price", source, row, problems)
    trail = _positive_float(cells.get("trail", ""), "trail", source, row, problems)
    leverage = _positive_float(cells.get("leverage", ""), "leverage", source, row, problems)
    if type_text in ("limit", "take_profit") and math.isnan(price) and not cells.get("price"):
        problems.append(InputProblem(source, row, "price", f"a {type_text} order needs a price"))
    if type_text == "stop" and math.isnan(stop_price) and not cells.get("stop_price"):
        problems.append(InputProblem(source, row, "stop_price", "a stop order needs a stop_price"))
    if type_text == "trailing_stop":
        if math.isnan(trail) and not cells.get("trail"):
            problems.append(InputProblem(source, row, "trail", "a trailing_stop needs a trail fraction"))
        elif trail >= 1.0:
            problems.append(InputProblem(source, row, "trail", "a fraction below 1 (0.05 = 5 %)"))
    if len(problems) > before or at is None:
        return None
    return Order(
        row=row,
        at=at,
        epoch=int(at.timestamp()),
        side=1 if side_text == "buy" else -1,
        type=type_text,  # type: ignore[arg-type]
        quantity=quantity,
        price=price,
        stop_price=stop_price,
        trail=trail,
        leverage=leverage,
        position=cells.get("position", "") or DEFAULT_POSITION,
    )


def read_orders(path: Path) -> list[Order]:
    """Read an orders file, in time order (ties keep file order); bad rows raise :class:`InputError`."""
    source = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(InputProblem(source, None, "", f"cannot read the file: {error.strerror}")) from None
    problems: list[InputProblem] = []
    orders: list[Order] = []
    with handle:
        reader = csv.reader(handle)
        header = [cell.strip().lower() for cell in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
        if missing or unknown:
            what = (
                f"missing column(s) {', '.join(missing)}"
                if missing
                else f"unknown column(s) {', '.join(unknown)}"
            )
            raise InputError(InputProblem(source, 1, "", what))
        for row_number, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                problems.append(InputProblem(source, row_number, "", "more cells than columns"))
                continue
            cells = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
            order = _parse_row(cells, source, row_number, problems)
            if order is not None:
                orders.append(order)
    if problems:
        raise InputError(problems)
    orders.sort(key=lambda o: o.epoch)
    return orders
