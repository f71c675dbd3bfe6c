"""Bybit closed P&L export and transaction log → events."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.importers import bybit
from marginbook.importers._csvrows import CellError
from tests.importers._expect import FIXTURES, summary, table, write

LOG_HEADER = (
    "Uid,Currency,Contract,Type,Direction,Quantity,Position,Filled Price,Funding,Fee Paid,Cash Flow,"
    "Change,Wallet Balance,Action,Time(UTC)\n"
)


def test_closed_pnl_rows_become_net_realized_pnl_in_the_settlement_asset() -> None:
    events = bybit.read(FIXTURES / "bybit" / "closed_pnl.csv")
    assert [summary(e) for e in events] == table("""
        hash | 2024-03-14T09:31:05Z | realized_pnl | USDT | 98.7125 | | | | | 2
        hash | 2024-03-15T17:02:44Z | realized_pnl | USDT | -41.5342 | | | | | 3
        hash | 2024-03-19T03:11:59Z | realized_pnl | USDT | -287.2881 | | | | | 4
        hash | 2024-03-21T12:00:00Z | realized_pnl | BTC | 0.00099215 | | | | | 5
    """)
    assert "Liquidation" in (events[2].note or "")


def test_transaction_log_separates_fees_funding_and_pnl() -> None:
    events = bybit.read(FIXTURES / "bybit" / "transaction_log.csv")
    assert [summary(e) for e in events] == table("""
        hash | 2024-03-14T08:10:12Z | fee | USDT | 1.684375 | | | | | 3
        hash | 2024-03-14T16:00:00Z | funding | USDT | -0.3065 | | | | | 4
        hash | 2024-03-15T00:00:00Z | funding | USDT | 0.1545 | | | | | 5
        hash | 2024-03-15T09:31:05Z | realized_pnl | USDT | 103.025 | | | USDT | 1.7410388 | 6
    """)
    # The events move the wallet exactly as its balance column does: 5000 → 5099.4475862.
    moved = sum((-e.amount if e.kind.value == "fee" else e.amount) - (e.fee_amount or 0) for e in events)
    assert moved == Decimal("5099.4475862") - Decimal("5000")


def test_transaction_log_rejects_a_change_that_does_not_reconcile(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.csv",
        LOG_HEADER
        + "1,USDT,BTCUSDT,TRADE,SELL,0.05,0,63310.5,0,1.74,103.02,103.02,0,CLOSE,2024-03-15 09:31:05\n"
        + "1,USDT,BTCUSDT,SETTLEMENT,--,0,0.05,61300,-0.3,0,0,0.3,0,--,2024-03-15 16:00:00\n",
    )
    with pytest.raises(InputError) as caught:
        bybit.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "Change"), (3, "Change")]


def test_unknown_transaction_type_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path, "l.csv", LOG_HEADER + "1,USDT,,BONUS,--,0,0,0,0,0,0,10,10,--,2024-03-15 09:31:05\n"
    )
    with pytest.raises(InputError, match="'BONUS' is not understood"):
        bybit.read(path)


@pytest.mark.parametrize(
    ("contract", "asset"),
    [
        ("BTCUSDT", "USDT"),
        ("ETHPERP", "USDC"),
        ("BTCUSDC", "USDC"),
        ("BTCUSD", "BTC"),
        ("ETHUSDH25", "ETH"),
        ("BTCUSDT-27DEC24", "USDT"),
    ],
)
def test_settlement_asset_of_contracts(contract: str, asset: str) -> None:
    assert bybit.settlement_asset(contract) == asset


def test_settlement_asset_of_an_unknown_contract_is_an_error() -> None:
    with pytest.raises(CellError):
        bybit.settlement_asset("FOOBAR")


CLASSIC_HEADER = (
    "Time,Currency,Contract,Type,Direction,Quantity,Position,Filled Price,Funding,Fee Paid,Cash Flow,"
    "Change,Wallet Balance,Fee Rate,Trade ID,Order ID\n"
)
SPOT_HEADER = (
    "Spot Pairs,Order Type,Direction,Filled Value,Filled Price,Filled Quantity,Fees,Transaction ID,"
    "Order No.,Timestamp (UTC)\n"
)


def test_transaction_log_funding_follows_the_documented_sign() -> None:
    # Bybit's v5 transaction log: Funding positive = received, Change = Cash Flow + Funding - Fee.
    events = bybit.read(FIXTURES / "bybit" / "transaction_log.csv")
    funding = [(e.amount, e.origin.row) for e in events if e.kind.value == "funding"]
    assert funding == [(Decimal("-0.3065"), 4), (Decimal("0.1545"), 5)]


def test_classic_log_books_fees_funding_and_pnl_newest_first_file() -> None:
    events = bybit.read(FIXTURES / "bybit" / "classic_log.csv")
    # The file lists newest first; events keep the file's order. Transfers give nothing.
    assert [summary(e) for e in events] == table("""
        hash | 2023-01-04T09:30:45Z | realized_pnl | USDT | 15 | | | USDT | 1.017 | 3
        hash | 2023-01-04T00:00:00Z | funding | USDT | 0.0504 | | | | | 4
        hash | 2023-01-03T16:00:00Z | funding | USDT | -0.168 | | | | | 5
        hash | 2023-01-03T10:05:12Z | fee | USDT | 1.008 | | | | | 6
    """)
    # Together they move the wallet as its balance column does between the two transfers:
    # 1000 after the transfer in, 1012.8574 before the transfer out.
    moved = sum((-e.amount if e.kind.value == "fee" else e.amount) - (e.fee_amount or 0) for e in events)
    assert moved == Decimal("1012.8574") - Decimal("1000")
    assert events[0].origin.ref == "6c1f2d8e-51a7-5b0e-9a44-0d7e3f1c2b90"


def test_classic_log_rejects_unknown_types_bad_numbers_and_unreconciled_rows(tmp_path: Path) -> None:
    # Bybit's v5 contract transaction log: Change = Cash Flow - Funding - Fee Paid, funding
    # positive = paid. Row 4 gives a paid funding the wrong sign in Change.
    path = write(
        tmp_path,
        "c.csv",
        CLASSIC_HEADER
        + "2023-01-04 12:00:00,USDT,,bonus,--,0,0,0,0,0,5,5,5,0,,\n"
        + "2023-01-04 13:00:00,USDT,BTCUSDT,funding,--,0,0.1,16800,abc,0,0,0,5,0,,\n"
        + "2023-01-04 16:00:00,USDT,BTCUSDT,funding,--,0,0.1,16800,0.168,0,0,0.168,5,0,,\n",
    )
    with pytest.raises(InputError) as caught:
        bybit.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "Type"), (3, "Funding"), (4, "Change")]


def test_unified_spot_orders_take_the_fee_in_the_received_asset() -> None:
    events = bybit.read(FIXTURES / "bybit" / "spot_orders.csv")
    assert [summary(e) for e in events] == table("""
        bybit:spot:2200000000401234567 | 2024-11-20T09:41:00Z | sell | SOL | 10 | USDT | 1451.25 | USDT | 1.45125 | 2
        bybit:spot:2200000000399876543 | 2024-11-18T21:07:00Z | buy | BTC | 0.05 | USDT | 4600 | BTC | 0.00005 | 3
        bybit:spot:2200000000399876544 | 2024-11-18T21:07:00Z | buy | BTC | 0.025 | USDT | 2300 | BTC | 0.000025 | 4
    """)


def test_unified_spot_statement_below_its_uid_preamble() -> None:
    events = bybit.read(FIXTURES / "bybit" / "spot_statement.csv")
    assert [summary(e) for e in events] == table("""
        bybit:spot:2290000000522900001 | 2024-12-09T19:48:23Z | buy | ETH | 1 | USDT | 3605.4 | ETH | 0.001 | 3
        bybit:spot:2290000000523000002 | 2024-12-11T07:02:59Z | sell | ETH | 0.5 | USDT | 1830 | USDT | 1.83 | 4
    """)


def test_spot_fill_whose_value_is_not_quantity_times_price_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        SPOT_HEADER
        + "BTCUSDT,LIMIT,BUY,4600,92000,0.5,0.0005,1,2,21:07 2024-11-18\n"
        + "BTCXYZ,LIMIT,BUY,4600,92000,0.05,0.00005,3,4,21:07 2024-11-18\n"
        + "BTCUSDT,LIMIT,HOLD,4600,92000,0.05,0.00005,5,6,21:07 2024-11-18\n"
        + "BTCUSDT,LIMIT,BUY,4600,92000,0.05,0.00005,7,8,25:07 2024-11-18\n",
    )
    with pytest.raises(InputError) as caught:
        bybit.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [
        (2, "Filled Value"), (3, "Spot Pairs"), (4, "Direction"), (5, "Timestamp (UTC)"),
    ]


def test_a_repeated_spot_fill_id_is_reported(tmp_path: Path) -> None:
    row = "BTCUSDT,LIMIT,BUY,4600,92000,0.05,0.00005,77,8,21:07 2024-11-18\n"
    path = write(tmp_path, "s.csv", SPOT_HEADER + row + row)
    with pytest.raises(InputError) as caught:
        bybit.read(path)
    assert [p.row for p in caught.value.problems] == [3]


def test_a_spot_fill_in_the_unified_log_fails_the_file_instead_of_becoming_pnl(tmp_path: Path) -> None:
    # A spot buy of 0.01 BTC for 600 USDT would appear as two TRADE rows; the BTC row is not
    # settled in the contract's asset, so the file is refused rather than read as P&L.
    path = write(
        tmp_path,
        "l.csv",
        LOG_HEADER
        + "1,USDT,BTCUSDT,TRADE,BUY,0.01,0,60000,0,0,-600,-600,400,--,2024-03-15 09:31:05\n"
        + "1,BTC,BTCUSDT,TRADE,BUY,0.01,0,60000,0,0.00001,0.01,0.00999,0.00999,--,2024-03-15 09:31:05\n",
    )
    with pytest.raises(InputError) as caught:
        bybit.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(3, "Currency")]
