"""Form 8949 rows and earlier years' per-box totals (:class:`BoxSums`) against plain references.

``BoxSums.add`` does not split a disposal whose slices all have one term: it adds the
disposal's rounded proceeds and basis, which the rows' split parts add up to. These tests
build the rows of random disposals (many slices, inexact bases, mixed terms, fixed terms,
no slices, every 1099-DA status, both form generations, two zones and both month-end rules)
and require, per box, the exact sums of the rows' cents.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.domain.numbers import ZERO, decimal_context
from marginbook.tax.form8949 import BoxSums, Form8949Row, RowLot, RowMaker, dust_only
from marginbook.tax.holding import Term, local_date
from marginbook.tax.profile import Form1099DA, MonthEndRule, Profile, WalletSettings
from marginbook.tax.records import Disposal, LotSlice

_WALLETS = {
    "basis": WalletSettings(custodial=True, form_1099da=Form1099DA.BASIS_REPORTED),
    "gross": WalletSettings(custodial=True, form_1099da=Form1099DA.GROSS_ONLY),
    "cold": WalletSettings(custodial=False, form_1099da=Form1099DA.NONE),
}
_SOLD_FROM = datetime(2024, 1, 1, tzinfo=UTC)

#: Amounts with up to 20 decimals (bases are exact shares of a lot's basis), some negative.
_amount = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(min_value=-(10**14), max_value=10**14),
    st.integers(min_value=0, max_value=20),
)
_quantity = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=18),
)
#: Acquisitions from 3 years before the first sale to the last one: both terms, month ends.
_acquired = st.one_of(
    st.none(),
    st.integers(min_value=-3 * 366 * 24, max_value=366 * 24).map(lambda h: _SOLD_FROM + timedelta(hours=h)),
)
_slice = st.builds(
    lambda acquisition, quantity, basis, acquired, missing: LotSlice(acquisition, quantity, basis, acquired, missing),
    st.sampled_from(["a1", "a2", ""]),
    _quantity,
    _amount,
    _acquired,
    st.booleans(),
)
_disposal = st.builds(
    lambda n, hours, wallet, proceeds, slices, term, reported: Disposal(
        f"d{n}", f"d{n}", "sell", _SOLD_FROM + timedelta(hours=hours), wallet, "BTC",
        sum((s.quantity for s in slices), ZERO), proceeds, tuple(slices), term, reported,
    ),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=366 * 24 - 1),
    st.sampled_from([*_WALLETS, "unlisted"]),
    _amount,
    st.lists(_slice, min_size=0, max_size=6),
    st.sampled_from([None, None, None, Term.SHORT, Term.LONG]),
    st.booleans(),
)


def _row_sums(rows: Iterable[Form8949Row]) -> dict[str, tuple[Decimal, Decimal, Decimal, Decimal]]:
    """Per box, the sums of the rows' (d), (e), (g), (h) columns, in the order first met."""
    sums: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {}
    for row in rows:
        before = sums.get(row.box, (ZERO, ZERO, ZERO, ZERO))
        sums[row.box] = (
            before[0] + row.proceeds,
            before[1] + row.cost_basis,
            before[2] + row.adjustment,
            before[3] + row.gain,
        )
    return sums


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_disposal, min_size=1, max_size=12),
    st.sampled_from([2024, 2025]),
    st.sampled_from(["UTC", "America/New_York"]),
    st.sampled_from(list(MonthEndRule)),
    st.booleans(),
)
def test_box_sums_are_the_sums_of_the_rows_per_box(
    disposals: list[Disposal], year: int, timezone: str, rule: MonthEndRule, wide: bool
) -> None:
    profile = Profile(wallets=_WALLETS, timezone=timezone, month_end=rule)
    zone = profile.zone()

    def both() -> tuple[dict[str, tuple[Decimal, Decimal, Decimal, Decimal]], list[Form8949Row]]:
        sums = BoxSums(year, profile, zone, rule)
        for disposal in disposals:
            sums.add(disposal)
        make = RowMaker(year, profile, zone, rule).rows
        rows = [row for disposal in disposals for row in make(disposal)]
        return {a.box: (a.proceeds, a.cost_basis, a.adjustment, a.gain) for a in sums.amounts()}, rows

    # The engine adds in the caller's context; Schedule D sums in the 60-digit one.
    if wide:
        with decimal_context():
            amounts, rows = both()
    else:
        amounts, rows = both()
    expected = _row_sums(rows)
    assert amounts == expected
    assert sorted(amounts) == sorted(expected)
    # Cents to the cent, as Schedule D prints them.
    for box, figures in amounts.items():
        assert all(value.as_tuple().exponent == -2 for value in figures), (box, figures)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_disposal, min_size=1, max_size=12),
    st.sampled_from([2024, 2025]),
    st.sampled_from(["UTC", "America/New_York"]),
    st.sampled_from(list(MonthEndRule)),
)
def test_a_sale_added_without_its_record_counts_as_the_record_would(
    disposals: list[Disposal], year: int, timezone: str, rule: MonthEndRule
) -> None:
    # The fast fold adds its earlier years' sales (term by lots, on 1099-DA) by their parts
    # alone, and builds the record only when ``add_sale`` declines (no lots, both terms).
    sales = [d._replace(term=None, reported_on_1099da=True) for d in disposals]
    profile = Profile(wallets=_WALLETS, timezone=timezone, month_end=rule)
    zone = profile.zone()
    by_record = BoxSums(year, profile, zone, rule)
    by_parts = BoxSums(year, profile, zone, rule)
    declined = 0
    with decimal_context():
        for sale in sales:
            by_record.add(sale)
            if not by_parts.add_sale(
                sale.wallet, sale.disposed_at, sale.proceeds, [s.acquired_at for s in sale.slices],
                [s.basis for s in sale.slices],
            ):
                declined += 1
                by_parts.add(sale)
    assert by_parts.amounts() == by_record.amounts()  # the same boxes, met in the same order
    maker = RowMaker(year, profile, zone, rule)
    mixed = sum(
        1 for sale in sales
        if not sale.slices
        or len({maker.term(s.acquired_at, local_date(sale.disposed_at, zone)) for s in sale.slices}) > 1
    )
    assert declined == mixed


