"""Fixtures of the web tests: a small ledger in memory, a hand-made tax document, price bars.

The dashboard is built over :class:`~marginbook.app.memory_store.MemoryStore` and injected
sources, so each test sees exactly the figures it asserts; no network, no real browser here.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marginbook.app.dashboard import Dashboard
from marginbook.app.features import FeatureUnavailable
from marginbook.app.memory_store import MemoryStore
from marginbook.importers.ledger_csv import read_text
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings

BASE_URL = "http://127.0.0.1:8000"
#: Requests may wait this long for the worker thread: tests that assert figures get them, however
#: loaded the machine (the "computing…" answers have tests of their own, with a blocked source).
PATIENT = 60.0

#: 10,000 USD in, a 2:1 BTC long financed by a 10,000 USD loan, an ETH round trip.
LEDGER_CSV = """id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,position
dep-1,2025-01-02T00:00:00Z,deposit,kraken,USD,10000,,,,,
loan-1,2025-01-03T00:00:00Z,borrow,kraken,USD,10000,,,,,p1
buy-1,2025-01-03T00:00:01Z,buy,kraken,BTC,0.4,USD,20000,,,p1
dep-2,2025-01-04T00:00:00Z,deposit,coinbase,USD,5000,,,,,
buy-2,2025-02-01T00:00:00Z,buy,coinbase,ETH,1,USD,3000,USD,10,
sell-2,2025-03-01T00:00:00Z,sell,coinbase,ETH,0.5,USD,2000,USD,5,
"""


def tax_document_2025() -> dict[str, Any]:
    """A tax JSON document of the contract's shape: two 8949 rows, one of them from two lots."""
    return {
        "year": 2025, "method": "fifo", "scope": "transition",
        "form_8949": [
            {"box": "H", "term": "short", "description": "0.5 ETH", "asset": "ETH", "wallet": "coinbase",
             "quantity": "0.5", "date_acquired": "2025-02-01", "date_sold": "2025-03-01",
             "proceeds": "1995.00", "cost_basis": "1505.00", "adjustment_code": "", "adjustment": "0.00",
             "gain": "490.00", "disposal_id": "sell-2",
             "lots": [{"acquisition_id": "buy-2", "quantity": "0.5", "cost_basis": "1505.00",
                       "acquired_at": "2025-02-01T00:00:00Z"}]},
            {"box": "K", "term": "long", "description": "0.3 BTC", "asset": "BTC", "wallet": "kraken",
             "quantity": "0.3", "date_acquired": "VARIOUS", "date_sold": "2025-06-01",
             "proceeds": "30000.00", "cost_basis": "38000.00", "adjustment_code": "", "adjustment": "0.00",
             "gain": "-8000.00", "disposal_id": "sell-btc",
             "lots": [{"acquisition_id": "lot-a", "quantity": "0.1", "cost_basis": "8000.00",
                       "acquired_at": "2022-01-01T00:00:00Z"},
                      {"acquisition_id": "lot-b", "quantity": "0.2", "cost_basis": "30000.00",
                       "acquired_at": "2023-05-01T00:00:00Z"}]},
        ],
        "schedule_d": {
            "line_1b": {"proceeds": "1995.00", "cost_basis": "1505.00", "adjustment": "0.00", "gain": "490.00"},
            "line_8b": {"proceeds": "30000.00", "cost_basis": "38000.00", "adjustment": "0.00",
                        "gain": "-8000.00"},
            "line_7": "490.00", "line_15": "-8000.00", "line_16": "-7510.00", "line_21": "-3000.00",
            "carryover_to_next_year": {"short_term": "0.00", "long_term": "4510.00"},
        },
        "form_4952": {"line_1": "123.45", "line_8": "0.00"},
        "income": [], "gifts_and_donations": [], "warnings": ["a hand-made warning"],
    }


def fake_tax(store: object, year: int, profile: Path | None) -> dict[str, Any]:
    if year != 2025:
        raise FeatureUnavailable("the tax engine", f"no document for {year} in this test")
    return tax_document_2025()


def fake_risk(params: dict[str, str]) -> dict[str, Any]:
    """Isolated long, generic venue: LP = entry · (1 − 1/leverage + mmr) (mmr 0.005)."""
    entry, leverage = float(params["entry"]), float(params["leverage"])
    return {"liquidation_price": f"{entry * (1 - 1 / leverage + 0.005):.2f}",
            "margin_call_price": f"{entry * (1 - 0.8 / leverage):.2f}",
            "initial_margin": f"{entry * float(params['quantity']) / leverage:.2f}"}


def write_price_file(path: Path, bars: int = 120) -> Path:
    """A deterministic OHLCV file: a sine wave around 50,000."""
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(bars):
        close = 50000 + 5000 * math.sin(i / 9)
        previous = 50000 + 5000 * math.sin((i - 1) / 9)
        day = f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}T00:00:00Z"
        lines.append(f"{day},{previous:.2f},{max(close, previous) + 300:.2f},{min(close, previous) - 300:.2f},"
                     f"{close:.2f},10")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_backtest(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "final_equity": "10500", "return_pct": "5", "max_drawdown_pct": "12.5", "interest_paid": "3",
        "fees_paid": "8", "bars": 3,
        "trades": [{"time": "2025-01-02T00:00:00Z", "side": "long", "price": "50000", "quantity": "0.1",
                    "fee": "2"}],
        "liquidations": [{"time": "2025-01-03T00:00:00Z", "price": "45000", "quantity": "0.1", "side": "long"}],
        "equity_curve": [{"time": "2025-01-01T00:00:00Z", "equity": "10000"},
                         {"time": "2025-01-02T00:00:00Z", "equity": "11000"},
                         {"time": "2025-01-03T00:00:00Z", "equity": "9625"}],
    }
    path = folder / "sma-cross.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def make_store() -> MemoryStore:
    return MemoryStore(read_text(io.StringIO(LEDGER_CSV), "fixture.csv"))


@pytest.fixture
def store() -> MemoryStore:
    return make_store()


@pytest.fixture
def dashboard(store: MemoryStore, tmp_path: Path) -> Dashboard:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "form-8949-2025.pdf").write_bytes(b"%PDF-1.4 test\n")
    return Dashboard(store, tax_source=fake_tax, risk_source=fake_risk,
                     price_file=write_price_file(tmp_path / "prices.csv"),
                     backtest_dir=write_backtest(tmp_path / "runs").parent, export_dir=exports)


@pytest.fixture
def client(dashboard: Dashboard) -> Iterator[TestClient]:
    app = create_app(WebSettings(max_upload_bytes=4096, answer_within=PATIENT), dashboard=dashboard)
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


def csrf_headers(client: TestClient) -> dict[str, str]:
    """Fetch a CSRF token (the client keeps the cookie) and return the header to send."""
    token = client.get("/api/csrf").json()["csrf_token"]
    return {"X-CSRF-Token": token}
