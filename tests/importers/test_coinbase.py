"""Coinbase transaction history report → events."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.importers import coinbase, registry
from tests.importers._expect import FIXTURES, summary, table, write

REPORT = FIXTURES / "coinbase" / "transactions.csv"
HEADER_2024 = (
    "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,"
    "Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes\n"
)
HEADER_2021 = (
    "Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,Spot Price at Transaction,"
    "Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes\n"
)


def test_report_imports_to_the_exact_events() -> None:
    events = coinbase.read(REPORT)
    assert [summary(e) for e in events] == table("""
coinbase:65e1a2b3c4d5e6f7a8b9c0d1 | 2024-03-01T15:02:11Z | deposit | USD | 10000 | | | | | 6
coinbase:65e2b3c4d5e6f7a8b9c0d1e2 | 2024-03-02T14:05:00Z | buy | BTC | 0.05 | USD | 3062.5 | USD | 36.75 | 7
coinbase:65e3c4d5e6f7a8b9c0d1e2f3 | 2024-03-04T09:41:37Z | buy | ETH | 1.2 | USDC | 4200 | USDC | 16.8 | 8
coinbase:65e4d5e6f7a8b9c0d1e2f3a4 | 2024-03-08T20:17:55Z | sell | BTC | 0.02 | USD | 1360 | USD | 16.32 | 9
coinbase:65e5e6f7a8b9c0d1e2f3a4b5 | 2024-03-10T06:00:02Z | income | SOL | 0.004217 | | | | | 10
coinbase:65e6f7a8b9c0d1e2f3a4b5c6 | 2024-03-12T11:30:00Z | buy | BTC | 0.0290128 | ETH | 0.5 | | | 11
coinbase:65e7a8b9c0d1e2f3a4b5c6d7 | 2024-03-15T13:13:13Z | withdrawal | BTC | 0.01 | | | | | 12
coinbase:65e8b9c0d1e2f3a4b5c6d7e8 | 2024-03-16T08:08:08Z | deposit | SOL | 3 | | | | | 13
coinbase:65e9c0d1e2f3a4b5c6d7e8f9 | 2024-03-20T17:45:00Z | withdrawal | USD | 500 | | | | | 14
    """)
    assert events[4].usd_value == Decimal("0.62")
    assert {e.wallet for e in events} == {"coinbase"}


def test_buy_total_equals_subtotal_plus_fee_as_in_the_report() -> None:
    buy = coinbase.read(REPORT)[1]
    assert buy.counter_amount is not None and buy.fee_amount is not None
    assert buy.counter_amount + buy.fee_amount == Decimal("3099.25")


def test_registry_detects_the_report_by_its_title_block() -> None:
    assert registry.read_header(REPORT) == ["Transactions"]
    assert coinbase.matches(registry.read_header(REPORT))


def test_the_2021_layout_without_id_gets_hash_ids(tmp_path: Path) -> None:
    text = (
        "You can use this transaction report to inform your likely tax obligations.\n\nTransactions\n"
        "User,Jane,abc\n\n"
        + HEADER_2021
        + "2021-03-01T12:00:00Z,Buy,BTC,0.01,USD,50000.00,500.00,502.99,2.99,Bought 0.01 BTC\n"
        + "2021-03-01T12:00:00Z,Buy,BTC,0.01,USD,50000.00,500.00,502.99,2.99,Bought 0.01 BTC\n"
    )
    path = write(tmp_path, "old.csv", text)
    assert coinbase.matches(registry.read_header(path))
    first, second = coinbase.read(path)
    assert summary(first)[0] == "hash" and first.id != second.id
    assert (first.origin.row, second.origin.row) == (7, 8)
    assert [e.id for e in coinbase.read(path)] == [first.id, second.id]


def test_convert_whose_note_disagrees_with_the_row_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        HEADER_2024
        + "X1,2024-03-12 11:30:00 UTC,Convert,ETH,0.5,USD,$4000,$2000,$2000,,Converted 0.6 ETH to 0.03 BTC\n",
    )
    with pytest.raises(InputError) as caught:
        coinbase.read(path)
    assert (caught.value.problems[0].row, caught.value.problems[0].field) == (2, "Notes")


def test_advanced_trade_in_a_non_usd_quote_with_usd_fee_is_ambiguous(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        HEADER_2024
        + "X1,2024-03-04 09:41:37 UTC,Advanced Trade Buy,SOL,2,USD,$150,$300,$301,$1,"
        + "Bought 2 SOL for 0.005 BTC on SOL-BTC at 0.0025 BTC/SOL\n",
    )
    with pytest.raises(InputError, match="ambiguous"):
        coinbase.read(path)


def test_unknown_type_and_duplicate_id_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.csv",
        HEADER_2024
        + "X1,2024-03-01 15:02:11 UTC,Deposit,USD,10,USD,$1,$10,$10,$0,\n"
        + "X1,2024-03-01 15:02:12 UTC,Deposit,USD,11,USD,$1,$11,$11,$0,\n"
        + "X2,2024-03-01 15:02:13 UTC,Futures Margin Call,USD,1,USD,$1,$1,$1,$0,\n",
    )
    with pytest.raises(InputError) as caught:
        coinbase.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(3, ""), (4, "Transaction Type")]
    assert "appears twice" in caught.value.problems[0].problem


def test_a_report_without_its_header_names_the_expected_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "Transactions\nUser,Jane,abc\nTimestamp,Transaction Type,Asset\n")
    with pytest.raises(InputError, match="expected columns: ID, Timestamp"):
        coinbase.read(path)


def test_advance_trade_spelling_is_read_like_advanced_trade(tmp_path: Path) -> None:
    # BittyTax's parser meets "Advance Trade Buy/Sell" (sic) in real reports.
    path = write(
        tmp_path,
        "c.csv",
        HEADER_2024
        + "a1,2024-03-02 14:05:00 UTC,Advance Trade Sell,BTC,-0.01,USD,$61250.00,$612.50,$610.05,"
        "$2.45,Sold 0.01 BTC for 610.05 USD on BTC-USD at 61250.00 USD/BTC\n",
    )
    assert [summary(e) for e in coinbase.read(path)] == table("""
        coinbase:a1 | 2024-03-02T14:05:00Z | sell | BTC | 0.01 | USD | 612.5 | USD | 2.45 | 2
    """)
