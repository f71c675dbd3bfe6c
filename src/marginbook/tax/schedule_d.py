"""Schedule D (rules spec 4): totals by 8949 box, the parts, and the capital loss limit.

Loss numbers are negative (line 6 and line 14 carry the prior year's losses as negatives);
every figure is in cents, summed from the rounded 8949 rows so the forms add up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from marginbook.domain.numbers import ZERO, cents
from marginbook.tax.carryover import CapitalLossCarryover, capital_loss_carryover
from marginbook.tax.form8949 import BoxAmounts, Form8949Row
from marginbook.tax.profile import FilingStatus, Profile

LOSS_LIMIT = Decimal(3000)
LOSS_LIMIT_MARRIED_SEPARATE = Decimal(1500)

#: Schedule D line ← the Form 8949 boxes whose totals it takes (2024 A-F, 2025 G-L).
LINE_BOXES = {
    "line_1b": ("A", "G"),
    "line_2": ("B", "H"),
    "line_3": ("C", "I"),
    "line_8b": ("D", "J"),
    "line_9": ("E", "K"),
    "line_10": ("F", "L"),
}


@dataclass(frozen=True, slots=True)
class BoxTotals:
    """Column totals of a set of Form 8949 rows: (d), (e), (g), (h)."""

    proceeds: Decimal = ZERO
    cost_basis: Decimal = ZERO
    adjustment: Decimal = ZERO
    gain: Decimal = ZERO

    def plus(self, row: Form8949Row | BoxAmounts) -> BoxTotals:
        """These totals with one more row."""
        return BoxTotals(
            self.proceeds + row.proceeds,
            self.cost_basis + row.cost_basis,
            self.adjustment + row.adjustment,
            self.gain + row.gain,
        )


@dataclass(frozen=True, slots=True)
class ScheduleD:
    """Schedule D figures (cents). ``box_lines`` maps ``line_1b`` ... ``line_10`` to totals."""

    box_lines: dict[str, BoxTotals]
    line_4: Decimal
    line_5: Decimal
    line_6: Decimal
    line_7: Decimal
    line_11: Decimal
    line_12: Decimal
    line_13: Decimal
    line_14: Decimal
    line_15: Decimal
    line_16: Decimal
    line_21: Decimal
    carryover: CapitalLossCarryover


def loss_limit(profile: Profile) -> Decimal:
    """$3,000, or $1,500 when married filing separately (§1211(b))."""
    return (
        LOSS_LIMIT_MARRIED_SEPARATE if profile.filing_status is FilingStatus.MARRIED_SEPARATE else LOSS_LIMIT
    )


def box_totals(rows: Iterable[Form8949Row | BoxAmounts]) -> dict[str, BoxTotals]:
    """Totals per box letter."""
    # Running sums in lists (a year has up to hundreds of thousands of rows), added in the
    # same order from the same zeros as ``BoxTotals.plus`` would.
    sums: dict[str, list[Decimal]] = {}
    for row in rows:
        box = sums.get(row.box)
        if box is None:
            box = sums[row.box] = [ZERO, ZERO, ZERO, ZERO]
        box[0] += row.proceeds
        box[1] += row.cost_basis
        box[2] += row.adjustment
        box[3] += row.gain
    return {box: BoxTotals(*figures) for box, figures in sums.items()}


def schedule_d(
    rows: Iterable[Form8949Row | BoxAmounts],
    *,
    short_term_carryover: Decimal,
    long_term_carryover: Decimal,
    other_short_term: Decimal,
    other_long_term: Decimal,
    section_1256: Decimal,
    taxable_income: Decimal | None,
    profile: Profile,
) -> ScheduleD:
    """Compute Schedule D from the year's 8949 rows and the amounts from outside the ledger.

    Args:
        rows: the year's Form 8949 rows, or their totals per box
            (:func:`~marginbook.tax.form8949.box_amounts`).
        short_term_carryover, long_term_carryover: losses carried in (positive).
        other_short_term, other_long_term: outside amounts (lines 5 and 12).
        section_1256: net Form 6781 gain or loss: 40 % to line 4, 60 % to line 11.
        taxable_income: the year's Form 1040 taxable income for the carryover worksheet.
        profile: for the filing status.
    """
    per_box = box_totals(rows)
    lines = {line: _sum_boxes(per_box, boxes) for line, boxes in LINE_BOXES.items()}
    line_4 = cents(section_1256 * Decimal("0.4"))
    line_11 = cents(section_1256) - line_4
    line_5 = cents(other_short_term)
    line_12 = cents(other_long_term)
    line_6 = -cents(short_term_carryover)
    line_14 = -cents(long_term_carryover)
    line_7 = lines["line_1b"].gain + lines["line_2"].gain + lines["line_3"].gain + line_4 + line_5 + line_6
    line_13 = cents(ZERO)
    line_15 = (
        lines["line_8b"].gain
        + lines["line_9"].gain
        + lines["line_10"].gain
        + line_11
        + line_12
        + line_13
        + line_14
    )
    line_16 = line_7 + line_15
    line_21 = -min(-line_16, loss_limit(profile)) if line_16 < 0 else cents(ZERO)
    carry = capital_loss_carryover(line_7, line_15, line_21, taxable_income)
    return ScheduleD(
        lines,
        line_4,
        line_5,
        line_6,
        line_7,
        line_11,
        line_12,
        line_13,
        line_14,
        line_15,
        line_16,
        cents(line_21),
        carry,
    )


def _sum_boxes(per_box: dict[str, BoxTotals], boxes: tuple[str, ...]) -> BoxTotals:
    result = BoxTotals(cents(ZERO), cents(ZERO), cents(ZERO), cents(ZERO))
    for box in boxes:
        totals = per_box.get(box)
        if totals is not None:
            result = BoxTotals(
                result.proceeds + totals.proceeds,
                result.cost_basis + totals.cost_basis,
                result.adjustment + totals.adjustment,
                result.gain + totals.gain,
            )
    return result
