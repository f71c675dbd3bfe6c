"""The Capital Loss Carryover Worksheet (Schedule D instructions), line by line.

The engine reports the carryover it computed; this module recomputes the worksheet's lines
so that a preparer can see how the figure arises, and so that a difference between the two
is shown instead of hidden. Formulas: spec/us-tax-rules.md section 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marginbook.domain.numbers import ZERO


@dataclass(frozen=True, slots=True)
class CarryoverWorksheet:
    """Lines 1-13 of the worksheet (``None`` where the worksheet skips a line).

    Attributes:
        lines: line number (``"1"`` ... ``"13"``) -> amount, in the worksheet's order.
        short_term_carryover: line 8, the short-term loss carried to next year.
        long_term_carryover: line 13, the long-term loss carried to next year.
        taxable_income_assumed: True when line 1 was not given and taken as zero or more
            (then line 4 equals line 2, which holds whenever taxable income is not negative).
    """

    lines: dict[str, Decimal | None]
    short_term_carryover: Decimal
    long_term_carryover: Decimal
    taxable_income_assumed: bool


def carryover_worksheet(
    line_7: Decimal, line_15: Decimal, line_21: Decimal, taxable_income: Decimal | None
) -> CarryoverWorksheet:
    """Run the worksheet on this year's Schedule D.

    Args:
        line_7: net short-term gain or loss (Schedule D line 7).
        line_15: net long-term gain or loss (line 15).
        line_21: the deducted loss (line 21, negative or zero).
        taxable_income: Form 1040 taxable income of the year (worksheet line 1), or ``None``.

    Returns:
        The worksheet lines and the two carryovers.
    """
    assumed = taxable_income is None
    l2 = abs(line_21)
    l1 = taxable_income if taxable_income is not None else ZERO
    l3 = max(ZERO, l1 + l2)
    l4 = min(l2, l3)
    lines: dict[str, Decimal | None] = {"1": taxable_income, "2": l2, "3": l3, "4": l4}
    short = ZERO
    l5 = ZERO
    if line_7 < 0:
        l5 = abs(line_7)
        l6 = max(ZERO, line_15)
        l7 = l4 + l6
        short = max(ZERO, l5 - l7)
        lines.update({"5": l5, "6": l6, "7": l7, "8": short})
    else:
        lines.update({"5": None, "6": None, "7": None, "8": None})
    long = ZERO
    if line_15 < 0:
        l9 = abs(line_15)
        l10 = max(ZERO, line_7)
        l11 = max(ZERO, l4 - l5)
        l12 = l10 + l11
        long = max(ZERO, l9 - l12)
        lines.update({"9": l9, "10": l10, "11": l11, "12": l12, "13": long})
    else:
        lines.update({"9": None, "10": None, "11": None, "12": None, "13": None})
    return CarryoverWorksheet(lines, short, long, assumed)
