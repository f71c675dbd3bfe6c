"""The Capital Loss Carryover Worksheet (Schedule D instructions; rules spec 4).

Only a loss beyond what the year's $3,000 (or $1,500) deduction absorbed is carried, the
deduction absorbing the short-term loss first, and each part keeps its character.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marginbook.domain.numbers import ZERO


@dataclass(frozen=True, slots=True)
class CapitalLossCarryover:
    """Losses carried to the next year (positive amounts)."""

    short_term: Decimal = ZERO
    long_term: Decimal = ZERO


def capital_loss_carryover(
    line_7: Decimal, line_15: Decimal, line_21: Decimal, taxable_income: Decimal | None
) -> CapitalLossCarryover:
    """Run the worksheet for one year.

    Args:
        line_7, line_15: Schedule D net short- and long-term (carryovers included).
        line_21: the deductible loss (negative or zero).
        taxable_income: that year's Form 1040 taxable income (may be negative); ``None`` when
            not given, which is read as zero: the whole deduction counted as used.

    Returns:
        The short- and long-term losses carried to the next year.
    """
    if line_21 >= 0 and line_7 >= 0 and line_15 >= 0:
        return CapitalLossCarryover()
    l1 = taxable_income if taxable_income is not None else ZERO
    l2 = -line_21
    l3 = max(ZERO, l1 + l2)
    l4 = min(l2, l3)
    short_term = ZERO
    l5 = ZERO
    if line_7 < 0:
        l5 = -line_7
        l6 = max(ZERO, line_15)
        l7 = l4 + l6
        short_term = max(ZERO, l5 - l7)
    long_term = ZERO
    if line_15 < 0:
        l9 = -line_15
        l10 = max(ZERO, line_7)
        l11 = max(ZERO, l4 - l5)
        l12 = l10 + l11
        long_term = max(ZERO, l9 - l12)
    return CapitalLossCarryover(short_term, long_term)
