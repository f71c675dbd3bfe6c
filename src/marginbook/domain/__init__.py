"""Pure value types shared by every part of marginbook: events, numbers, errors.

Nothing here does I/O or imports a third-party library, so every other part may depend on it.
The names below are imported from their modules on first use: importing
``marginbook.domain.errors`` (every command module may) does not build the event types.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULE_OF = {
    "InputError": "errors",
    "InputProblem": "errors",
    "MarginbookError": "errors",
    "AMOUNT_MAY_BE_NEGATIVE": "events",
    "TRADE_KINDS": "events",
    "EventKind": "events",
    "LedgerEvent": "events",
    "LotPick": "events",
    "Origin": "events",
    "ZERO": "numbers",
    "D": "numbers",
    "cents": "numbers",
    "decimal_context": "numbers",
    "plain": "numbers",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
