"""Gemini transaction history → events."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.importers import gemini
from tests.importers._expect import FIXTURES, summary, table, write

HISTORY = FIXTURES / "gemini" / "transaction_history.csv"
HEADER = (
    "Date,Time (UTC),Type,Symbol,Specification,USD Amount USD,Fee (USD) USD,USD Balance USD,"
    "BTC Amount BTC,Fee (BTC) BTC,BTC Balance BTC,ETH Amount ETH,Fee (ETH) ETH,ETH Balance ETH,Trade ID\n"
)


def test_history_imports_to_the_exact_events() -> None:
    events = gemini.read(HISTORY)
    assert [summary(e) for e in events] == table("""
        hash | 2024-01-08T15:20:01.511Z | deposit | USD | 25000 | | | | | 2
        gemini:trade:126712380041 | 2024-01-09T10:00:00Z | buy | BTC | 0.2 | USD | 9200 | USD | 36.8 | 3
        gemini:trade:126890012877 | 2024-01-12T21:45:33.002Z | sell | ETH | 2 | USD | 5180 | USD | 10.36 | 4
        hash | 2024-01-15T00:00:07Z | income | ETH | 0.00123 | | | | | 5
        hash | 2024-01-20T09:09:09.909Z | withdrawal | BTC | 0.1 | | | | | 6
        hash | 2024-01-21T11:11:11.111Z | deposit | ETH | 3 | | | | | 7
    """)
    assert {e.wallet for e in events} == {"gemini"}
    assert gemini.read(HISTORY) == events


def test_usd_balance_moves_by_amount_minus_fee_as_the_export_shows() -> None:
    # 25,000.00 - 9,200.00 - 36.80 = 15,763.20 (the balance cell of the buy row)
    buy = gemini.read(HISTORY)[1]
    assert buy.counter_amount is not None and buy.fee_amount is not None
    assert Decimal("25000") - buy.counter_amount - buy.fee_amount == Decimal("15763.20")


def test_a_trade_moving_one_asset_only_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path, "g.csv", HEADER + "2024-01-09,10:00:00.000,Buy,BTCUSD,Exchange,,,,0.2 BTC,,,,,,77\n"
    )
    with pytest.raises(InputError) as caught:
        gemini.read(path)
    assert (caught.value.problems[0].row, caught.value.problems[0].field) == (2, "Type")


def test_a_credit_with_a_negative_amount_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path, "g.csv", HEADER + "2024-01-09,10:00:00.000,Credit,BTC,Deposit,,,,(0.2 BTC),,,,,,\n"
    )
    with pytest.raises(InputError, match="wrong sign"):
        gemini.read(path)


def test_detection_needs_an_asset_amount_column() -> None:
    header = HEADER.strip().split(",")
    assert gemini.matches(header)
    assert not gemini.matches([c for c in header if "Amount" not in c])
