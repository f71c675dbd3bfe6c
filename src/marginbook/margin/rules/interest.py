"""When interest is charged on a margin loan, and how much: plain functions of numbers.

Times are integer seconds since the Unix epoch (UTC). A loan open from ``start`` to ``end``
is charged at a sequence of instants; each charge is ``principal · rate per charge``
(simple interest on the principal, as the venues charge it).

- Binance spot margin ("Margin Interest Rate", hourly interest): the first hour is charged
  at the moment of borrowing, then one hour at every full clock hour while the loan is
  open. Venue example: 1,000 USDC at 0.001 %/h from 13:20 to 14:15 → 2 hours → 0.02 USDC.
- Kraken margin ("Margin fees"): an opening fee when the position opens, then a rollover
  fee every further 4 hours it stays open, counted from the opening time.

A loan repaid exactly at a charge instant is not charged at that instant: the instant must
fall strictly before ``end``. Everything here compiles with ``numba.njit``.
"""

from __future__ import annotations

HOUR = 3600
FOUR_HOURS = 4 * HOUR
DAY = 24 * HOUR


def charges_count(start: int, end: int, period: int, clock_aligned: bool, charge_at_open: bool) -> int:
    """How many charges a loan open from ``start`` to ``end`` (epoch seconds) incurs.

    Args:
        start: when the loan was taken.
        end: when it was repaid (or the time of the question).
        period: seconds between charges (3600 for hourly, 14400 for Kraken rollovers).
        clock_aligned: ``True`` when charges fall on multiples of ``period`` since the epoch
            (Binance's full clock hours); ``False`` when they fall every ``period`` after
            ``start`` (Kraken's rollovers).
        charge_at_open: ``True`` when one charge falls at ``start`` itself.

    Returns:
        The number of charge instants in ``[start, end)`` (``start`` only when
        ``charge_at_open``); at least 1 when ``charge_at_open``.
    """
    count = 1 if charge_at_open else 0
    if end <= start:
        return count
    first = (start // period + 1) * period if clock_aligned else start + period
    if first < end:
        count += (end - first + period - 1) // period
    return count


def charge_time(start: int, period: int, clock_aligned: bool, charge_at_open: bool, index: int) -> int:
    """The instant (epoch seconds) of the ``index``-th charge (0-based) of a loan taken at ``start``."""
    if charge_at_open:
        if index == 0:
            return start
        index -= 1
    first = (start // period + 1) * period if clock_aligned else start + period
    return first + index * period


def rate_per_charge(rate: float, rate_period: int, charge_period: int) -> float:
    """Convert a rate quoted per ``rate_period`` seconds to the rate of one ``charge_period`` charge.

    Binance quotes a daily rate and charges hourly: ``daily / 24`` per hour.
    """
    return rate * charge_period / rate_period


def simple_interest(principal: float, rate: float, charges: int) -> float:
    """Interest of ``charges`` charges at ``rate`` each on ``principal``."""
    return principal * rate * charges


def binance_hours_charged(start: int, end: int) -> int:
    """Hours of interest Binance charges for a loan from ``start`` to ``end`` (epoch seconds)."""
    return charges_count(start, end, HOUR, True, True)


def kraken_rollovers(start: int, end: int) -> int:
    """Kraken rollover fees (after the opening fee) for a position open from ``start`` to ``end``."""
    return charges_count(start, end, FOUR_HOURS, False, False)


def kraken_margin_fees(
    principal: float, opening_rate: float, rollover_rate: float, start: int, end: int
) -> float:
    """Kraken's opening fee plus every rollover fee on the amount lent, ``start`` to ``end``."""
    return principal * (opening_rate + rollover_rate * kraken_rollovers(start, end))
