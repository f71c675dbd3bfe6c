"""The holding period: when a lot becomes long-term (rules spec 1.4).

Long-term means held *more than* one year, counting from the day after acquisition and
including the day of disposal (Form 8949 instructions, Pub 544). So a lot bought on
2024-03-01 is short-term through 2025-03-01 and long-term from 2025-03-02. Counting days
(``days > 365``) is wrong across February 29 and is never used here.

Dates are calendar dates in the taxpayer's time zone (profile ``timezone``).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from marginbook.tax.profile import MonthEndRule

_ONE_DAY = timedelta(days=1)
_NO_OFFSET = timedelta(0)


class Term(StrEnum):
    """Short-term or long-term (Form 8949 Part I or Part II)."""

    SHORT = "short"
    LONG = "long"


def _is_last_day_of_month(day: date) -> bool:
    return (day + _ONE_DAY).month != day.month


@lru_cache(maxsize=65_536)
def first_long_term_day(acquired: date, rule: MonthEndRule = MonthEndRule.THIRTEENTH_MONTH) -> date:
    """The first disposal date on which a lot acquired on ``acquired`` is long-term.

    Normally the day after the same calendar date one year later. For an acquisition on the
    last day of a month under Rev. Rul. 66-7 (the default), the first day of the thirteenth
    month after: 2024-02-29 → 2025-03-01, 2023-02-28 → 2024-03-01. Under ``ANNIVERSARY``
    only February 29 needs care (its anniversary is taken as February 28).

    Args:
        acquired: the acquisition date (taxpayer's zone).
        rule: the last-day-of-month convention.
    """
    if rule is MonthEndRule.THIRTEENTH_MONTH and _is_last_day_of_month(acquired):
        month = acquired.month + 1
        year = acquired.year + 1 + (month > 12)
        return date(year, (month - 1) % 12 + 1, 1)
    next_year = acquired.year + 1
    day = min(acquired.day, calendar.monthrange(next_year, acquired.month)[1])
    return date(next_year, acquired.month, day) + timedelta(days=1)


def term_of(acquired: date, disposed: date, rule: MonthEndRule = MonthEndRule.THIRTEENTH_MONTH) -> Term:
    """``LONG`` when the lot was held more than one year at ``disposed``, else ``SHORT``."""
    return Term.LONG if disposed >= first_long_term_day(acquired, rule) else Term.SHORT


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date of a UTC instant in the taxpayer's zone."""
    if zone.key == "UTC" and moment.utcoffset() == _NO_OFFSET:
        return moment.date()
    return moment.astimezone(zone).date()
