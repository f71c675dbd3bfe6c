"""Views of the tax JSON document (../shared/spec/cli.md, "Tax") for the Taxes page.

The tax engine computes; this module only selects and re-shapes its document: filters the
Form 8949 rows, finds the lots behind one row, and writes the rows as CSV. No figure is
recomputed here, so the page shows exactly what ``marginbook tax --format json`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SCHEDULE_D_PARTS = ("line_1b", "line_2", "line_3", "line_8b", "line_9", "line_10")
SCHEDULE_D_TOTALS = ("line_6", "line_7", "line_14", "line_15", "line_16", "line_21")


@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which 8949 rows to show; an empty field matches every row."""

    wallet: str = ""
    asset: str = ""
    term: str = ""

    def matches(self, row: dict[str, Any]) -> bool:
        """True when ``row`` passes every given criterion."""
        return (
            (not self.wallet or row.get("wallet") == self.wallet)
            and (not self.asset or row.get("asset") == self.asset)
            and (not self.term or row.get("term") == self.term)
        )


def rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The Form 8949 rows of the document, each with its ``row_key`` for the drill-down link."""
    found = []
    for row in document.get("form_8949", []):
        found.append({**row, "row_key": row_key(row)})
    return found


def row_key(row: dict[str, Any]) -> str:
    """A row's identity: one row per disposal and term (spec), so ``DISPOSAL_ID~TERM``."""
    return f"{row.get('disposal_id', '')}~{row.get('term', '')}"


def filter_rows(keyed_rows: list[dict[str, Any]], selection: RowFilter) -> list[dict[str, Any]]:
    """The rows (from :func:`rows`) that pass ``selection``, in the document's order."""
    return [row for row in keyed_rows if selection.matches(row)]


def find_row(keyed_rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """The row (from :func:`rows`) with ``row_key`` ``key``, or ``None``."""
    for row in keyed_rows:
        if row["row_key"] == key:
            return row
    return None


def choices(document: dict[str, Any]) -> dict[str, list[str]]:
    """The distinct wallets, assets and terms of the rows, for the filter drop-downs."""
    all_rows = document.get("form_8949", [])
    return {
        "wallet": sorted({str(row.get("wallet", "")) for row in all_rows} - {""}),
        "asset": sorted({str(row.get("asset", "")) for row in all_rows} - {""}),
        "term": sorted({str(row.get("term", "")) for row in all_rows} - {""}),
    }


def rows_csv(selected: Iterable[dict[str, Any]]) -> str:
    """The rows as the one Form 8949 CSV of ``marginbook tax --format csv`` (every column,
    ``lot_ids`` as ``ID:QTY;ID:QTY``), so a download and the command give the same file."""
    from marginbook.reports.csv_export import csv_text
    from marginbook.reports.document import read_rows

    return csv_text(read_rows(selected))
