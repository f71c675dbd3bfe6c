"""The Form 8949 rows as CSV: one line per row, every column, and the lot ids.

Dates stay ISO (``YYYY-MM-DD`` or ``VARIOUS``) and amounts are plain decimals
(``-250.00``), so a spreadsheet or a script reads them back without guessing formats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from marginbook.domain.numbers import plain
from marginbook.reports.document import Form8949Row
from marginbook.reports.formatting import plain_amount

CSV_COLUMNS = (
    "box",
    "term",
    "description",
    "asset",
    "wallet",
    "quantity",
    "date_acquired",
    "date_sold",
    "proceeds",
    "cost_basis",
    "adjustment_code",
    "adjustment",
    "gain",
    "disposal_id",
    "lot_ids",
)

#: Separates the lot ids in the ``lot_ids`` column (ids never contain it: they are event ids).
LOT_SEPARATOR = ";"


def csv_text(rows: Sequence[Form8949Row]) -> str:
    """The CSV file's text (RFC 4180, CRLF line ends, header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.box,
                row.term,
                row.description,
                row.asset,
                row.wallet,
                plain(row.quantity),
                row.date_acquired,
                row.date_sold,
                plain_amount(row.proceeds),
                plain_amount(row.cost_basis),
                row.adjustment_code,
                plain_amount(row.adjustment),
                plain_amount(row.gain),
                row.disposal_id,
                LOT_SEPARATOR.join(lot.acquisition_id for lot in row.lots),
            )
        )
    return buffer.getvalue()
