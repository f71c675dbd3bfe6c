"""Form 4952, investment interest expense deduction (§163(d); rules spec 5).

The deduction is limited to net investment income; the rest (line 7) is carried forward
to next year's line 2 indefinitely. Net gain from dispositions counts only in so far as it
is not net capital gain (4f), unless elected on 4g (which then loses the preferential rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marginbook.domain.numbers import ZERO, cents


@dataclass(frozen=True, slots=True)
class Form4952:
    """Lines 1-8 (cents)."""

    line_1: Decimal
    line_2: Decimal
    line_3: Decimal
    line_4a: Decimal
    line_4b: Decimal
    line_4c: Decimal
    line_4d: Decimal
    line_4e: Decimal
    line_4f: Decimal
    line_4g: Decimal
    line_4h: Decimal
    line_5: Decimal
    line_6: Decimal
    line_7: Decimal
    line_8: Decimal


def form_4952(
    *,
    interest_paid: Decimal,
    carried_in: Decimal,
    investment_income: Decimal,
    qualified_dividends: Decimal,
    net_short_term: Decimal,
    net_long_term: Decimal,
    elect_4g: Decimal,
    investment_expenses: Decimal,
) -> Form4952:
    """Compute Form 4952.

    Args:
        interest_paid: line 1, investment interest paid this year.
        carried_in: line 2, last year's line 7.
        investment_income: line 4a (excluding gains).
        qualified_dividends: line 4b.
        net_short_term, net_long_term: net gains from dispositions of investment property,
            by term (negative for a net loss).
        elect_4g: the amount the taxpayer elects to treat as investment income (capped at
            4b + 4e).
        investment_expenses: line 5.
    """
    line_1 = cents(interest_paid)
    line_2 = cents(carried_in)
    line_3 = line_1 + line_2
    line_4a = cents(investment_income)
    line_4b = cents(qualified_dividends)
    line_4c = line_4a - line_4b
    short, long = cents(net_short_term), cents(net_long_term)
    line_4d = max(cents(ZERO), short + long)
    net_capital_gain = max(cents(ZERO), long - max(cents(ZERO), -short))
    line_4e = min(line_4d, net_capital_gain)
    line_4f = line_4d - line_4e
    line_4g = min(cents(elect_4g), line_4b + line_4e)
    line_4h = line_4c + line_4f + line_4g
    line_5 = cents(investment_expenses)
    line_6 = max(cents(ZERO), line_4h - line_5)
    line_7 = max(cents(ZERO), line_3 - line_6)
    line_8 = min(line_3, line_6)
    return Form4952(
        line_1,
        line_2,
        line_3,
        line_4a,
        line_4b,
        line_4c,
        line_4d,
        line_4e,
        line_4f,
        line_4g,
        line_4h,
        line_5,
        line_6,
        line_7,
        line_8,
    )
