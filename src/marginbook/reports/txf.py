"""TXF V042 (Tax Exchange Format) records for desktop tax software, one per Form 8949 row.

Format (Intuit's TXF spec, version 042, 11/30/2011): a header ``V042`` / ``A<program>`` /
``D<export date>`` / ``^``, then one record per sale in record format 4: ``TD``,
``N<refnum>``, ``C1``, ``L1``, ``P<description>``, ``D<date acquired>``, ``D<date sold>``,
``$<cost basis>``, ``$<sales net>``, ``^``. The refnum carries the term and the copy of
Form 8949: 321/323 (box A/D, basis reported), 711/713 (box B/E, basis not reported),
712/714 (box C/F, no 1099-B). TXF has no refnums for the 2025 digital-asset boxes, so
G/H/I and J/K/L take the codes of A/B/C and D/E/F. See docs/exports.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.numbers import D
from marginbook.reports.document import VARIOUS, Form8949Row
from marginbook.reports.formatting import form_amount, form_date, plain_amount

#: Box -> TXF refnum. G-L have no refnums of their own: they map to the box of the same column.
TXF_REFNUM: dict[str, int] = {
    "A": 321,
    "G": 321,
    "D": 323,
    "J": 323,
    "B": 711,
    "H": 711,
    "E": 713,
    "K": 713,
    "C": 712,
    "I": 712,
    "F": 714,
    "L": 714,
}

#: The refnum's term and Form 8949 copy, for reading files back.
REFNUM_MEANING: dict[int, tuple[str, str]] = {
    321: ("short", "A"),
    323: ("long", "D"),
    711: ("short", "B"),
    713: ("long", "E"),
    712: ("short", "C"),
    714: ("long", "F"),
}

PROGRAM = "marginbook"


def _txf_text(text: str) -> str:
    """TXF is ASCII, one field per line: drop line breaks and anything outside printable ASCII."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text.replace("\r", " ").replace("\n", " "))


def txf_text(rows: Sequence[Form8949Row], exported_on: date) -> str:
    """The TXF file's text (CRLF line ends).

    A row with an adjustment in column (g) gets an ``X`` detail line naming the code and the
    amount: record format 4 has no field for it, so tax software shows it for the preparer to enter.
    """
    lines = ["V042", f"A{PROGRAM}", f"D{form_date(exported_on.isoformat())}", "^"]
    for row in rows:
        acquired = "" if row.date_acquired == VARIOUS else form_date(row.date_acquired)
        lines += [
            "TD",
            f"N{TXF_REFNUM[row.box]}",
            "C1",
            "L1",
            f"P{_txf_text(row.description)}",
            f"D{acquired}",
            f"D{form_date(row.date_sold)}",
            f"${plain_amount(row.cost_basis)}",
            f"${plain_amount(row.proceeds)}",
        ]
        if row.adjustment or row.adjustment_code:
            lines.append(
                _txf_text(
                    f"X Form 8949 box {row.box}, code {row.adjustment_code}, adjustment "
                    f"{form_amount(row.adjustment)}, gain {form_amount(row.gain)}"
                )
            )
        lines.append("^")
    return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True, slots=True)
class TxfSale:
    """One sale record read back from a TXF file."""

    refnum: int
    description: str
    date_acquired: str
    date_sold: str
    cost_basis: Decimal
    sales_net: Decimal
    detail: str


def _iso(text: str) -> str:
    if not text:
        return ""
    month, day, year = text.split("/")
    return date(int(year), int(month), int(day)).isoformat()


def parse_txf(text: str, source: str = "TXF") -> tuple[dict[str, str], list[TxfSale]]:
    """Read a TXF file's header and its record-format-4 sale records.

    Returns:
        (header fields by letter, sales in file order).

    Raises:
        InputError: a record that is not a sale record of the expected shape.
    """
    records: list[list[str]] = [[]]
    for line in text.splitlines():
        if line == "^":
            records.append([])
        elif line:
            records[-1].append(line)
    header = {line[0]: line[1:] for line in records[0]}
    if header.get("V") != "042":
        raise InputError(InputProblem(source, 1, "V", f"not a TXF V042 file: {header.get('V')!r}"))
    sales: list[TxfSale] = []
    for number, record in enumerate(records[1:], start=1):
        if not record:
            continue
        fields = [(line[0], line[1:]) for line in record]
        kinds = "".join(kind for kind, _ in fields)
        if not kinds.startswith("TNCLPDD$$"):
            raise InputError(InputProblem(source, number, "record", f"not a sale record: {kinds}"))
        values = [value for _, value in fields]
        sales.append(
            TxfSale(
                int(values[1]),
                values[4],
                _iso(values[5]),
                _iso(values[6]),
                D(values[7]),
                D(values[8]),
                next((v for k, v in fields if k == "X"), "").strip(),
            )
        )
    return header, sales
