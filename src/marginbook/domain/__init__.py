"""Pure value types shared by every part of marginbook: events, numbers, errors.

Nothing here does I/O or imports a third-party library, so every other part may depend on it.
"""

from marginbook.domain.errors import InputError, InputProblem, MarginbookError
from marginbook.domain.events import (
    AMOUNT_MAY_BE_NEGATIVE,
    TRADE_KINDS,
    EventKind,
    LedgerEvent,
    LotPick,
    Origin,
)
from marginbook.domain.numbers import ZERO, D, cents, decimal_context, plain

__all__ = [
    "AMOUNT_MAY_BE_NEGATIVE",
    "TRADE_KINDS",
    "ZERO",
    "D",
    "EventKind",
    "InputError",
    "InputProblem",
    "LedgerEvent",
    "LotPick",
    "MarginbookError",
    "Origin",
    "cents",
    "decimal_context",
    "plain",
]
