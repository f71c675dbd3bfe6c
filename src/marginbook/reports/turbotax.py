"""TurboTax Online's crypto gains CSV: ``Currency Name,Purchase Date,Cost Basis,Date Sold,Proceeds``.

TurboTax works out each line's gain (proceeds - basis) and its term from the two dates. So:

* a row that used several lots (``VARIOUS``) becomes one line per lot, with the row's
  proceeds split pro rata by units to the cent, the remainder on the last lot (the engine's
  own rule), so every line has its real acquisition date;
* an adjustment in column (g) (e.g. code E costs) has no column here and is folded into
  the proceeds, so that the gain TurboTax computes is the gain on our Form 8949;
* amounts are plain, non-negative numbers with two decimals (the upload fails on negatives).

See docs/exports.md for the sources of this column set.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from decimal import Decimal

from marginbook.domain.numbers import ZERO, cents, decimal_context
from marginbook.reports.document import Form8949Row
from marginbook.reports.formatting import form_date, plain_amount

TURBOTAX_COLUMNS = ("Currency Name", "Purchase Date", "Cost Basis", "Date Sold", "Proceeds")


def _lines(row: Form8949Row) -> Iterator[tuple[str, str, Decimal, Decimal]]:
    """(purchase date, sold date, basis, proceeds) for each TurboTax line of one row."""
    proceeds = row.proceeds + row.adjustment
    if len(row.lots) <= 1:
        acquired = (
            row.lots[0].acquired_on if row.lots and row.date_acquired == "VARIOUS" else row.date_acquired
        )
        yield acquired, row.date_sold, row.cost_basis, proceeds
        return
    units = sum((lot.quantity for lot in row.lots), start=ZERO)
    remaining = proceeds
    basis_left = row.cost_basis
    with decimal_context():
        for index, lot in enumerate(row.lots):
            last = index == len(row.lots) - 1
            share = remaining if last else cents(proceeds * lot.quantity / units)
            basis = basis_left if last else cents(lot.cost_basis)
            remaining -= share
            basis_left -= basis
            yield lot.acquired_on, row.date_sold, basis, share


def turbotax_text(rows: Sequence[Form8949Row]) -> str:
    """The CSV file's text (header first, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TURBOTAX_COLUMNS)
    for row in rows:
        name = row.asset or row.description
        for acquired, sold, basis, proceeds in _lines(row):
            writer.writerow(
                (name, form_date(acquired), plain_amount(basis), form_date(sold), plain_amount(proceeds))
            )
    return buffer.getvalue()
