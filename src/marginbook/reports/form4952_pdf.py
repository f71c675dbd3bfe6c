"""Form 4952 (investment interest expense deduction) on the IRS's own form, lines 1-8.

Only page 1 is the form; pages 2-4 of the IRS file are its instructions and are not copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from marginbook.reports.fields import Form4952Layout
from marginbook.reports.formatting import form_amount
from marginbook.reports.pdf_fill import FormFiller
from marginbook.reports.taxpayer import Taxpayer


def has_investment_interest(lines: Mapping[str, Decimal] | None) -> bool:
    """True when the year has investment interest to report: this year's (line 1) or carried in (line 2)."""
    if not lines:
        return False
    return bool(lines.get("line_1") or lines.get("line_2") or lines.get("line_3"))


def form_4952_values(
    layout: Form4952Layout, lines: Mapping[str, Decimal], taxpayer: Taxpayer
) -> dict[str, str]:
    """The field values of Form 4952 page 1."""
    values = {layout.name[0]: taxpayer.name, layout.name[1]: taxpayer.tin}
    for line, field in layout.lines.items():
        if line in lines:
            values[field] = form_amount(lines[line])
    return values


def fill_form_4952(
    filler: FormFiller, layout: Form4952Layout, lines: Mapping[str, Decimal], taxpayer: Taxpayer
) -> None:
    """Append Form 4952 page 1, filled and flattened."""
    filler.add_page(0, form_4952_values(layout, lines, taxpayer))
