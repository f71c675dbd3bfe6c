"""Binance trade history, transaction history statement and USDⓈ-M futures history → events."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.importers import binance
from tests.importers._expect import FIXTURES, summary, table, write

STATEMENT_HEADER = "User_ID,UTC_Time,Account,Operation,Coin,Change,Remark\n"


def test_trade_history_imports_fills_with_units_taken_from_the_cells() -> None:
    events = binance.read(FIXTURES / "binance" / "trade_history.csv")
    assert [summary(e) for e in events] == table("""
        hash | 2024-02-01T10:15:30Z | buy | BTC | 0.02 | USDT | 850 | BTC | 0.00002 | 2
        hash | 2024-02-01T10:15:30Z | buy | BTC | 0.02 | USDT | 850 | BTC | 0.00002 | 3
        hash | 2024-02-03T22:01:07Z | sell | ETH | 1.5 | USDT | 3450.75 | BNB | 0.004123 | 4
        hash | 2024-02-05T04:44:44Z | buy | SOL | 10 | BTC | 0.0235 | | | 5
    """)
    # Two identical partial fills stay two events with distinct, stable ids.
    assert events[0].id != events[1].id
    assert [e.id for e in binance.read(FIXTURES / "binance" / "trade_history.csv")] == [e.id for e in events]


def test_legacy_trade_history_splits_the_market_code() -> None:
    events = binance.read(FIXTURES / "binance" / "trade_history_legacy.csv", wallet="binance-us")
    assert [summary(e) for e in events] == table("""
        hash | 2021-05-04T08:00:01Z | buy | ETH | 0.5 | USDT | 1650.06 | ETH | 0.0005 | 2
        hash | 2021-05-06T19:45:10Z | sell | BTC | 0.01 | BUSD | 570 | BUSD | 0.57 | 3
    """)
    assert {e.wallet for e in events} == {"binance-us"}


def test_statement_maps_margin_loans_interest_trades_and_futures() -> None:
    events = binance.read(FIXTURES / "binance" / "statement.csv")
    # Row 6: two partial fills in one second (rows 6-9) are summed into one short sale of the
    # borrowed BTC, with the fee of row 10. Transfers between the user's own accounts give nothing.
    assert [summary(e) for e in events] == table("""
        hash | 2024-04-01T08:00:00Z | deposit | USDT | 20000 | | | | | 2
        hash | 2024-04-01T09:12:31Z | borrow | BTC | 0.1 | | | | | 5
        hash | 2024-04-01T09:12:45Z | sell | BTC | 0.1 | USDT | 7000 | USDT | 7 | 6
        hash | 2024-04-01T10:00:00Z | interest | BTC | 0.00000208 | | | | | 11
        hash | 2024-04-03T16:20:05Z | buy | BTC | 0.1001 | USDT | 6606.6 | BNB | 0.011 | 12
        hash | 2024-04-03T16:21:00Z | repay | BTC | 0.1 | | | | | 15
        hash | 2024-04-05T00:00:00Z | funding | USDT | -1.2345 | | | | | 16
        hash | 2024-04-05T08:00:00Z | funding | USDT | 0.8765 | | | | | 17
        hash | 2024-04-05T13:37:12Z | fee | USDT | 2.1 | | | | | 18
        hash | 2024-04-05T13:37:12Z | realized_pnl | USDT | 153.4 | | | | | 19
        hash | 2024-04-07T00:01:02Z | income | USDT | 0.4123 | | | | | 20
        hash | 2024-04-08T12:00:00Z | withdrawal | USDT | 1000 | | | | | 21
    """)


def test_futures_history_maps_income_types() -> None:
    events = binance.read(FIXTURES / "binance" / "futures_transactions.csv")
    assert [summary(e) for e in events] == table("""
        hash | 2024-05-02T00:00:00Z | funding | USDT | -0.5214 | | | | | 2
        hash | 2024-05-02T03:14:15Z | fee | USDT | 1.68 | | | | | 3
        hash | 2024-05-02T03:14:15Z | realized_pnl | USDT | -37.5 | | | | | 4
        hash | 2024-05-02T08:00:00Z | funding | USDT | 0.1102 | | | | | 6
        hash | 2024-05-03T11:11:11Z | realized_pnl | USDT | 212.25 | | | | | 7
    """)


def test_trades_of_three_assets_in_one_second_are_ambiguous(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        STATEMENT_HEADER
        + "1,2024-04-01 09:12:45,Spot,Transaction Spend,USDT,-100,\n"
        + "1,2024-04-01 09:12:45,Spot,Transaction Buy,BTC,0.001,\n"
        + "1,2024-04-01 09:12:45,Spot,Transaction Spend,ETH,-0.01,\n"
        + "1,2024-04-01 09:12:45,Spot,Transaction Buy,SOL,0.1,\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    assert [p.row for p in caught.value.problems] == [2, 3, 4, 5]
    assert "cannot be read as one trade" in caught.value.problems[0].problem


def test_unknown_operation_is_reported_not_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        STATEMENT_HEADER
        + "1,2024-04-01 09:00:00,Spot,Deposit,USDT,100,\n"
        + "1,2024-04-01 09:12:45,Cross Margin,Cross Margin Liquidation - Small Assets Takeover,BTC,-0.1,\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    (problem,) = caught.value.problems
    assert (problem.row, problem.field) == (3, "Operation")


def test_malformed_trade_history_cells_name_their_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        "Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n"
        "2024-02-01 10:15:30,BTCUSDT,HOLD,42500,0.02BTC,850USDT,0BNB\n"
        "2024-02-01 10:15:31,BTCUSDT,BUY,42500,BTC0.02,850USDT,0BNB\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "Side"), (3, "Executed")]


def test_a_changed_futures_layout_names_its_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path, "f.csv", "Time,Type,Amount,Coin,Symbol\n2024-05-02 00:00:00,FUNDING_FEE,-1,USDT,X\n"
    )
    with pytest.raises(InputError, match="missing column\\(s\\) Asset; expected columns: Time, Type, Amount"):
        binance.read(path)


def test_futures_transaction_history_with_transaction_ids() -> None:
    # The layout BittyTax reads: Date(UTC),type,Amount,Asset,Symbol,Transaction ID.
    events = binance.read(FIXTURES / "binance" / "futures_history.csv")
    assert [summary(e) for e in events] == table("""
        hash | 2024-06-10T06:15:02Z | fee | USDT | 1.3752 | | | | | 3
        hash | 2024-06-10T08:00:00Z | funding | USDT | -0.4183 | | | | | 4
        hash | 2024-06-10T16:00:00Z | funding | USDT | 0.2075 | | | | | 5
        hash | 2024-06-11T09:47:31Z | fee | USDT | 1.3921 | | | | | 6
        hash | 2024-06-11T09:47:31Z | realized_pnl | USDT | 84.6 | | | | | 7
        hash | 2024-06-12T13:05:09Z | fee | BNB | 0.0084 | | | | | 8
        hash | 2024-06-12T13:05:09Z | realized_pnl | USDT | -26.13 | | | | | 9
    """)
    assert [e.origin.ref for e in events][:2] == ["3890112201", "7315004802"]


def test_futures_coin_swap_rows_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "f.csv",
        "Date(UTC),type,Amount,Asset,Symbol,Transaction ID\n"
        "2024-06-10 06:12:40,COIN_SWAP_DEPOSIT,0.01,BTC,,1\n"
        "2024-06-10 06:12:40,FUNDING_FEE,x,USDT,BTCUSDT,2\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "type"), (3, "Amount")]


def test_statement_without_user_id_and_other_account_spellings(tmp_path: Path) -> None:
    # Older statements have no User_ID column; BittyTax meets "USD-MFutures", "CrossMargin",
    # "Margin loan" and "Realize profit and loss" spellings.
    path = write(
        tmp_path,
        "s.csv",
        "UTC_Time,Account,Operation,Coin,Change,Remark\n"
        "2022-03-01 10:00:00,CrossMargin,Margin loan,USDT,500,\n"
        "2022-03-01 11:00:00,USD-MFutures,Realize profit and loss,USDT,-12.5,\n"
        "2022-03-01 11:00:00,USD-MFutures,Fee,USDT,-0.75,\n"
        "2022-03-01 12:00:00,Coin-M Futures,Funding Fee,BTC,-0.00001,\n"
        "2022-03-02 09:00:00,Spot,BNB Fee Deduction,BNB,-0.0002,\n"
        "2022-03-02 10:00:00,CrossMargin,Margin Repayment,USDT,-500,\n",
    )
    assert [summary(e) for e in binance.read(path)] == table("""
        hash | 2022-03-01T10:00:00Z | borrow | USDT | 500 | | | | | 2
        hash | 2022-03-01T11:00:00Z | realized_pnl | USDT | -12.5 | | | | | 3
        hash | 2022-03-01T11:00:00Z | fee | USDT | 0.75 | | | | | 4
        hash | 2022-03-01T12:00:00Z | funding | BTC | -0.00001 | | | | | 5
        hash | 2022-03-02T09:00:00Z | fee | BNB | 0.0002 | | | | | 6
        hash | 2022-03-02T10:00:00Z | repay | USDT | 500 | | | | | 7
    """)


def test_statement_insurance_fund_and_credited_bnb_deduction_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        STATEMENT_HEADER
        + "1,2022-03-01 11:00:00,USD-M Futures,Insurance Fund Compensation,USDT,-3,\n"
        + "1,2022-03-02 09:00:00,Spot,BNB Fee Deduction,BNB,0.0002,\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "Operation"), (3, "Operation")]


US_HEADER_OLD = (
    "User_Id,Time,Category,Operation,Order_Id,Transaction_Id,Primary_Asset,Realized_Amount_For_Primary_Asset,"
    "Realized_Amount_For_Primary_Asset_In_USD_Value,Base_Asset,Realized_Amount_For_Base_Asset,"
    "Realized_Amount_For_Base_Asset_In_USD_Value,Quote_Asset,Realized_Amount_For_Quote_Asset,"
    "Realized_Amount_For_Quote_Asset_In_USD_Value,Fee_Asset,Realized_Amount_For_Fee_Asset,"
    "Realized_Amount_For_Fee_Asset_In_USD_Value,Payment_Method,Withdrawal_Method,Additional_Note\n"
)


def test_binance_us_history_maps_each_category() -> None:
    events = binance.read(FIXTURES / "binance" / "binance_us_history.csv", wallet="binance-us")
    # Row 3: an empty quote amount in USD is the USD value column (as BittyTax reads it).
    # Row 7: Convert gives the base asset and receives the quote asset.
    assert [summary(e) for e in events] == table("""
        binance:190230412000001 | 2023-04-12T15:20:31Z | deposit | USD | 2500 | | | | | 2
        binance:190230412000002 | 2023-04-12T16:02:10Z | buy | BTC | 0.05 | USD | 1500 | BNB | 0.0045 | 3
        binance:190230413000003 | 2023-04-13T09:15:44Z | sell | ETH | 0.4 | USDT | 761.2 | USDT | 0.7612 | 4
        binance:190230414000004 | 2023-04-14T00:00:00Z | income | ADA | 1.32 | | | | | 5
        binance:190230415000005 | 2023-04-15T00:00:00Z | fee | ADA | 0.2 | | | | | 6
        binance:190230416000006 | 2023-04-16T11:30:00Z | buy | ADA | 256.41025641 | USDT | 100 | | | 7
        binance:190230417000007 | 2023-04-17T18:45:12Z | withdrawal | BTC | 0.05 | | | BTC | 0.0001 | 8
    """)
    assert events[3].usd_value == Decimal("0.51")


def test_binance_us_older_spelling_and_its_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "us.csv",
        US_HEADER_OLD
        + "1,2022-01-05 10:00:00,Spot Trading,Buy,9,t1,,,,SOL,2,300,USD,,300,USD,0.3,0.3,,,\n"
        + "1,2022-01-05 11:00:00,Spot Trading,Hold,9,t2,,,,SOL,2,300,USD,,300,USD,0.3,0.3,,,\n"
        + "1,2022-01-05 12:00:00,Spot Trading,Buy,9,t3,,,,SOL,2,300,BTC,,300,BTC,0.3,0.3,,,\n"
        + "1,2022-01-05 13:00:00,Margin,Borrow,9,t4,USD,5,5,,,,,,,,,,,,\n"
        + "1,2022-01-05 14:00:00,Distribution,Others,9,t5,DOGE,-5,0.4,,,,,,,,,,,,\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [
        (3, "Operation"), (4, "Realized_Amount_For_Quote_Asset"), (5, "Category"),
        (6, "Realized_Amount_For_Primary_Asset"),
    ]


def test_a_trade_straddling_a_second_is_joined(tmp_path: Path) -> None:
    # The spend is written at :45, the buy and the fee at :46 (BittyTax's parser also looks one
    # second ahead); together they are one trade, booked at the first row's time.
    path = write(
        tmp_path,
        "s.csv",
        STATEMENT_HEADER
        + "1,2024-04-01 09:12:45,Spot,Transaction Spend,USDT,-650.5,\n"
        + "1,2024-04-01 09:12:46,Spot,Transaction Buy,ETH,0.2,\n"
        + "1,2024-04-01 09:12:46,Spot,Transaction Fee,ETH,-0.0002,\n"
        + "1,2024-04-01 09:12:50,Spot,Withdraw,ETH,-0.1998,\n",
    )
    assert [summary(e) for e in binance.read(path)] == table("""
        hash | 2024-04-01T09:12:45Z | buy | ETH | 0.2 | USDT | 650.5 | ETH | 0.0002 | 2
        hash | 2024-04-01T09:12:50Z | withdrawal | ETH | 0.1998 | | | | | 5
    """)


def test_one_sided_groups_two_seconds_apart_stay_ambiguous(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        STATEMENT_HEADER
        + "1,2024-04-01 09:12:45,Spot,Transaction Spend,USDT,-650.5,\n"
        + "1,2024-04-01 09:12:47,Spot,Transaction Buy,ETH,0.2,\n"
        + "1,2024-04-01 09:12:48,Margin,Transaction Sold,ETH,-0.2,\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "UTC_Time"), (3, "UTC_Time"), (4, "UTC_Time")]


def test_statement_margin_fee_liquidation_rows_and_two_digit_years(tmp_path: Path) -> None:
    # "Margin Fee" is the cross-margin interest, "… Liquidation - Fee" a fee and
    # "… Liquidation - Repayment" the debt repaid from collateral, as public statement parsers
    # read them; a takeover of the collateral stays a row to decide by hand.
    path = write(
        tmp_path,
        "s.csv",
        STATEMENT_HEADER
        + "1,24-01-15 10:00:00,Cross Margin,Margin Fee,USDT,-0.0421,\n"
        + "1,24-01-15 11:00:00,Isolated Margin,Isolated Margin Liquidation - Fee,USDT,-3.5,\n"
        + "1,24-01-15 11:00:00,Cross Margin,Cross Margin Liquidation - Repayment,BTC,-0.01,\n"
        + "1,24-01-15 12:00:00,Cross Margin,Margin Fee,USDT,0.5,\n",
    )
    with pytest.raises(InputError) as caught:
        binance.read(path)
    # A credited margin fee is not interest paid: reported.
    assert [(p.row, p.field) for p in caught.value.problems] == [(5, "Operation")]
    path.write_text(path.read_text().rsplit("1,24-01-15 12:00:00", 1)[0], encoding="utf-8")
    assert [summary(e) for e in binance.read(path)] == table("""
        hash | 2024-01-15T10:00:00Z | interest | USDT | 0.0421 | | | | | 2
        hash | 2024-01-15T11:00:00Z | fee | USDT | 3.5 | | | | | 3
        hash | 2024-01-15T11:00:00Z | repay | BTC | 0.01 | | | | | 4
    """)
