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
        + "1,USDT,BTCUSDT,SETTLEMENT,--,0,0.05,61300,0.3,0,0,0.3,0,--,2024-03-15 16:00:00\n",
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
