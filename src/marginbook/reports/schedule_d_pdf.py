"""Schedule D (Form 1040) on the IRS's own form: the lines the engine computes.

Lines 1b-3 and 8b-10 carry the Form 8949 totals by box; lines 6 and 14 the carryovers
into the year; 7, 15 and 16 the nets; 21 the loss allowed this year. Lines 6, 14 and 21
have their parentheses printed on the form, so a loss goes there as its magnitude; other
negative figures are written in parentheses. Lines 4, 5 and 11-13 hold amounts from
outside the ledger (the profile's Form 6781 and other gains); like a box line without
transactions they stay blank when zero, so that a preparer sees what is still to enter.
Lines the engine does not compute (17-20, 22) are left for the preparer.
"""

from __future__ import annotations

from marginbook.reports.document import ScheduleD
from marginbook.reports.fields import ScheduleDLayout
from marginbook.reports.formatting import form_amount, form_magnitude
from marginbook.reports.pdf_fill import FormFiller
from marginbook.reports.taxpayer import Taxpayer

#: Lines of amounts from outside the ledger: written only when the engine has an amount there.
OUTSIDE_LINES = frozenset({"line_4", "line_5", "line_11", "line_12", "line_13"})


def schedule_d_values(
    layout: ScheduleDLayout, schedule: ScheduleD, taxpayer: Taxpayer
) -> list[dict[str, str]]:
    """The field values of each page of Schedule D (page 1, page 2)."""
    page1: dict[str, str] = {layout.name[0]: taxpayer.name, layout.name[1]: taxpayer.tin}
    page2: dict[str, str] = {}
    for line, (proceeds, cost, adjustment, gain) in layout.box_lines.items():
        totals = schedule.box_lines.get(line)
        if totals is None or not (totals.proceeds or totals.cost_basis or totals.adjustment or totals.gain):
            continue  # a box with no transactions stays blank, as on a hand-filled form
        page1[proceeds] = form_amount(totals.proceeds)
        page1[cost] = form_amount(totals.cost_basis)
        page1[adjustment] = form_amount(totals.adjustment) if totals.adjustment else ""
        page1[gain] = form_amount(totals.gain)
    for line, field in layout.lines.items():
        if line not in schedule.lines:
            continue
        value = schedule.lines[line]
        if line in OUTSIDE_LINES and not value:
            continue
        if line in layout.printed_parentheses:
            text = form_magnitude(value) if value else ""
        else:
            text = form_amount(value)
        (page2 if ".Page2[" in field else page1)[field] = text
    return [page1, page2]


def fill_schedule_d(
    filler: FormFiller, layout: ScheduleDLayout, schedule: ScheduleD, taxpayer: Taxpayer
) -> None:
    """Append both pages of Schedule D, filled and flattened."""
    for index, values in enumerate(schedule_d_values(layout, schedule, taxpayer)):
        filler.add_page(index, values)
