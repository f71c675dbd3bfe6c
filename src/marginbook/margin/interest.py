"""``marginbook interest``: what a margin loan costs over a span, charge by charge, exactly.

When the venue charges comes from the rule functions (:mod:`marginbook.margin.rules.interest`);
how much is exact decimal arithmetic on the principal and the rate given (rates are
fractions per ``hour``, ``day`` or ``4h``).

- ``binance-margin``: hourly, the first hour at borrowing, then every full clock hour.
- ``kraken-margin``: an opening fee at opening, then a rollover every 4 hours after it
  (both at the rate given, per 4 hours).
- ``generic``: one charge at the start of every rate period begun.
Futures venues lend nothing (perpetuals pay funding), so they are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.numbers import decimal_context
from marginbook.margin import rules
from marginbook.margin.ledger import QUANTUM

RATE_PERIODS = {"hour": rules.HOUR, "day": rules.DAY, "4h": rules.FOUR_HOURS}

#: (charge period, clock aligned, charge at open) per venue.
SCHEDULES: dict[str, tuple[int | None, bool, bool]] = {
    "binance-margin": (rules.HOUR, True, True),
    "kraken-margin": (rules.FOUR_HOURS, False, True),
    "generic": (None, False, True),
}


@dataclass(frozen=True, slots=True)
class InterestResult:
    """A loan's interest: total, number of charges, and each charge."""

    interest: Decimal
    periods_charged: int
    schedule: list[tuple[datetime, Decimal]]


def loan_interest(
    venue: str, principal: Decimal, rate: Decimal, rate_period: str, start: datetime, end: datetime
) -> InterestResult:
    """Interest on ``principal`` at ``rate`` per ``rate_period``, borrowed ``start``, repaid ``end``."""
    if venue not in SCHEDULES:
        known = ", ".join(SCHEDULES)
        raise InputError(
            InputProblem("--venue", None, "", f"{venue} lends nothing to charge interest on; use {known}")
        )
    if rate_period not in RATE_PERIODS:
        raise InputError(InputProblem("--rate-period", None, "", "must be hour, day or 4h"))
    problems = []
    if principal <= 0:
        problems.append(InputProblem("--principal", None, "", "must be positive"))
    if rate < 0:
        problems.append(
            InputProblem("--rate", None, "", "must not be negative (a fraction: 0.0002 = 0.02 %)")
        )
    if end < start:
        problems.append(InputProblem("--to", None, "", "must not be before --from"))
    if problems:
        raise InputError(problems)
    period, aligned, at_open = SCHEDULES[venue]
    rate_seconds = RATE_PERIODS[rate_period]
    charge_seconds = period if period is not None else rate_seconds
    begin, finish = int(start.timestamp()), int(end.timestamp())
    count = rules.charges_count(begin, finish, charge_seconds, aligned, at_open)
    with decimal_context():
        per_charge = (principal * rate * charge_seconds / rate_seconds).quantize(QUANTUM)
        schedule = [
            (
                datetime.fromtimestamp(rules.charge_time(begin, charge_seconds, aligned, at_open, i), UTC),
                per_charge,
            )
            for i in range(count)
        ]
        total = per_charge * count
    return InterestResult(interest=total, periods_charged=count, schedule=schedule)
