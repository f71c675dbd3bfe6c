"""A tax year's report: the engine's facts turned into forms, with carryovers chained.

:func:`compute_tax_report` runs the engine once over the ledger up to the end of the year,
then walks the tax years from the ledger's first to the requested one, each year's capital
loss carryover and disallowed investment interest feeding the next (starting from the
profile's ``[carryover]``), and returns the requested year's :class:`TaxReport`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from marginbook.domain.numbers import ZERO, cents, decimal_context
from marginbook.domain.prices import PriceSource
from marginbook.tax.book import WALLET_RULES_START, AllocationRow
from marginbook.tax.engine import EngineResult, RunOptions, ShortSale, gc_paused, run_engine
from marginbook.tax.events import TaxEvent
from marginbook.tax.form4952 import Form4952, form_4952
from marginbook.tax.form8949 import BoxAmounts, Form8949Row, RowMaker, box_amounts
from marginbook.tax.holding import Term, local_date
from marginbook.tax.lots import Lot
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile, TaxpayerKind
from marginbook.tax.progress import report as report_progress
from marginbook.tax.records import Disposal, Expense, GiftItem, IncomeItem
from marginbook.tax.schedule_d import ScheduleD, schedule_d


@dataclass(frozen=True, slots=True)
class CarryIn:
    """What a year starts with from the year before (positive amounts)."""

    short_term: Decimal
    long_term: Decimal
    investment_interest: Decimal


@dataclass(frozen=True, slots=True)
class ScheduleC:
    """A trader's business figures (interest and fees go here instead of Form 4952)."""

    interest: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class TaxReport:
    """Everything marginbook reports for one tax year.

    Attributes:
        year, method, scope: what was computed and how (``method`` is the run's method:
            ``--method``, else the profile's for the year, else ``fifo``).
        rows: Form 8949 rows.
        schedule_d: Schedule D.
        form_4952: Form 4952 (a trader's interest is on Schedule C instead).
        schedule_c: a trader's interest and fees, else ``None``.
        carryover_in: what the year started with.
        income, gifts: the year's income items and gifts / donations.
        expenses: the year's interest and fees paid.
        warnings: everything a person must look at.
        allocation: the 2025-01-01 allocation the run used (empty when it did not apply).
        open_lots: ``(wallet, lot)`` held at the end of the year.
        open_shorts: short sales still open at the end of the year.
        profile: the profile used.
    """

    year: int
    method: Method
    scope: str
    rows: list[Form8949Row]
    schedule_d: ScheduleD
    form_4952: Form4952
    schedule_c: ScheduleC | None
    carryover_in: CarryIn
    income: list[IncomeItem]
    gifts: list[GiftItem]
    expenses: list[Expense]
    warnings: list[str]
    allocation: list[AllocationRow]
    open_lots: list[tuple[str, Lot]]
    open_shorts: list[ShortSale]
    profile: Profile

    def totals(self, term: Term) -> Decimal:
        """Sum of column (h) over the year's rows of one term."""
        return sum((row.gain for row in self.rows if row.term is term), ZERO)


def year_end(year: int, profile: Profile) -> datetime:
    """The first instant after ``year`` in the taxpayer's zone, in UTC."""
    return datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=profile.zone()).astimezone(UTC)


def compute_tax_report(
    events: Iterable[TaxEvent],
    year: int,
    profile: Profile,
    prices: PriceSource | None = None,
    options: RunOptions | None = None,
) -> TaxReport:
    """Compute the report of ``year`` from the ledger's events (in ledger order).

    Events after the year are ignored; earlier years are computed to chain the carryovers.
    """
    options = options or RunOptions()
    run = RunOptions(
        scope=options.scope,
        method=options.method,
        allow_missing_basis=options.allow_missing_basis,
        allocation=options.allocation,
        allocation_made_at=options.allocation_made_at,
        end=year_end(year, profile),
        summarize_before=year,
    )
    result = run_engine(events, profile, prices, run)
    with decimal_context():
        return build_report(result, year, profile, run)


def _by_year(items: Iterable[Disposal], profile: Profile) -> dict[int, list[Disposal]]:
    zone = profile.zone()
    grouped: defaultdict[int, list[Disposal]] = defaultdict(list)
    for item in items:
        grouped[local_date(item.disposed_at, zone).year].append(item)
    return grouped


def build_report(result: EngineResult, year: int, profile: Profile, options: RunOptions) -> TaxReport:
    """Turn the engine's facts into the forms of ``year``, chaining carryovers from the first year.

    The earlier years only pass their carryovers on, so their rows are summed per box
    without being built (:func:`build_reports` with ``rows_from``).
    """
    return build_reports(result, year, profile, options, rows_from=year)[year]


def build_reports(
    result: EngineResult,
    last_year: int,
    profile: Profile,
    options: RunOptions,
    *,
    rows_from: int | None = None,
) -> dict[int, TaxReport]:
    """The report of every year from the ledger's first to ``last_year``, in one pass.

    Each year's capital loss and investment interest carryovers feed the next year. The
    holdings and open short sales of every report are those at the end of the run.

    Args:
        result, last_year, profile, options: the engine's facts and how they were computed.
        rows_from: the reports of years before this one have no ``rows`` (and no row
            warnings): their Schedule D is computed from the rows' totals per box, which
            are the same figures at a fraction of the cost. ``None``: every year's rows.
    """
    with gc_paused():
        return _build_reports(result, last_year, profile, options, rows_from)