def test_a_disposal_with_both_terms_splits_its_cents_between_two_boxes() -> None:
    """A fixed case the property must cover: one sale of a long and a short lot, 1/3 each way."""
    profile = Profile(wallets=_WALLETS)
    sold = datetime(2025, 6, 1, tzinfo=UTC)
    disposal = Disposal(
        "s", "s", "sell", sold, "basis", "BTC", Decimal(3), Decimal("100"),
        (
            LotSlice("old", Decimal(1), Decimal("10.005"), sold - timedelta(days=800)),
            LotSlice("new", Decimal(2), Decimal("20.004"), sold - timedelta(days=10)),
        ),
    )
    sums = BoxSums(2025, profile, profile.zone(), profile.month_end)
    sums.add(disposal)
    figures = {a.box: (a.proceeds, a.cost_basis) for a in sums.amounts()}
    # Proceeds 33.33 to the long lot (box J), the rest 66.67 to the short one (box G);
    # basis 10.01 rounded, the rest of the rounded 30.01 total (20.00) on the last slice.
    assert figures == {"J": (Decimal("33.33"), Decimal("10.01")), "G": (Decimal("66.67"), Decimal("20.00"))}



def _reference_rows(maker: RowMaker, disposal: Disposal, zone: ZoneInfo) -> list[Form8949Row]:
    """The rows of spec/cli.md written plainly: split the cents, then one row per term present.

    A row of one lot is that lot (its figures, its acquisition date); a row of several sums
    them and is acquired VARIOUS.
    """
    if not disposal.slices:
        disposal = dust_only(disposal)
    sold = local_date(disposal.disposed_at, zone)
    proceeds, bases = maker.parts(disposal)
    groups: dict[Term, list[RowLot]] = {}
    for slice_, part_proceeds, part_basis in zip(disposal.slices, proceeds, bases, strict=True):
        term = disposal.term or maker.term(slice_.acquired_at, sold)
        groups.setdefault(term, []).append(
            RowLot(slice_.acquisition_id, slice_.quantity, part_proceeds, part_basis, slice_.acquired_at,
                   slice_.basis_missing)
        )
    rows = []
    for term in (Term.SHORT, Term.LONG):
        lots = groups.get(term)
        if not lots:
            continue
        if len(lots) == 1:
            (lot,) = lots
            quantity, row_proceeds, row_basis = lot.quantity, lot.proceeds, lot.cost_basis
            acquired = None if lot.acquired_at is None else local_date(lot.acquired_at, zone)
        else:
            quantity = sum((lot.quantity for lot in lots), ZERO)
            row_proceeds = sum((lot.proceeds for lot in lots), ZERO)
            row_basis = sum((lot.cost_basis for lot in lots), ZERO)
            acquired = None
        rows.append(
            Form8949Row(
                maker.box(term, disposal), term, disposal.asset, disposal.wallet, quantity, acquired, sold,
                row_proceeds, row_basis, "", Decimal("0.00"), row_proceeds - row_basis, disposal.disposal_id,
                disposal.kind, tuple(lots), disposal.warnings,
            )
        )
    return rows


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_disposal, min_size=1, max_size=8),
    st.sampled_from([2024, 2025]),
    st.sampled_from(["UTC", "America/New_York"]),
    st.sampled_from(list(MonthEndRule)),
)
def test_rows_are_one_per_term_present_with_the_split_cents(
    disposals: list[Disposal], year: int, timezone: str, rule: MonthEndRule
) -> None:
    profile = Profile(wallets=_WALLETS, timezone=timezone, month_end=rule)
    zone = profile.zone()
    maker = RowMaker(year, profile, zone, rule)
    with decimal_context():
        for disposal in disposals:
            rows = maker.rows(disposal)
            expected = _reference_rows(RowMaker(year, profile, zone, rule), disposal, zone)
            # repr too: a -0.00 where the reference has 0.00 would change the JSON.
            assert rows == expected and repr(rows) == repr(expected)
