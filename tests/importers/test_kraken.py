"""Kraken ledgers and trades exports → events."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.domain.events import EventKind
from marginbook.importers import kraken
from tests.importers._expect import FIXTURES, summary, table, write

LEDGERS = FIXTURES / "kraken" / "ledgers.csv"
TRADES = FIXTURES / "kraken" / "trades.csv"
HEADER = '"txid","refid","time","type","subtype","aclass","asset","wallet","amount","fee","balance"\n'


def test_ledgers_fixture_imports_to_the_exact_events() -> None:
    events = kraken.read(LEDGERS)
    assert [summary(e) for e in events] == table("""
        kraken:LNBXJ4-2GZQC-ZXWCU4 | 2024-03-01T09:31:02Z | deposit | USD | 50000 | | | | | 3
        kraken:TJKLXX-PNHGE-AUJN4B | 2024-03-02T14:05:00Z | buy | BTC | 0.5 | USD | 30000 | USD | 48 | 4
        kraken:TUW2V5-RKLLG-QHAZ3Y | 2024-03-05T18:30:21.552Z | sell | ETH | 2 | USD | 7000 | USD | 11.2 | 6
        kraken:L7RLII-7X2RG-A5MJBO | 2024-03-10T10:00:03Z | interest | USD | 6 | | | | | 8
        kraken:LRDNDY-3ZFYE-7LQNRD | 2024-03-10T14:00:03Z | interest | USD | 6 | | | | | 9
        kraken:LQF4BQ-ADYWX-TYHUEM | 2024-03-11T09:45:17Z | realized_pnl | USD | 412.5 | | | USD | 4.8 | 10
        kraken:LMCMZM-L3O5C-PQS5LR | 2024-03-12T11:20:00Z | realized_pnl | USD | -150.25 | | | USD | 3.1 | 11
        kraken:LEN3YK-JYFU4-ZGGVA2 | 2024-03-22T00:31:05Z | income | SOL | 0.012345 | | | | | 14
        kraken:LWRSOC-DNWJP-HN3BXE | 2024-03-28T16:44:30Z | withdrawal | BTC | 0.2 | | | BTC | 0.00002 | 15
    """)
    assert {e.wallet for e in events} == {"kraken"}
    assert events[1].origin.source == str(LEDGERS)
    assert events[1].origin.ref == "TJKLXX-PNHGE-AUJN4B"


def test_trades_fixture_imports_spot_trades_with_fee_in_quote() -> None:
    events = kraken.read(TRADES, wallet="kraken-main")
    assert [summary(e) for e in events] == table("""
        kraken:TJKLXX-PNHGE-AUJN4B | 2024-03-02T14:05:00Z | buy | BTC | 0.5 | USD | 30000 | USD | 48 | 2
        kraken:TUW2V5-RKLLG-QHAZ3Y | 2024-03-05T18:30:21.552Z | sell | ETH | 2 | USD | 7000 | USD | 11.2 | 3
        kraken:TQ3TXM-7RHZM-KNFXOK | 2024-03-06T08:00:00Z | buy | SOL | 2 | USD | 300 | USD | 0.48 | 4
        kraken:TQ3TXN-7RHZM-KNFXOK | 2024-03-06T08:00:00Z | buy | SOL | 2 | USD | 300 | USD | 0.48 | 5
    """)
    assert {e.wallet for e in events} == {"kraken-main"}


def test_a_trade_in_both_exports_has_one_id_and_the_same_content() -> None:
    from_ledger = {e.id: e for e in kraken.read(LEDGERS)}
    from_trades = {e.id: e for e in kraken.read(TRADES)}
    for shared in ("kraken:TJKLXX-PNHGE-AUJN4B", "kraken:TUW2V5-RKLLG-QHAZ3Y"):
        assert from_ledger[shared].fingerprint() == from_trades[shared].fingerprint()


def test_import_is_idempotent() -> None:
    first, second = kraken.read(LEDGERS), kraken.read(LEDGERS)
    assert [e.id for e in first] == [e.id for e in second]
    assert first == second


@pytest.mark.parametrize(
    ("code", "asset"),
    [
        ("XXBT", "BTC"),
        ("XBT", "BTC"),
        ("ZUSD", "USD"),
        ("XETH", "ETH"),
        ("ETH2.S", "ETH"),
        ("SOL.S", "SOL"),
        ("DOT.M", "DOT"),
        ("USD.HOLD", "USD"),
        ("XXDG", "DOGE"),
        ("ADA", "ADA"),
    ],
)
def test_asset_codes_are_normalised(code: str, asset: str) -> None:
    assert kraken.normalise_asset(code) == asset


def test_fee_on_both_legs_becomes_a_separate_fee_event(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.csv",
        HEADER
        + '"LA","TX1","2024-01-01 00:00:00","trade","","currency","XETH","","-1","0.001","0"\n'
        + '"LB","TX1","2024-01-01 00:00:00","trade","","currency","XXBT","","0.05","0.0001","0"\n',
    )
    buy, fee = kraken.read(path)
    assert (buy.kind, buy.asset, buy.amount, buy.counter_asset, buy.counter_amount, buy.fee_asset) == (
        EventKind.BUY,
        "BTC",
        Decimal("0.05"),
        "ETH",
        Decimal("1"),
        "ETH",
    )
    assert (fee.id, fee.kind, fee.asset, str(fee.amount)) == ("kraken:LB", EventKind.FEE, "BTC", "0.0001")


def test_a_trade_with_three_legs_is_ambiguous_and_every_leg_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.csv",
        HEADER
        + '"LA","TX1","2024-01-01 00:00:00","trade","","currency","ZUSD","","-100","0","0"\n'
        + '"LB","TX1","2024-01-01 00:00:00","trade","","currency","XXBT","","0.001","0","0"\n'
        + '"LC","TX1","2024-01-01 00:00:00","trade","","currency","XETH","","0.01","0","0"\n',
    )
    with pytest.raises(InputError) as caught:
        kraken.read(path)
    rows = sorted(p.row for p in caught.value.problems if p.row is not None)
    assert rows == [2, 3, 4]
    assert "expected exactly one debit and one credit" in str(caught.value)


def test_unknown_row_type_is_reported_with_file_row_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.csv",
        HEADER + '"LA","R1","2024-01-01 00:00:00","adjustment","","currency","XXBT","","0.1","0","0"\n',
    )
    with pytest.raises(InputError) as caught:
        kraken.read(path)
    (problem,) = caught.value.problems
    assert (problem.source, problem.row, problem.field) == (str(path), 2, "type")
    assert "'adjustment'" in problem.problem


def test_every_bad_row_is_reported_and_nothing_returned(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.csv",
        HEADER
        + '"LA","R1","2024-01-01 00:00:00","deposit","","currency","XXBT","","abc","0","0"\n'
        + '"LB","R2","yesterday","deposit","","currency","XXBT","","1","0","0"\n'
        + '"LC","R3","2024-01-02 00:00:00","deposit","","currency","XXBT","","1","0","1"\n',
    )
    with pytest.raises(InputError) as caught:
        kraken.read(path)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "amount"), (3, "time")]


def test_a_changed_format_names_the_expected_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.csv",
        '"txid","refid","time","type","subtype","aclass","asset","amount","fee"\n'
        '"LA","R1","2024-01-01 00:00:00","deposit","","currency","XXBT","1","0"\n',
    )
    with pytest.raises(InputError) as caught:
        kraken.read(path)
    message = str(caught.value)
    assert "missing column(s) balance" in message
    assert (
        "expected columns: txid, refid, time, type, subtype, aclass, asset, amount, fee, balance" in message
    )


def test_margin_trade_in_trades_export_points_to_the_ledgers_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "t.csv",
        TRADES.read_text().splitlines()[0]
        + "\n"
        + '"T1","O1","XXBTZUSD","2024-03-02 14:05:00","buy","limit","60000","30000","48","0.5",'
        + '"6000","",""\n',
    )
    with pytest.raises(InputError, match="import the ledgers export"):
        kraken.read(path)


def test_detection_accepts_both_exports_and_rejects_others() -> None:
    assert kraken.matches([c.strip('"') for c in HEADER.strip().split(",")])
    assert kraken.matches(TRADES.read_text().splitlines()[0].replace('"', "").split(","))
    assert not kraken.matches(["timestamp", "type", "wallet", "asset", "amount"])
