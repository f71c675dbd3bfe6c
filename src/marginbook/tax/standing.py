"""Where a tax run leaves the taxpayer: the basis still held per pool, and the gain realized per year.

The portfolio view asks two questions the tax engine already answers: what did the units
still held cost (the open lots after the run, in the pools of the run's scope), and how much
was realized each year (the Form 8949 rows of that year). Answering them here, from one
engine run, keeps a single source of truth: the dashboard's figures are the forms' figures.

Nothing here changes how the engine computes; it only reads an :class:`EngineResult` and the
reports built from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marginbook.domain.numbers import ZERO, decimal_context
from marginbook.domain.prices import PriceSource
from marginbook.tax.engine import RunOptions, run_engine
from marginbook.tax.events import TaxEvent
from marginbook.tax.holding import local_date
from marginbook.tax.lots import Lot
from marginbook.tax.profile import Profile
from marginbook.tax.report import TaxReport, build_reports

#: The kinds of ledger event whose ordinary-treatment amounts are realized trading results.
PNL_KINDS = frozenset({"realized_pnl", "funding"})


@dataclass(frozen=True, slots=True)
class HeldBasis:
    """The open lots of one pool, summed.

    Attributes:
        quantity: units in the pool's open lots.
        basis: their remaining basis in USD (exact; missing-basis lots count as zero).
        basis_missing: some of those units came without a known basis.
        lots: how many open lots.
    """

    quantity: Decimal
    basis: Decimal
    basis_missing: bool
    lots: int


@dataclass(frozen=True, slots=True)
class Standing:
    """One engine run's answer to the portfolio's questions.

    Attributes:
        held: ``(wallet, asset)`` → the pool's open lots; the wallet is ``""`` for a
            universal pool (one per asset: ``--scope universal``, or a transition run that
            ended before 2025).
        realized_by_year: per tax year, the sum of column (h) of its Form 8949 rows plus
            realized P&L and funding taxed as ordinary (income minus losses paid).
        reports: every year's :class:`TaxReport` from the first year with facts to the last.
        warnings: the last year's report warnings (the run's, and a count of its 8949 rows
            that carry warnings, such as a zero basis used for units without basis).
    """

    held: dict[tuple[str, str], HeldBasis]
    realized_by_year: dict[int, Decimal]
    reports: dict[int, TaxReport]
    warnings: tuple[str, ...]


def held_by_pool(open_lots: Iterable[tuple[str, Lot]]) -> dict[tuple[str, str], HeldBasis]:
    """Sum the open lots per ``(wallet, asset)`` pool (``""`` wallet: a universal pool)."""
    totals: dict[tuple[str, str], HeldBasis] = {}
    with decimal_context():
        for wallet, lot in open_lots:
            key = (wallet, lot.asset)
            before = totals.get(key, HeldBasis(ZERO, ZERO, False, 0))
            totals[key] = HeldBasis(
                before.quantity + lot.quantity,
                before.basis + lot.basis,
                before.basis_missing or lot.basis_missing,
                before.lots + 1,
            )
    return totals


def realized_of(report: TaxReport) -> Decimal:
    """A year's realized result: its 8949 gains, plus P&L and funding taxed as ordinary.

    Capital-treatment ``realized_pnl`` and ``funding`` events are already 8949 rows; under the
    ordinary treatment they are income (a gain) or an ``ordinary_loss`` expense (a loss).
    """
    gains = sum((row.gain for row in report.rows), ZERO)
    ordinary_in = sum((item.usd_value for item in report.income if item.kind in PNL_KINDS), ZERO)
    ordinary_out = sum((e.usd_amount for e in report.expenses if e.category == "ordinary_loss"), ZERO)
    return gains + ordinary_in - ordinary_out


def realized_by_year(reports: Mapping[int, TaxReport]) -> dict[int, Decimal]:
    """:func:`realized_of` for every report."""
    with decimal_context():
        return {year: realized_of(report) for year, report in sorted(reports.items())}


def run_standing(
    events: Iterable[TaxEvent],
    profile: Profile,
    prices: PriceSource | None,
    options: RunOptions,
    last_year: int,
) -> Standing:
    """Run the engine once and read the held basis and each year's realized result.

    Args:
        events: the ledger's events in ledger order.
        profile: the taxpayer profile (its lot method per year).
        prices: fair-market-value source for events without ``usd_value``.
        options: the run's scope, method override, missing-basis policy and ``end``; the open
            lots are those at ``end`` (a transition run whose ``end`` is after 2025-01-01 ends
            with wallet pools).
        last_year: the last tax year to report (the year of ``end``).

    Raises:
        MissingBasisError, MissingPriceError: what the engine raises.
    """
    result = run_engine(events, profile, prices, options)
    with decimal_context():
        reports = build_reports(result, last_year, profile, options)
    return Standing(
        held=held_by_pool(result.open_lots),
        realized_by_year=realized_by_year(reports),
        reports=reports,
        warnings=tuple(reports[last_year].warnings) if last_year in reports else tuple(result.warnings),
    )


def tax_year_of(moment: datetime, profile: Profile) -> int:
    """The tax year of an instant in the taxpayer's zone."""
    return local_date(moment, profile.zone()).year


__all__ = [
    "PNL_KINDS",
    "HeldBasis",
    "Standing",
    "held_by_pool",
    "realized_by_year",
    "realized_of",
    "run_standing",
    "tax_year_of",
]
