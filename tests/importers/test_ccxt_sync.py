"""API sync: recorded exchange responses run through ccxt's own code, offline, then mapped.

Kraken goes through the whole ccxt path (load_markets, fetchMyTrades, fetchLedger, signing with
dummy keys) with only the HTTP transport replaced by the recorded responses. Binance records are
run through ccxt's own parsers (parse_borrow_interests, parse_incomes, parse_ledger_entry).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import ccxt
import pytest

from marginbook.domain.events import EventKind
from marginbook.importers import ccxt_sync, kraken
from tests.importers._expect import FIXTURES, summary, table

RECORDED = FIXTURES / "ccxt"


class RecordedKraken(ccxt.kraken):  # type: ignore[misc]
    """ccxt's Kraken with its HTTP transport replaced by recorded responses (newest first, paged)."""

    page = 50

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.requests: list[str] = []

    def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        endpoint = url.rsplit("/", 1)[-1].split("?", 1)[0]
        self.requests.append(endpoint)
        document = json.loads((RECORDED / "kraken" / f"{endpoint}.json").read_text())
        if endpoint not in ("TradesHistory", "Ledgers"):
            return document
        form = {key: values[0] for key, values in parse_qs(body or "").items()}
        start = float(form.get("start", "-inf"))  # exclusive, as Kraken documents it
        end = float(form.get("end", "inf"))  # inclusive
        key = "trades" if endpoint == "TradesHistory" else "ledger"
        rows = document["result"][key]
        chosen = sorted(
            ((k, v) for k, v in rows.items() if start < v["time"] <= end), key=lambda kv: -kv[1]["time"]
        )
        offset = int(form.get("ofs", "0"))
        document["result"][key] = dict(chosen[offset : offset + self.page])
        return document


@pytest.fixture
def exchange() -> RecordedKraken:
    return RecordedKraken({"apiKey": "recorded", "secret": "c2VjcmV0LWZvci10ZXN0cw=="})


def test_kraken_trades_and_ledger_map_to_exact_events(exchange: RecordedKraken) -> None:
    result = ccxt_sync.sync(exchange, kinds=("trades", "ledger"))
    assert result.problems == [] and result.unsupported == []
    assert [summary(e)[:9] for e in result.events] == [
        row[:9]
        for row in table("""
        kraken:LNBXJ4-2GZQC-ZXWCU4 | 2024-03-01T09:31:02Z | deposit | USD | 50000 | | | | | 0
        kraken:TJKLXX-PNHGE-AUJN4B | 2024-03-02T14:05:00Z | buy | BTC | 0.5 | USD | 30000 | USD | 48 | 0
        kraken:TUW2V5-RKLLG-QHAZ3Y | 2024-03-05T18:30:21.552Z | sell | ETH | 2 | USD | 7000 | USD | 11.2 | 0
        kraken:L7RLII-7X2RG-A5MJBO | 2024-03-10T10:00:03Z | interest | USD | 6 | | | | | 0
        kraken:LRDNDY-3ZFYE-7LQNRD | 2024-03-10T14:00:03Z | interest | USD | 6 | | | | | 0
        kraken:TX7W2K-PQ4YZ-6ZB5LM | 2024-03-11T09:45:17Z | buy | ETH | 2 | USD | 7980 | USD | 20.748 | 0
        kraken:LQF4BQ-ADYWX-TYHUEM | 2024-03-11T09:45:17Z | realized_pnl | USD | 412.5 | | | USD | 4.8 | 0
        kraken:LMCMZM-L3O5C-PQS5LR | 2024-03-12T11:20:00Z | realized_pnl | USD | -150.25 | | | USD | 3.1 | 0
        kraken:LWRSOC-DNWJP-HN3BXE | 2024-03-28T16:44:30Z | withdrawal | BTC | 0.2 | | | BTC | 0.00002 | 0
    """)
    ]
    assert {e.origin.source for e in result.events} == {"api:kraken"}
    assert result.cursors == {"trades": 1710150317000, "ledger": 1711644270000}
    assert "Ledgers" in exchange.requests and "TradesHistory" in exchange.requests


def test_sync_after_csv_import_adds_nothing_new(exchange: RecordedKraken) -> None:
    from_csv = {e.id: e for e in kraken.read(FIXTURES / "kraken" / "ledgers.csv")}
    from_api = ccxt_sync.sync(exchange, kinds=("trades", "ledger")).events
    shared = [e for e in from_api if e.id in from_csv]
    assert len(shared) == 8  # every API event but the trade that is not in the CSV
    for event in shared:
        assert event.fingerprint() == from_csv[event.id].fingerprint(), event.id
    assert {e.id for e in from_api} - set(from_csv) == {"kraken:TX7W2K-PQ4YZ-6ZB5LM"}


