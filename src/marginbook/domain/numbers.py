"""Exact decimal helpers.

Every quantity and USD amount in marginbook is a :class:`decimal.Decimal` built from a string.
Floats are refused at this boundary because a binary float cannot hold ``0.1`` exactly, and a
lot that does not reconcile to the smallest unit is a wrong tax return.

Python's default context keeps 28 significant digits; an 18-decimal quantity on a balance of
billions needs more, so arithmetic that may grow runs inside :func:`decimal_context`.
"""

from __future__ import annotations

import decimal
from contextlib import AbstractContextManager
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
CENT = Decimal("0.01")

#: Precision wide enough for 18 decimal places on amounts up to 10**40.
PRECISION = 60

_CONTEXT = decimal.Context(prec=PRECISION, rounding=ROUND_HALF_UP, traps=[
    decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow,
])


def decimal_context() -> AbstractContextManager[decimal.Context]:
    """Return a context manager that computes with :data:`PRECISION` significant digits."""
    return decimal.localcontext(_CONTEXT)


def D(value: str | int | Decimal) -> Decimal:
    """Build an exact decimal from a string, an int or a Decimal; refuse floats.

    Raises:
        TypeError: for a float (or anything else), which would carry binary rounding error.
        ValueError: for a string that is not a finite decimal number.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"exact decimals are built from str or int, not {type(value).__name__}")
    else:
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except decimal.InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite decimal number: {value!r}")
    return result


def plain(value: Decimal) -> str:
    """Write a decimal without exponent or trailing zeros: ``0.1``, ``1000``, ``-0.000000000000000001``."""
    if value == 0:
        return "0"
    text = format(value.normalize(_CONTEXT), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def cents(value: Decimal) -> Decimal:
    """Round a USD amount to the cent, half-up, as form-facing figures are written."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=_CONTEXT)
