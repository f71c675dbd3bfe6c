"""The CSV, TXF and TurboTax files parse back to the same rows as the JSON document."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from marginbook.reports.csv_export import CSV_COLUMNS, LOT_QUANTITY_SEPARATOR, LOT_SEPARATOR
from marginbook.reports.document import Form8949Row, LotSlice, read_document
from marginbook.reports.turbotax import TURBOTAX_COLUMNS, turbotax_text
from marginbook.reports.txf import REFNUM_MEANING, TXF_REFNUM, parse_txf, txf_text
from tests.reports import examples
from tests.reports.conftest import Render, Rendered

ALL_EXAMPLES = (
    examples.example_2_hifo(),
    examples.example_2_fifo(),
    examples.example_8_fees(),
    examples.example_6_interest(),
    examples.loss_year_2024(rows=5),
)


def test_csv_parses_back_to_every_json_row(render: Render) -> None:
    for document in ALL_EXAMPLES:
        (path,) = render("csv", document).values()
        with path.open(newline="", encoding="utf-8") as handle:
            parsed = list(csv.DictReader(handle))
        assert tuple(parsed[0]) == CSV_COLUMNS
        assert len(parsed) == len(document["form_8949"])
        for line, row in zip(parsed, document["form_8949"], strict=True):
            for key in (
                "box",
                "term",
                "description",
                "asset",
                "wallet",
                "date_acquired",
                "date_sold",
                "disposal_id",
            ):
                assert line[key] == row[key], key
            for key in ("quantity", "proceeds", "cost_basis", "adjustment", "gain"):
                assert Decimal(line[key]) == Decimal(row[key]), key
            pairs = [pair.split(LOT_QUANTITY_SEPARATOR) for pair in line["lot_ids"].split(LOT_SEPARATOR)]
            assert [(lot_id, Decimal(units)) for lot_id, units in pairs] == [
                (lot["acquisition_id"], Decimal(lot["quantity"])) for lot in row["lots"]
            ]


def test_txf_parses_back_to_every_row_with_its_term_and_copy(render: Render) -> None:
    for document in ALL_EXAMPLES:
        (path,) = render("txf", document).values()
        raw = path.read_bytes()
        assert raw.startswith(b"V042\r\nAmarginbook\r\nD") and raw.endswith(b"^\r\n")
        header, sales = parse_txf(raw.decode("ascii"))
        assert header["V"] == "042"
        assert len(sales) == len(document["form_8949"])
        for sale, row in zip(sales, document["form_8949"], strict=True):
            term, copy = REFNUM_MEANING[sale.refnum]
            assert term == row["term"]
            assert copy == {"G": "A", "H": "B", "I": "C", "J": "D", "K": "E", "L": "F"}.get(
                row["box"], row["box"]
            )
            assert sale.description == row["description"]
            assert sale.date_sold == row["date_sold"]
            assert sale.date_acquired == ("" if row["date_acquired"] == "VARIOUS" else row["date_acquired"])
            assert sale.cost_basis == Decimal(row["cost_basis"])
            assert sale.sales_net == Decimal(row["proceeds"])


def test_txf_refnums_follow_the_spec_for_each_box() -> None:
    assert {box: TXF_REFNUM[box] for box in "ABCDEF"} == {
        "A": 321,
        "B": 711,
        "C": 712,
        "D": 323,
        "E": 713,
        "F": 714,
    }
    assert [TXF_REFNUM[box] for box in "GHIJKL"] == [321, 711, 712, 323, 713, 714]


def test_txf_adjustment_goes_to_a_detail_line() -> None:
    document = read_document(examples.example_8_fees())
    row = document.rows[0]
    adjusted = Form8949Row(
        **{
            **{f: getattr(row, f) for f in row.__slots__},
            "adjustment_code": "E",
            "adjustment": Decimal("-10.00"),
            "gain": Decimal("480.00"),
        }
    )
    _, (sale,) = parse_txf(txf_text([adjusted], date(2026, 2, 1)))
    assert sale.detail == "Form 8949 box H, code E, adjustment (10.00), gain 480.00"


def test_turbotax_splits_example_2_by_lot_with_the_spec_figures(rendered: Rendered) -> None:
    (path,) = rendered("example_2_fifo", "turbotax").values()
    with path.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert tuple(lines[0]) == TURBOTAX_COLUMNS
    # Spec Ex 2 FIFO: L1 2.0 ETH 6,000 / 4,000; L2 0.5 ETH 1,500 / 1,750.
    assert lines[1:] == [
        ["ETH", "01/10/2024", "4000.00", "08/01/2025", "6000.00"],
        ["ETH", "06/15/2024", "1750.00", "08/01/2025", "1500.00"],
    ]


_cents = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c) / 100)
_units = st.integers(min_value=1, max_value=10**12).map(lambda u: Decimal(u) / 10**8)


@given(proceeds=_cents, lots=st.lists(st.tuples(_units, _cents), min_size=2, max_size=6))
def test_turbotax_lot_lines_add_back_to_the_row_exactly(
    proceeds: Decimal, lots: list[tuple[Decimal, Decimal]]
) -> None:
    slices = tuple(
        LotSlice(f"a{i}", quantity, basis, "2024-01-01") for i, (quantity, basis) in enumerate(lots)
    )
    basis_total = sum((basis for _, basis in lots), Decimal(0))
    row = Form8949Row(
        "I",
        "short",
        "x",
        "ETH",
        "w",
        sum((q for q, _ in lots), Decimal(0)),
        "VARIOUS",
        "2025-06-01",
        proceeds,
        basis_total,
        "",
        Decimal(0),
        proceeds - basis_total,
        "d",
        slices,
    )
    lines = list(csv.reader(io.StringIO(turbotax_text([row]))))[1:]
    assert len(lines) == len(lots)
    assert sum(Decimal(line[4]) for line in lines) == proceeds
    assert sum(Decimal(line[2]) for line in lines) == basis_total
