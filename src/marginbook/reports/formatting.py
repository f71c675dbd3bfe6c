"""How figures and dates are written on the forms and in the exports.

The IRS forms want dates as ``MM/DD/YYYY`` and negative amounts in parentheses; software
imports want plain numbers. Each rule lives here once, so that a test can check it once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marginbook.domain.numbers import cents
from marginbook.reports.document import VARIOUS


def form_amount(value: Decimal) -> str:
    """A USD amount as printed on a form: ``1,500.00``; a negative one as ``(250.00)``."""
    rounded = cents(value)
    text = f"{abs(rounded):,.2f}"
    return f"({text})" if rounded < 0 else text


def form_magnitude(value: Decimal) -> str:
    """A loss on a line whose parentheses the form already prints (Schedule D 6, 14, 21): ``3,000.00``."""
    return f"{abs(cents(value)):,.2f}"


def plain_amount(value: Decimal) -> str:
    """A USD amount for software: ``-250.00``, no thousands separator."""
    return f"{cents(value):.2f}"


def form_date(value: str) -> str:
    """``2025-08-01`` as ``08/01/2025``; ``VARIOUS`` and an empty date stay as they are."""
    if not value or value.upper() == VARIOUS:
        return value.upper()
    day = date.fromisoformat(value[:10])
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"