def _build_reports(
    result: EngineResult, last_year: int, profile: Profile, options: RunOptions, rows_from: int | None
) -> dict[int, TaxReport]:
    zone = profile.zone()
    disposals = _by_year(result.disposals, profile)
    expenses: defaultdict[int, list[Expense]] = defaultdict(list)
    for expense in result.expenses:
        expenses[local_date(expense.paid_at, zone).year].append(expense)
    summarized = result.box_totals
    first_year = min([*disposals, *expenses, *summarized, last_year])
    carry = CarryIn(
        profile.carryover.short_term, profile.carryover.long_term, profile.carryover.investment_interest
    )
    reports: dict[int, TaxReport] = {}
    for year in range(first_year, last_year + 1):
        report_progress(f"forms of {year}")
        rows: list[Form8949Row] = []
        amounts: list[Form8949Row] | list[BoxAmounts] = rows
        if year in summarized:
            if rows_from is None or year >= rows_from:
                raise ValueError(f"the rows of {year} were summarized by the engine (summarize_before)")
            amounts = summarized[year]
        elif rows_from is not None and year < rows_from:
            amounts = box_amounts(disposals.get(year, ()), year, profile, zone, profile.month_end)
        else:
            make = RowMaker(year, profile, zone, profile.month_end).rows
            for disposal in disposals.get(year, ()):
                rows.extend(make(disposal))
        sched, f4952, schedule_c = _forms(amounts, year, carry, expenses.get(year, []), profile)
        reports[year] = TaxReport(
            year=year,
            method=options.method or profile.year(year).method or Method.FIFO,
            scope=options.scope.value,
            rows=rows,
            schedule_d=sched,
            form_4952=f4952,
            schedule_c=schedule_c,
            carryover_in=carry,
            income=[i for i in result.income if local_date(i.received_at, zone).year == year],
            gifts=[g for g in result.gifts if local_date(g.given_at, zone).year == year],
            expenses=expenses.get(year, []),
            warnings=_warnings(result, rows, year, profile, options),
            allocation=result.allocation,
            open_lots=result.open_lots,
            open_shorts=result.open_shorts,
            profile=profile,
        )
        carry = CarryIn(sched.carryover.short_term, sched.carryover.long_term, f4952.line_7)
    return reports


def _forms(
    rows: Sequence[Form8949Row | BoxAmounts],
    year: int,
    carry: CarryIn,
    expenses: list[Expense],
    profile: Profile,
) -> tuple[ScheduleD, Form4952, ScheduleC | None]:
    """Schedule D, Form 4952 and a trader's Schedule C figures of one year."""
    settings = profile.year(year)
    sched = schedule_d(
        rows,
        short_term_carryover=carry.short_term,
        long_term_carryover=carry.long_term,
        other_short_term=settings.other_short_term_gain,
        other_long_term=settings.other_long_term_gain,
        section_1256=settings.section_1256_gain,
        taxable_income=settings.taxable_income,
        profile=profile,
    )
    interest = sum((e.usd_amount for e in expenses if e.category == "interest"), ZERO)
    fees = sum((e.usd_amount for e in expenses if e.category == "fee"), ZERO)
    trader = profile.kind is TaxpayerKind.TRADER
    short_net, long_net = _net_gains(sched, profile.form_4952_4d_includes_carryover)
    f4952 = form_4952(
        interest_paid=ZERO if trader else interest,
        carried_in=carry.investment_interest,
        investment_income=settings.investment_income,
        qualified_dividends=settings.qualified_dividends,
        net_short_term=short_net,
        net_long_term=long_net,
        elect_4g=settings.elect_4g,
        investment_expenses=settings.investment_expenses,
    )
    return sched, f4952, ScheduleC(cents(interest), cents(fees)) if trader else None


def _warnings(
    result: EngineResult, rows: list[Form8949Row], year: int, profile: Profile, options: RunOptions
) -> list[str]:
    warnings = list(result.warnings)
    flagged = sum(1 for row in rows if row.warnings)
    if flagged:
        warnings.append(f"{flagged} Form 8949 row(s) of {year} carry warnings (see each row)")
    if result.open_shorts:
        warnings.append(
            f"{len(result.open_shorts)} short sale(s) still open at the end of the run: no gain is realized "
            "until the borrowed coins are repaid"
        )
    if options.allocation and result.allocation:
        from marginbook.tax.allocation import allocation_deadline_warning

        first = next((d.disposed_at for d in result.disposals if d.disposed_at >= WALLET_RULES_START), None)
        note = allocation_deadline_warning(options.allocation_made_at, first, profile)
        if note:
            warnings.append(note)
    return warnings


def _net_gains(sched: ScheduleD, include_carryover: bool) -> tuple[Decimal, Decimal]:
    """Net short- and long-term gain from dispositions for Form 4952 line 4d."""
    short = sched.line_7 - (ZERO if include_carryover else sched.line_6)
    long = sched.line_15 - (ZERO if include_carryover else sched.line_14)
    return short, long


def row_totals(rows: Sequence[Form8949Row]) -> dict[str, Decimal]:
    """Totals of a set of rows (used by tests and the table view)."""
    return {
        "proceeds": sum((r.proceeds for r in rows), ZERO),
        "cost_basis": sum((r.cost_basis for r in rows), ZERO),
        "adjustment": sum((r.adjustment for r in rows), ZERO),
        "gain": sum((r.gain for r in rows), ZERO),
    }
