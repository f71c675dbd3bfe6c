"""The shared cell parsers: exact decimals in the venues' spellings, UTC times, row problems."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marginbook.domain.errors import InputError
from marginbook.importers import kraken
from marginbook.importers._csvrows import CellError, decimal_of, utc_time
from tests.importers._expect import write


@pytest.mark.parametrize(("text", "value"), [
    ("0.1", "0.1"), ("-150.2500", "-150.25"), ("$30,000.00", "30000"), ("-$714.00", "-714"),
    ("($1,234.56)", "-1234.56"), ("€3343.11229989", "3343.11229989"), ("+5", "5"), ("1E-8", "0.00000001"),
    (" 0.000000000000000001 ", "0.000000000000000001"),
])
def test_decimal_cells_in_venue_spellings(text: str, value: str) -> None:
    assert decimal_of(text, "amount") == Decimal(value)


@pytest.mark.parametrize("text", ["abc", "-", "$", "()", "1.2.3", "NaN", "inf", "1e400", "0x10", "1 000"])
def test_bad_decimal_cells_name_their_column(text: str) -> None:
    with pytest.raises(CellError) as caught:
        decimal_of(text, "Change")
    assert caught.value.field == "Change"


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12, places=18))
def test_decimal_round_trips_exactly(value: Decimal) -> None:
    assert decimal_of(format(value, "f"), "x") == value


@pytest.mark.parametrize(("text", "moment"), [
    ("2024-03-02 14:05:00", datetime(2024, 3, 2, 14, 5, tzinfo=UTC)),
    ("2024-03-02 14:05:00 UTC", datetime(2024, 3, 2, 14, 5, tzinfo=UTC)),
    ("2024-03-02T09:05:00-05:00", datetime(2024, 3, 2, 14, 5, tzinfo=UTC)),
    ("2024-03-05 18:30:21.5521", datetime(2024, 3, 5, 18, 30, 21, 552000, tzinfo=UTC)),
    ("1709388300000", datetime(2024, 3, 2, 14, 5, tzinfo=UTC)),
    ("1709388300", datetime(2024, 3, 2, 14, 5, tzinfo=UTC)),
])
def test_times_without_zone_are_utc(text: str, moment: datetime) -> None:
    assert utc_time(text, "time") == moment


@pytest.mark.parametrize("text", ["", "yesterday", "2024-02-30 00:00:00", "03/02/2024 14:05"])
def test_bad_times_name_their_column(text: str) -> None:
    with pytest.raises(CellError) as caught:
        utc_time(text, "UTC_Time")
    assert caught.value.field == "UTC_Time"


def test_negating_a_long_quantity_is_exact(tmp_path: Path) -> None:
    path = write(tmp_path, "k.csv", "txid,refid,time,type,subtype,aclass,asset,amount,fee,balance\n"
                 "L1,R1,2024-01-01 00:00:00,withdrawal,,currency,XXBT,-10000000000.000000000000000001,0,0\n")
    (event,) = kraken.read(path)
    assert event.amount == Decimal("10000000000.000000000000000001")


def test_a_row_longer_than_the_header_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "k.csv", "txid,refid,time,type,subtype,aclass,asset,amount,fee,balance\n"
                 "L1,R1,2024-01-01 00:00:00,deposit,,currency,XXBT,1,0,1,surplus\n")
    with pytest.raises(InputError, match="more cells than the header has: surplus"):
        kraken.read(path)


def test_a_spreadsheet_saved_as_csv_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputError, match="NUL bytes"):
        kraken.read(path)


def test_a_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("txid;montant\n€".encode("cp1252"))
    with pytest.raises(InputError, match="not UTF-8"):
        kraken.read(path)
