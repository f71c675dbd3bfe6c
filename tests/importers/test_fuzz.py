"""Fuzzing the detectors and parsers: whatever the file, only InputError may escape.

Rows are built from the real fixtures' cells, mixed with arbitrary text, so that most examples
get past the header and exercise the row parsers rather than failing at the first line.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marginbook.domain.errors import InputError
from marginbook.domain.events import LedgerEvent
from marginbook.importers import registry
from tests.importers._expect import FIXTURES

VENUES = ("coinbase", "kraken", "binance", "gemini", "bybit")


def _fixture_tables() -> list[tuple[str, list[str], list[list[str]]]]:
    tables = []
    for venue in VENUES:
        for path in sorted((FIXTURES / venue).glob("*.csv")):
            records = [r for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) if any(r)]
            start = next(i for i, r in enumerate(records) if len(r) > 3)
            tables.append((venue, records[start], records[start + 1 :]))
    return tables


TABLES = _fixture_tables()
REAL_COLUMNS = sorted({column for _, header, _ in TABLES for column in header})
NASTY = st.sampled_from([
    "", "-", "0", "-0", "1e400", "1E-40", "NaN", "inf", "($1,000.00)", "(0.5 BTC)", "1,2,3", "0x10",
    "9" * 40, "2024-02-30 00:00:00", "2024-13-01", "99999-01-01", "1700000000000", "BUY", "SELL", "trade",
    "margin", "Convert", "Converted 1 ETH to 2 BTC", "Converted 0 ETH to 0 BTC", "BTC", "XXBT", ".S", "€",
    "\u00a0", "\ufeff", "\"", "\n",
])


@st.composite
def venue_file(draw: st.DrawFn) -> str:
    _venue, header, rows = draw(st.sampled_from(TABLES))
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(st.integers(0, 9)) == 0:
        header = header[: draw(st.integers(0, len(header)))]
    columns = list(zip(*rows, strict=False)) if rows else [()] * len(header)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 4))):
        template = draw(st.sampled_from(rows)) if rows else [""] * len(header)
        row = []
        for index, cell in enumerate(template):
            choice = draw(st.integers(0, 5))
            if choice == 0:
                cell = draw(NASTY)
            elif choice == 1:
                cell = draw(st.text(max_size=12))
            elif choice == 2 and index < len(columns) and columns[index]:
                cell = draw(st.sampled_from(columns[index]))
            row.append(cell)
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))]
        writer.writerow(row)
    return out.getvalue()


def _check_read(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_text(text, encoding="utf-8")
        for venue in VENUES:
            module = registry.format_module(venue)
            try:
                events = module.read(path, wallet=None)
            except InputError as error:
                assert error.problems
                continue
            assert all(isinstance(event, LedgerEvent) for event in events)
            assert len({event.id for event in events}) == len(events)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(venue_file())
def test_parsers_raise_only_input_error_on_mutated_venue_files(text: str) -> None:
    _check_read(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_parsers_raise_only_input_error_on_arbitrary_text(text: str) -> None:
    _check_read(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from(REAL_COLUMNS)), max_size=20))
def test_detectors_never_raise(header: list[str]) -> None:
    for venue in VENUES:
        assert registry.format_module(venue).matches(header) in (True, False)
