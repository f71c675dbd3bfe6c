"""Form 8949 rows: one per disposal and term, with the box its wallet's 1099-DA status gives.

Amounts are rounded here, where they become form-facing: a disposal's proceeds and basis are
split across its lot slices pro rata by units to the cent, the remainder on the last slice
(spec/cli.md), so each row's cents add up exactly to the disposal's rounded total.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from marginbook.domain.numbers import CENT, PRECISION, ZERO, cents, plain
from marginbook.tax.holding import Term, first_long_term_day, local_date
from marginbook.tax.profile import Form1099DA, MonthEndRule, Profile
from marginbook.tax.records import Disposal, LotSlice

#: Box by (tax year is 2025+, reporting status) and term. Before 2025 the form had A-F only,
#: and digital assets without a 1099-B went to C/F.
_BOXES_2025 = {"basis_reported": ("G", "J"), "gross_only": ("H", "K"), "none": ("I", "L")}
_BOXES_2024 = ("C", "F")
_ZERO_CENTS = cents(ZERO)
#: The context of :func:`marginbook.domain.numbers.cents` (half-up, 60 digits, same traps);
#: its ``quantize`` rounds to the cent at a third of the cost of ``cents`` (no keywords),
#: which a year's hundreds of thousands of rows notice.
_CENTS = decimal.Context(
    prec=PRECISION,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
_quantize = _CENTS.quantize


#: ``tuple.__new__``: builds a row or a row's lot from its fields in order, without the
#: keyword handling of a NamedTuple's generated ``__new__`` (a row per disposal and term).
_new = tuple.__new__


def to_cents(value: Decimal) -> Decimal:
    """:func:`marginbook.domain.numbers.cents`, the same figure, quicker (no keyword arguments)."""
    return _quantize(value, CENT)


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


def box_for(term: Term, tax_year: int, wallet_name: str, reported_on_1099da: bool, profile: Profile) -> str:
    """The Form 8949 box of a disposal from ``wallet_name`` (rules spec 3; spec/cli.md "Box
    choice"); ``reported_on_1099da`` is the disposal's (``False``: never on a broker's form)."""
    long = term is Term.LONG
    if tax_year <= 2024:
        return _BOXES_2024[long]
    status = "none"
    wallet = profile.wallet(wallet_name)
    if reported_on_1099da and wallet.custodial and wallet.form_1099da is not Form1099DA.NONE:
        status = wallet.form_1099da.value
    return _BOXES_2025[status][long]


def split_cents(total: Decimal, weights: Sequence[Decimal], whole: Decimal) -> list[Decimal]:
    """Split ``total`` (rounded to the cent) pro rata by ``weights``; the last part takes the rest."""
    rounded_total = to_cents(total)
    if not weights:
        return []
    parts = [to_cents(total * weight / whole) if whole else ZERO for weight in weights[:-1]]
    parts.append(rounded_total - sum(parts, ZERO))
    return parts


def _basis_cents(slices: Sequence[LotSlice]) -> list[Decimal]:
    exact_total = sum((s.basis for s in slices), ZERO)
    parts = [to_cents(s.basis) for s in slices[:-1]]
    parts.append(to_cents(exact_total) - sum(parts, ZERO))
    return parts


def rows_for_disposal(
    disposal: Disposal, tax_year: int, profile: Profile, zone: ZoneInfo, rule: MonthEndRule
) -> list[Form8949Row]:
    """The rows (one per term present) of one disposal."""
    return RowMaker(tax_year, profile, zone, rule).rows(disposal)


def dust_only(disposal: Disposal) -> Disposal:
    """A disposal of units that were all dust: one zero-basis, short-term slice of its units.

    A wallet may go below zero by less than the profile's dust (rounding, not missing basis),
    so a disposal of only such units finds no lot at all. Its proceeds are still money
    received and are reported, on one row with zero basis and a warning saying why, rather
    than dropped (or, as before, failing to build the row).
    """
    note = (
        f"{plain(disposal.quantity)} {disposal.asset} disposed of with no lots left (within the "
        "profile's dust): zero basis"
    )
    return disposal._replace(
        slices=(LotSlice("", disposal.quantity, ZERO, None, False),),
        warnings=(*disposal.warnings, note),
    )


class RowMaker:
    """Form 8949 rows of one tax year's disposals, one disposal at a time.

    Made once per year so that what every row needs is looked up once: the calendar day
    function of the zone, the first long-term day of each acquisition time, the box of each
    (wallet, 1099-DA, term). A year has up to hundreds of thousands of rows.
    """

    __slots__ = ("_boxes", "_day_of", "_long_from", "_profile", "_rule", "_year")

    def __init__(self, tax_year: int, profile: Profile, zone: ZoneInfo, rule: MonthEndRule) -> None:
        self._year = tax_year
        self._profile = profile
        self._rule = rule
        self._day_of = _day_function(zone)
        # By acquisition day, not time: an aware datetime hashes slowly (it asks its zone for
        # the offset), and times rarely repeat where days do.
        self._long_from: dict[date, date] = {}
        self._boxes: dict[tuple[str, bool, Term], str] = {}

    def term(self, acquired: datetime | None, sold: date) -> Term:
        """Short or long for units acquired at ``acquired`` (``None``: unknown) sold on ``sold``."""
        found = self.common_term_of((acquired,), sold)
        assert found is not None  # one acquisition has one term
        return found

    def common_term(self, slices: Sequence[LotSlice], sold: date) -> Term | None:
        """The term of every one of ``slices`` sold on ``sold``, or ``None`` when they differ."""
        return self.common_term_of([s.acquired_at for s in slices], sold)

    def common_term_of(self, acquired_at: Iterable[datetime | None], sold: date) -> Term | None:
        """The term of units acquired at each of ``acquired_at`` (``None``: unknown) sold on
        ``sold``, or ``None`` when they differ.

        :meth:`term` for each, inline: earlier years' disposals ask it for every part.
        """
        long_from = self._long_from
        day_of = self._day_of
        first: bool | None = None
        for acquired in acquired_at:
            if acquired is None:
                long = False
            else:
                day = day_of(acquired)
                first_long = long_from.get(day)
                if first_long is None:
                    first_long = long_from[day] = first_long_term_day(day, self._rule)
                long = sold >= first_long
            if first is None:
                first = long
            elif long is not first:
                return None
        return Term.LONG if first else Term.SHORT

    def box(self, term: Term, disposal: Disposal) -> str:
        """The box of ``disposal``'s units of ``term`` (:meth:`box_of`)."""
        return self.box_of(term, disposal.wallet, disposal.reported_on_1099da)

    def box_of(self, term: Term, wallet: str, reported_on_1099da: bool) -> str:
        """:func:`box_for`, remembered per (wallet, 1099-DA, term)."""
        key = (wallet, reported_on_1099da, term)
        found = self._boxes.get(key)
        if found is None:
            found = self._boxes[key] = box_for(term, self._year, wallet, reported_on_1099da, self._profile)
        return found

    def parts(self, disposal: Disposal) -> tuple[list[Decimal], list[Decimal]]:
        """Each slice's proceeds and basis in cents (pro rata by units; the last takes the rest)."""
        if not disposal.slices:
            disposal = dust_only(disposal)
        slices = disposal.slices
        if len(slices) == 1:
            return [to_cents(disposal.proceeds)], [to_cents(slices[0].basis)]
        quantities = [s.quantity for s in slices]
        return split_cents(disposal.proceeds, quantities, sum(quantities, ZERO)), _basis_cents(slices)

    def rows(self, disposal: Disposal) -> list[Form8949Row]:
        """The rows (one per term present) of one disposal."""
        if not disposal.slices:
            disposal = dust_only(disposal)
        day_of = self._day_of
        slices = disposal.slices
        sold = day_of(disposal.disposed_at)
        fixed = disposal.term
        if len(slices) == 1:
            only = slices[0]
            proceeds = to_cents(disposal.proceeds)
            basis = to_cents(only.basis)
            acquired = only.acquired_at
            term = fixed if fixed is not None else self.term(acquired, sold)
            lot = _new(
                RowLot, (only.acquisition_id, only.quantity, proceeds, basis, acquired, only.basis_missing)
            )
            return [
                _new(
                    Form8949Row,
                    (
                        self.box(term, disposal), term, disposal.asset, disposal.wallet, only.quantity,
                        day_of(acquired) if acquired is not None else None, sold, proceeds, basis, "",
                        _ZERO_CENTS, proceeds - basis, disposal.disposal_id, disposal.kind, (lot,),
                        disposal.warnings,
                    ),
                )
            ]
        proceeds_parts, basis_parts = self.parts(disposal)
        common = fixed if fixed is not None else self.common_term(slices, sold)
        if common is not None:
            # One term (nearly always): one row of every slice, acquired VARIOUS.
            all_lots = tuple(
                [
                    _new(RowLot, (s.acquisition_id, s.quantity, part_proceeds, part_basis, s.acquired_at,
                                  s.basis_missing))
                    for s, part_proceeds, part_basis in zip(slices, proceeds_parts, basis_parts, strict=True)
                ]
            )
            row_proceeds = sum(proceeds_parts, ZERO)
            row_basis = sum(basis_parts, ZERO)
            return [
                _new(
                    Form8949Row,
                    (
                        self.box(common, disposal), common, disposal.asset, disposal.wallet,
                        sum([s.quantity for s in slices], ZERO), None, sold, row_proceeds, row_basis, "",
                        _ZERO_CENTS, row_proceeds - row_basis, disposal.disposal_id, disposal.kind, all_lots,
                        disposal.warnings,
                    ),
                )
            ]
        by_term: dict[Term, list[RowLot]] = {}
        for slice_, part_proceeds, part_basis in zip(slices, proceeds_parts, basis_parts, strict=True):
            acquired = slice_.acquired_at
            term = fixed if fixed is not None else self.term(acquired, sold)
            fields = (slice_.acquisition_id, slice_.quantity, part_proceeds, part_basis, acquired)
            lot = _new(RowLot, (*fields, slice_.basis_missing))
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
                first = lots[0]
                quantity, row_proceeds, row_basis = first.quantity, first.proceeds, first.cost_basis
                acquired_day = day_of(first.acquired_at) if first.acquired_at is not None else None
            else:
                quantity = sum([lot.quantity for lot in lots], ZERO)
                row_proceeds = sum([lot.proceeds for lot in lots], ZERO)
                row_basis = sum([lot.cost_basis for lot in lots], ZERO)
                acquired_day = None
            rows.append(
                _new(
                    Form8949Row,
                    (
                        self.box(term, disposal), term, disposal.asset, disposal.wallet, quantity,
                        acquired_day, sold, row_proceeds, row_basis, "", _ZERO_CENTS,
                        row_proceeds - row_basis, disposal.disposal_id, disposal.kind, tuple(lots),
                        disposal.warnings,
                    ),
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


class BoxSums:
    """Per box, the running totals of the rows of one tax year's disposals (see :func:`box_amounts`)."""

    __slots__ = ("_day_of", "_maker", "_sums")

    def __init__(self, tax_year: int, profile: Profile, zone: ZoneInfo, rule: MonthEndRule) -> None:
        self._maker = RowMaker(tax_year, profile, zone, rule)
        self._day_of = _day_function(zone)
        self._sums: dict[str, list[Decimal]] = {}

    def add(self, disposal: Disposal) -> None:
        """Add the cents of the rows ``disposal`` would give to their boxes.

        A disposal's slices are split to the cent with the remainder on the last one, so the
        parts of one box add up to the disposal's rounded proceeds and basis exactly: when
        every slice has the same term (nearly always), those two roundings are all the box
        needs, without splitting. Mixed terms split as the rows do.
        """
        slices = disposal.slices
        if not slices:
            disposal = dust_only(disposal)
            slices = disposal.slices
        maker = self._maker
        term = disposal.term
        if term is None:
            sold = self._day_of(disposal.disposed_at)
            term = maker.common_term(slices, sold)
            if term is None:
                self._add_split(disposal, sold)
                return
        basis = slices[0].basis if len(slices) == 1 else sum([s.basis for s in slices], ZERO)
        self._total(maker.box(term, disposal), to_cents(disposal.proceeds), to_cents(basis))

    def add_sale(
        self,
        wallet: str,
        disposed_at: datetime,
        proceeds: Decimal,
        acquired_at: Sequence[datetime | None],
        bases: Sequence[Decimal],
    ) -> bool:
        """:meth:`add` for a disposal whose record was never built (the fast fold's earlier years).

        The disposal is one reported on Form 1099-DA with its term by its lots, which were
        acquired at ``acquired_at`` and carry ``bases``. Returns ``False``, adding nothing, when
        there is no lot or the lots have both terms: the caller then builds the record and
        calls :meth:`add`.
        """
        if not acquired_at:
            return False
        maker = self._maker
        term = maker.common_term_of(acquired_at, self._day_of(disposed_at))
        if term is None:
            return False
        basis = bases[0] if len(bases) == 1 else sum(bases, ZERO)
        self._total(maker.box_of(term, wallet, True), to_cents(proceeds), to_cents(basis))
        return True

    def _total(self, box: str, proceeds: Decimal, basis: Decimal) -> None:
        """Add a row's (or one box's part of a disposal's) cents to ``box``."""
        total = self._sums.get(box)
        if total is None:
            self._sums[box] = [proceeds, basis]
        else:
            total[0] += proceeds
            total[1] += basis

    def _add_split(self, disposal: Disposal, sold: date) -> None:
        """Add a disposal whose slices have both terms: each slice's cents to its box."""
        maker = self._maker
        proceeds, bases = maker.parts(disposal)
        for slice_, part_proceeds, part_basis in zip(disposal.slices, proceeds, bases, strict=True):
            self._total(maker.box(maker.term(slice_.acquired_at, sold), disposal), part_proceeds, part_basis)

    def amounts(self) -> list[BoxAmounts]:
        """The totals so far, per box in the order the boxes were first met."""
        return [
            BoxAmounts(box, proceeds, basis, _ZERO_CENTS, proceeds - basis)
            for box, (proceeds, basis) in self._sums.items()
        ]


def box_amounts(
    disposals: Iterable[Disposal], tax_year: int, profile: Profile, zone: ZoneInfo, rule: MonthEndRule
) -> list[BoxAmounts]:
    """Per box, the totals of the rows :func:`rows_for_disposal` would give for ``disposals``.

    The same cents as the rows (same splits, same terms, same boxes), summed per box; the
    sums of cents are exact, so Schedule D gets the same figures from these as from the rows.
    A test compares both on random ledgers.
    """
    sums = BoxSums(tax_year, profile, zone, rule)
    for disposal in disposals:
        sums.add(disposal)
    return sums.amounts()


def _day_function(zone: ZoneInfo) -> Callable[[datetime], date]:
    """The calendar date of an engine time (always UTC) in ``zone``; ``datetime.date`` for UTC."""
    if zone.key == "UTC":
        return datetime.date
    return lambda moment: moment.astimezone(zone).date()


def build_rows(disposals: Iterable[Disposal], tax_year: int, profile: Profile) -> list[Form8949Row]:
    """Every Form 8949 row of ``tax_year`` (disposals in other years are skipped)."""
    zone = profile.zone()
    rows: list[Form8949Row] = []
    make = RowMaker(tax_year, profile, zone, profile.month_end).rows
    for disposal in disposals:
        if local_date(disposal.disposed_at, zone).year != tax_year:
            continue
        rows.extend(make(disposal))
    return rows