def test_newest_first_history_is_paged_by_offset_without_loss(
    exchange: RecordedKraken, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two ledger entries share one time (the legs of a trade): paging by time would stall there.
    monkeypatch.setitem(ccxt_sync.PAGE_SIZE, "kraken", 2)
    exchange.page = 2
    paged = ccxt_sync.sync(exchange, kinds=("trades", "ledger"))
    assert exchange.requests.count("Ledgers") == 5  # 8 entries, 2 a page, and the empty end
    whole = ccxt_sync.sync(
        RecordedKraken({"apiKey": "recorded", "secret": "c2VjcmV0"}), kinds=("trades", "ledger")
    )
    assert paged.events == whole.events and len(paged.events) == 9


def test_incremental_sync_resumes_at_the_cursor(exchange: RecordedKraken) -> None:
    first = ccxt_sync.sync(exchange, kinds=("ledger",))
    again = ccxt_sync.sync(exchange, kinds=("ledger",), cursors=first.cursors)
    # Kraken's start is exclusive, so resuming at the last entry's time returns nothing older.
    assert again.events == []
    assert again.cursors == first.cursors


def test_an_unsupported_kind_is_reported_not_fetched(exchange: RecordedKraken) -> None:
    result = ccxt_sync.sync(exchange, kinds=("borrow_interest", "funding"))
    assert result.unsupported == ["borrow_interest", "funding"] and result.events == []


def _binance() -> Any:
    client = ccxt.binance()
    client.number = str
    return client


def test_binance_margin_interest_through_ccxt_parser() -> None:
    client = _binance()
    rows = json.loads((RECORDED / "binance" / "margin_interest_history.json").read_text())["rows"]
    records = client.parse_borrow_interests(rows)
    result = ccxt_sync.SyncResult()
    ccxt_sync.map_records(client, "borrow_interest", records, "binance", result)
    assert result.problems == []
    assert [(e.kind, e.asset, e.amount, e.timestamp.isoformat()) for e in result.events] == [
        (EventKind.INTEREST, "BTC", Decimal("0.00000208"), "2024-04-01T21:00:00+00:00"),
        (EventKind.INTEREST, "BTC", Decimal("0.00000208"), "2024-04-01T22:00:00+00:00"),
        (EventKind.INTEREST, "USDT", Decimal("0.0425"), "2024-04-01T23:00:00+00:00"),
    ]
    assert [e.note for e in result.events] == [
        "cross interest",
        "cross interest",
        "isolated interest (ETHUSDT)",
    ]  # no markets loaded
    assert len({e.id for e in result.events}) == 3


def test_binance_funding_and_ledger_income_give_one_event_per_record() -> None:
    client = _binance()
    incomes = json.loads((RECORDED / "binance" / "income.json").read_text())
    funding = client.parse_incomes([row for row in incomes if row["incomeType"] == "FUNDING_FEE"])
    ledger = [client.parse_ledger_entry(row) for row in incomes]
    result = ccxt_sync.SyncResult()
    ccxt_sync.map_records(client, "funding", funding, "binance", result)
    ccxt_sync.map_records(client, "ledger", ledger, "binance", result)
    assert result.problems == []
    assert [(e.id, e.kind.value, str(e.amount)) for e in result.events] == [
        ("binance:9689322392", "funding", "-0.52140000"),
        ("binance:9689322501", "funding", "0.11020000"),
        ("binance:9689322401", "fee", "1.68000000"),
        ("binance:9689322402", "realized_pnl", "-37.50000000"),
    ]


def test_a_record_that_cannot_be_mapped_is_a_named_problem() -> None:
    client = _binance()
    result = ccxt_sync.SyncResult()
    odd = client.parse_ledger_entry(
        {
            "symbol": "",
            "incomeType": "INSURANCE_CLEAR",
            "income": "1",
            "asset": "USDT",
            "info": "",
            "time": 1714636800000,
            "tranId": "77",
            "tradeId": "",
        }
    )
    ccxt_sync.map_records(client, "ledger", [odd], "binance", result)
    assert result.events == []
    (problem,) = result.problems
    assert problem.source == "api:binance" and "INSURANCE_CLEAR" in problem.problem


def test_float_numbers_from_ccxt_become_their_decimal_text() -> None:
    trade = {
        "id": "1",
        "timestamp": 1714636800000,
        "symbol": "BTC/USDT",
        "side": "buy",
        "amount": 0.1,
        "price": 60000.1,
        "cost": 6000.01,
        "fee": {"cost": 0.0001, "currency": "BTC"},
    }
    (mapped,) = ccxt_sync.map_trade(_binance(), trade, "binance")
    assert (mapped.event.amount, mapped.event.counter_amount, mapped.event.fee_amount) == (
        Decimal("0.1"),
        Decimal("6000.01"),
        Decimal("0.0001"),
    )
    assert mapped.venue_id == "trade:1"


def test_contract_fills_move_no_coins() -> None:
    trade = {
        "id": "2",
        "timestamp": 1714636800000,
        "symbol": "BTC/USDT:USDT",
        "side": "sell",
        "amount": "1",
        "price": "60000",
        "cost": "60000",
        "fee": {"cost": "24", "currency": "USDT"},
    }
    assert ccxt_sync.map_trade(_binance(), trade, "binance") == []
