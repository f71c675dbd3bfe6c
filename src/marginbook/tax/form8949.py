"""Form 8949 rows: one per disposal and term, with the box its wallet's 1099-DA status gives.

Amounts are rounded here, where they become form-facing: a disposal's proceeds and basis are
split across its lot slices pro rata by units to the cent, the remainder on the last slice
(spec/cli.md), so each row's cents add up exactly to the disposal's rounded total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from marginbook.domain.numbers import ZERO, cents, plain
from marginbook.tax.holding import Term, first_long_term_day, local_date
from marginbook.tax.profile import Form1099DA, MonthEndRule, Profile
from marginbook.tax.records import Disposal, LotSlice

#: Box by (tax year is 2025+, reporting status) and term. Before 2025 the form had A-F only,
#: and digital assets without a 1099-B went to C/F.
_BOXES_2025 = {"basis_reported": ("G", "J"), "gross_only": ("H", "K"), "none": ("I", "L")}
_BOXES_2024 = ("C", "F")
_ZERO_CENTS = cents(ZERO)


class RowLot(NamedTuple):
    """One lot slice on a row: what it contributed (cents) and its acquisition facts."""

    acquisition_id: str
    quantity: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    acquired_at: datetime | None
    basis_missing: bool


class Form8949Row(NamedTuple):
    """One Form 8949 row (one disposal, one term).

    Attributes:
        box: the checkbox of its page (A-L). (Column (a) is the ``description`` property.)
        term: short or long (Part I or Part II).
        asset, wallet, quantity: what was disposed of, where.
        date_acquired: column (b); ``None`` means ``VARIOUS``.
        date_sold: column (c), in the taxpayer's zone.
        proceeds, cost_basis, adjustment, gain: columns (d), (e), (g), (h), in cents.
        adjustment_code: column (f).
        disposal_id, kind: the disposal it reports.
        lots: every lot slice.
        warnings: problems of this row (missing basis, identification ...).
    """

    box: str
    term: Term
    asset: str
    wallet: str
    quantity: Decimal
    date_acquired: date | None
    date_sold: date
    proceeds: Decimal
    cost_basis: Decimal
    adjustment_code: str
    adjustment: Decimal
    gain: Decimal
    disposal_id: str
    kind: str
    lots: tuple[RowLot, ...]
    warnings: tuple[str, ...]

    @property
    def description(self) -> str:
        """Column (a), e.g. ``0.5 BTC`` (made on demand: earlier years' rows never print it)."""
        if self.kind in ("realized_pnl", "funding"):
            return f"{self.asset} {'realized PnL' if self.kind == 'realized_pnl' else 'funding'}"
        return f"{plain(self.quantity)} {self.asset}"


def box_for(term: Term, tax_year: int, disposal: Disposal, profile: Profile) -> str:
    """The Form 8949 box of a disposal (rules spec 3; spec/cli.md "Box choice")."""
    long = term is Term.LONG
    if tax_year <= 2024:
        return _BOXES_2024[long]
    status = "none"
    wallet = profile.wallet(disposal.wallet)
    if disposal.reported_on_1099da and wallet.custodial and wallet.form_1099da is not Form1099DA.NONE:
        status = wallet.form_1099da.value
    return _BOXES_2025[status][long]


def split_cents(total: Decimal, weights: Sequence[Decimal], whole: Decimal) -> list[Decimal]:
    """Split ``total`` (rounded to the cent) pro rata by ``weights``; the last part takes the rest."""
    rounded_total = cents(total)
    if not weights:
        return []
    parts = [cents(total * weight / whole) if whole else ZERO for weight in weights[:-1]]
    parts.append(rounded_total - sum(parts, ZERO))
    return parts


def _basis_cents(slices: Sequence[LotSlice]) -> list[Decimal]:
    exact_total = sum((s.basis for s in slices), ZERO)
    parts = [cents(s.basis) for s in slices[:-1]]
    parts.append(cents(exact_total) - sum(parts, ZERO))
    return parts


def rows_for_disposal(
    disposal: Disposal, tax_year: int, profile: Profile, zone: ZoneInfo, rule: MonthEndRule
) -> list[Form8949Row]:
    """The rows (one per term present) of one disposal."""
    day_of = _day_function(zone)
    slices = disposal.slices
    sold = day_of(disposal.disposed_at)
    if len(slices) == 1:
        proceeds = [cents(disposal.proceeds)]
        bases = [cents(slices[0].basis)]
    else:
        quantities = [s.quantity for s in slices]
        proceeds = split_cents(disposal.proceeds, quantities, sum(quantities, ZERO))
        bases = _basis_cents(slices)
    by_term: dict[Term, list[RowLot]] = {}
    fixed = disposal.term
    for slice_, part_proceeds, part_basis in zip(slices, proceeds, bases, strict=True):
        acquired = slice_.acquired_at
        if fixed is not None:
            term = fixed
        elif acquired is None:
            term = Term.SHORT
        else:
            term = Term.LONG if sold >= first_long_term_day(day_of(acquired), rule) else Term.SHORT
        lot = RowLot(
            slice_.acquisition_id, slice_.quantity, part_proceeds, part_basis, acquired, slice_.basis_missing
        )
        group = by_term.get(term)
        if group is None:
            by_term[term] = [lot]
        else:
            group.append(lot)
    rows = []
    for term in (Term.SHORT, Term.LONG):
        lots = by_term.get(term)
        if lots is None:
            continue
        if len(lots) == 1:
            only = lots[0]
            quantity, row_proceeds, row_basis = only.quantity, only.proceeds, only.cost_basis
            acquired_day = day_of(only.acquired_at) if only.acquired_at is not None else None
        else:
            quantity = sum([lot.quantity for lot in lots], ZERO)
            row_proceeds = sum([lot.proceeds for lot in lots], ZERO)
            row_basis = sum([lot.cost_basis for lot in lots], ZERO)
            acquired_day = None
        rows.append(
            Form8949Row(
                box_for(term, tax_year, disposal, profile),
                term,
                disposal.asset,
                disposal.wallet,
                quantity,
                acquired_day,
                sold,
                row_proceeds,
                row_basis,
                "",
                _ZERO_CENTS,
                row_proceeds - row_basis,
                disposal.disposal_id,
                disposal.kind,
                tuple(lots),
                disposal.warnings,
            )
        )
    return rows


class BoxAmounts(NamedTuple):
    """The column totals of some rows of one box (what Schedule D reads of a row).

    A year whose rows are never shown (an earlier year of the carryover chain) needs only
    these, so :func:`box_amounts` sums them without building the rows.
    """

    box: str
    proceeds: Decimal
    cost_basis: Decimal
    adjustment: Decimal
    gain: Decimal


def box_amounts(
    disposals: Iterable[Disposal], tax_year: int, profile: Profile, zone: ZoneInfo, rule: MonthEndRule
) -> list[BoxAmounts]:
    """Per box, the totals of the rows :func:`rows_for_disposal` would give for ``disposals``.

    The same cents as the rows (same splits, same terms, same boxes), summed per box; the
    sums of cents are exact, so Schedule D gets the same figures from these as from the rows.
    A test compares both on random ledgers.
    """
    day_of = _day_function(zone)
    sums: dict[str, list[Decimal]] = {}
    boxes: dict[tuple[str, bool, Term], str] = {}
    for disposal in disposals:
        slices = disposal.slices
        sold = day_of(disposal.disposed_at)
        if len(slices) == 1:
            proceeds = [cents(disposal.proceeds)]
            bases = [cents(slices[0].basis)]
        else:
            quantities = [s.quantity for s in slices]
            proceeds = split_cents(disposal.proceeds, quantities, sum(quantities, ZERO))
            bases = _basis_cents(slices)
        fixed = disposal.term
        for slice_, part_proceeds, part_basis in zip(slices, proceeds, bases, strict=True):
            acquired = slice_.acquired_at
            if fixed is not None:
                term = fixed
            elif acquired is None:
                term = Term.SHORT
            else:
                term = Term.LONG if sold >= first_long_term_day(day_of(acquired), rule) else Term.SHORT
            key = (disposal.wallet, disposal.reported_on_1099da, term)
            box = boxes.get(key)
            if box is None:
                box = boxes[key] = box_for(term, tax_year, disposal, profile)
            total = sums.get(box)
            if total is None:
                sums[box] = [part_proceeds, part_basis]
            else:
                total[0] += part_proceeds
                total[1] += part_basis
    return [
        BoxAmounts(box, proceeds, basis, _ZERO_CENTS, proceeds - basis)
        for box, (proceeds, basis) in sums.items()
    ]


def _day_function(zone: ZoneInfo) -> Callable[[datetime], date]:
    """The calendar date of an engine time (always UTC) in ``zone``; ``datetime.date`` for UTC."""
    if zone.key == "UTC":
        return datetime.date
    return lambda moment: moment.astimezone(zone).date()


def build_rows(disposals: Iterable[Disposal], tax_year: int, profile: Profile) -> list[Form8949Row]:
    """Every Form 8949 row of ``tax_year`` (disposals in other years are skipped)."""
    zone = profile.zone()
    rows: list[Form8949Row] = []
    for disposal in disposals:
        if local_date(disposal.disposed_at, zone).year != tax_year:
            continue
        rows.extend(rows_for_disposal(disposal, tax_year, profile, zone, profile.month_end))
    return rows
