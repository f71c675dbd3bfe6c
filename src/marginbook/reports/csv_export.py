"""The Form 8949 rows as CSV: one line per row, every column, and the lots each row used.

Dates stay ISO (``YYYY-MM-DD`` or ``VARIOUS``) and amounts are plain decimals
(``-250.00``), so a spreadsheet or a script reads them back without guessing formats.
The columns are those of spec/cli.md's ``--format csv`` (the engine's own CSV), so the
file is the same whether it is printed or written with ``--out``; lots are written as
``ID:UNITS`` pairs so that a row can be traced back to its acquisitions.
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
    "kind",
    "lot_ids",
    "warnings",
)

#: Separates the lots in the ``lot_ids`` column (ids never contain it: they are event ids).
LOT_SEPARATOR = ";"
#: Separates a lot's acquisition id from the units taken from it (``L1:2``).
LOT_QUANTITY_SEPARATOR = ":"
#: Separates the row's warnings in the ``warnings`` column.
WARNING_SEPARATOR = " | "


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
                row.kind,
                LOT_SEPARATOR.join(
                    f"{lot.acquisition_id}{LOT_QUANTITY_SEPARATOR}{plain(lot.quantity)}" for lot in row.lots
                ),
                WARNING_SEPARATOR.join(row.warnings),
            )
        )
    return buffer.getvalue()
