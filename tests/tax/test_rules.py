"""Holding period, capital loss limit and carryover worksheet, profile and allocation files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marginbook.domain.errors import InputError
from marginbook.domain.numbers import D
from marginbook.tax.allocation import read_allocation
from marginbook.tax.book import Scope
from marginbook.tax.carryover import capital_loss_carryover
from marginbook.tax.engine import RunOptions
from marginbook.tax.holding import Term, first_long_term_day, term_of
from marginbook.tax.profile import MonthEndRule
from marginbook.tax.report import compute_tax_report
from tests.tax.ledger_text import FakePrices, document, events, profile

# --- holding period ----------------------------------------------------------------------------


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.integers(0, 800))
def test_long_term_means_more_than_one_calendar_year(acquired: date, days: int) -> None:
    disposed = acquired + timedelta(days=days)
    # Reference by tuple comparison (no day counting): after the anniversary date ...
    after_anniversary = (disposed.year, disposed.month, disposed.day) > (
        acquired.year + 1,
        acquired.month,
        acquired.day,
    )
    assert (term_of(acquired, disposed, MonthEndRule.ANNIVERSARY) is Term.LONG) == after_anniversary
    # ... and under Rev. Rul. 66-7 a month-end purchase waits for the 13th month.
    if _is_month_end(acquired):
        expected = (disposed.year, disposed.month) > (acquired.year + 1, acquired.month)
    else:
        expected = after_anniversary
    assert (term_of(acquired, disposed) is Term.LONG) == expected


def test_first_long_term_days_of_the_spec() -> None:
    # Pub 544: bought 6/15/2023, sold 6/15/2024 is short-term, sold 6/17/2024 long-term.
    assert first_long_term_day(date(2023, 6, 15)) == date(2024, 6, 16)
    assert term_of(date(2023, 6, 15), date(2024, 6, 15)) is Term.SHORT
    assert term_of(date(2023, 6, 15), date(2024, 6, 17)) is Term.LONG
    assert first_long_term_day(date(2024, 2, 29)) == date(2025, 3, 1)
    assert first_long_term_day(date(2023, 2, 28)) == date(2024, 3, 1)
    assert first_long_term_day(date(2023, 2, 28), MonthEndRule.ANNIVERSARY) == date(2024, 2, 29)
    assert first_long_term_day(date(2024, 12, 31)) == date(2026, 1, 1)


# --- Schedule D loss limit and carryover --------------------------------------------------------

LOSS_2024 = """
id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount
a,2024-01-02T00:00:00Z,buy,nano,BTC,1,USD,50000
s,2024-02-01T00:00:00Z,sell,nano,BTC,1,USD,40000
e,2022-01-02T00:00:00Z,buy,nano,ETH,1,USD,1000
t,2024-03-01T00:00:00Z,sell,nano,ETH,1,USD,3000
x,2025-01-02T00:00:00Z,buy,nano,SOL,10,USD,1000
y,2025-02-01T00:00:00Z,sell,nano,SOL,10,USD,2000
"""


def test_loss_limit_and_carryover_worksheet_chain_into_next_year() -> None:
    toml = """
    [year.2024]
    taxable_income = "50000"
    """
    doc = document(LOSS_2024, 2024, toml)
    sched = doc["schedule_d"]
    assert (sched["line_7"], sched["line_15"], sched["line_16"], sched["line_21"]) == (
        "-10000.00",
        "2000.00",
        "-8000.00",
        "-3000.00",
    )
    assert sched["carryover_to_next_year"] == {"short_term": "5000.00", "long_term": "0.00"}
    doc25 = document(LOSS_2024, 2025, toml)
    sched = doc25["schedule_d"]
    assert (sched["line_6"], sched["line_7"], sched["line_16"], sched["line_21"]) == (
        "-5000.00",
        "-4000.00",
        "-4000.00",
        "-3000.00",
    )
    assert doc25["carryover_in"]["short_term"] == "5000.00"
    assert sched["carryover_to_next_year"] == {"short_term": "1000.00", "long_term": "0.00"}


def test_negative_taxable_income_carries_more_and_mfs_limit_is_1500() -> None:
    toml = """
    [taxpayer]
    filing_status = "married_separate"
    [year.2024]
    taxable_income = "-1000"
    """
    sched = document(LOSS_2024, 2024, toml)["schedule_d"]
    assert sched["line_21"] == "-1500.00"
    # L3 = max(0, -1000 + 1500) = 500; ST carry = 10000 - (500 + 2000).
    assert sched["carryover_to_next_year"]["short_term"] == "7500.00"


def test_profile_carryover_starts_the_chain() -> None:
    toml = """
    [carryover]
    short_term = "1000"
    long_term = "20000"
    investment_interest = "300"
    """
    doc = document(LOSS_2024, 2024, toml)
    sched = doc["schedule_d"]
    assert (sched["line_6"], sched["line_14"], sched["line_15"]) == ("-1000.00", "-20000.00", "-18000.00")
    assert doc["form_4952"]["line_2"] == "300.00"


def test_worksheet_long_term_loss_is_absorbed_after_short_term() -> None:
    carry = capital_loss_carryover(D("-1000"), D("-6000"), D("-3000"), D("40000"))
    assert (carry.short_term, carry.long_term) == (D(0), D("4000"))


# --- profile ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[treatment]\nmetod = "fifo"', "treatment.metod: unknown key"),
        ("[year.2025]\ntaxable_income = 80000", "year.2025.taxable_income: amounts are strings"),
        ('[year.2025]\nmethod = "avg"', "year.2025.method"),
        ('[taxpayer]\ntimezone = "Mars/Olympus"', "taxpayer.timezone"),
        ('[carryover]\nshort_term = "-5"', "carryover.short_term"),
        ('[wallets.coinbase]\nform_1099da = "yes"', "wallets.coinbase.form_1099da"),
    ],
)
def test_profile_problems_name_the_key(toml: str, needle: str) -> None:
    with pytest.raises(InputError) as error:
        profile(toml)
    assert needle in str(error.value)


def test_profile_defaults() -> None:
    p = profile("")
    assert p.timezone == "UTC" and p.dust == D("0.00000001") and p.year(2025).method is None


# --- allocation files ---------------------------------------------------------------------------

EX3 = """
id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount
A1,2023-01-05T12:00:00Z,buy,wallet-a,BTC,1,USD,20000
B1,2024-03-10T12:00:00Z,buy,wallet-b,BTC,1,USD,70000
S,2025-05-01T12:00:00Z,sell,wallet-b,BTC,1,USD,95000
"""


def _run_with_allocation(tmp_path: Path, text: str) -> dict:
    from marginbook.tax.document import to_document

    path = tmp_path / "allocation.csv"
    path.write_text(text)
    requests, made_at = read_allocation(path)
    options = RunOptions(scope=Scope.TRANSITION, allocation=requests, allocation_made_at=made_at)
    return to_document(compute_tax_report(events(EX3), 2025, profile(""), FakePrices(), options))


def test_an_allocation_file_decides_which_basis_each_wallet_gets(tmp_path: Path) -> None:
    doc = _run_with_allocation(
        tmp_path,
        "asset,wallet,acquisition_id,quantity,made_at\n"
        "BTC,wallet-a,B1,1,2024-12-20T00:00:00Z\n"
        "BTC,wallet-b,A1,1,2024-12-20T00:00:00Z\n",
    )
    (row,) = doc["form_8949"]
    assert (row["cost_basis"], row["gain"]) == ("20000.00", "75000.00")
    assert {(a["wallet"], a["acquisition_id"], a["rule"]) for a in doc["allocation"]} == {
        ("wallet-a", "B1", "file"),
        ("wallet-b", "A1", "file"),
    }
    assert not any("deadline" in w for w in doc["warnings"])


def test_a_late_allocation_is_warned_about(tmp_path: Path) -> None:
    doc = _run_with_allocation(
        tmp_path,
        "asset,wallet,acquisition_id,quantity,made_at\n"
        "BTC,wallet-a,B1,1,2025-02-01T00:00:00Z\n"
        "BTC,wallet-b,A1,1,2025-02-01T00:00:00Z\n",
    )
    assert any("deadline" in w for w in doc["warnings"])


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ("BTC,wallet-a,A1,1\nBTC,wallet-b,A1,1\n", "allocation.csv:3: quantity: allocates 2 of lot 'A1'"),
        ("BTC,wallet-a,A1,1\nBTC,wallet-b,ZZ,1\n", "allocation.csv:3: acquisition_id"),
        ("BTC,wallet-a,A1,0.5\nBTC,wallet-b,B1,1\n", "allocates 0.5 BTC to wallet 'wallet-a', which holds 1"),
        ("BTC,wallet-a,A1,1\nBTC,wallet-c,B1,1\n", "wallet 'wallet-c' holds no BTC"),
        ("ETH,wallet-a,A1,1\n", "no lots of ETH"),
    ],
)
def test_an_invalid_allocation_is_bad_input_naming_the_row(tmp_path: Path, rows: str, needle: str) -> None:
    with pytest.raises(InputError) as error:
        _run_with_allocation(tmp_path, "asset,wallet,acquisition_id,quantity\n" + rows)
    assert any(needle in str(problem) for problem in error.value.problems), error.value.problems


def test_an_allocation_file_with_an_unknown_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "allocation.csv"
    path.write_text("asset,wallet,acquisition_id,qty\nBTC,a,A1,1\n")
    with pytest.raises(InputError, match="quantity: required column is missing"):
        read_allocation(path)
