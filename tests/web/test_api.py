"""The JSON API, endpoint by endpoint, over the in-memory ledger of conftest."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from marginbook.app.memory_store import MemoryStore
from tests.web.conftest import PATIENT, csrf_headers

GOOD_UPLOAD = (
    "timestamp,type,wallet,asset,amount\n"
    "2025-04-01T00:00:00Z,deposit,gemini,USD,100\n"
    "2025-04-02T00:00:00Z,deposit,gemini,USD,50\n"
)
BAD_UPLOAD = (
    "timestamp,type,wallet,asset,amount\n"
    "2025-04-01T00:00:00Z,deposit,gemini,USD,100\n"
    "2025-04-02T00:00:00Z,deposit,gemini,USD,1e3\n"
    "2025-04-03,teleport,gemini,USD,5\n"
)


def test_health_says_the_ledger_is_open(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["ledger"] is True


def test_portfolio_values_holdings_at_the_ledger_prices(client: TestClient) -> None:
    body = client.get("/api/portfolio").json()
    by_key = {(h["wallet"], h["asset"]): h for h in body["holdings"]}
    assert ("kraken", "USD") not in by_key  # spent to zero: no row
    btc = by_key[("kraken", "BTC")]
    assert (btc["quantity"], btc["cost_basis"], btc["price"], btc["market_value"]) == ("0.4", "20000", "50000", "20000")
    eth = by_key[("coinbase", "ETH")]
    assert (eth["cost_basis"], eth["market_value"], eth["unrealized_pnl"]) == ("1505", "2000", "495")
    assert body["total_value"] == "25985"
    assert body["total_liabilities"] == "10000"
    assert body["net_value"] == "15985"


def test_portfolio_reports_the_open_loan_with_its_margin_call_and_liquidation(client: TestClient) -> None:
    (position,) = client.get("/api/portfolio").json()["positions"]
    assert position["side"] == "long" and position["risk_asset"] == "BTC" and position["borrowed"] == "10000"
    assert position["margin_level"] == "2"
    # 0.4 BTC against 10,000 USD owed: 1.3 × 10,000 / 0.4 and 1.1 × 10,000 / 0.4.
    assert position["margin_call_price"] == "32500"
    assert position["liquidation_price"] == "27500"
    assert position["distance_to_call"] == "-0.35"
    assert position["distance_to_liquidation"] == "-0.45"


def test_events_are_paged_and_filtered(client: TestClient) -> None:
    body = client.get("/api/events", params={"limit": 2, "offset": 1}).json()
    assert body["total"] == 6
    assert [e["id"] for e in body["events"]] == ["loan-1", "buy-1"]
    coinbase = client.get("/api/events", params={"wallet": "coinbase"}).json()["events"]
    assert [e["id"] for e in coinbase] == ["dep-2", "buy-2", "sell-2"]
    assert coinbase[1]["fields"]["fee_amount"] == "10"


def test_events_reject_a_time_without_zone(client: TestClient) -> None:
    assert client.get("/api/events", params={"from": "2025-01-01T00:00:00"}).status_code == 422


def test_import_adds_events_once_and_reimport_changes_nothing(client: TestClient, store: MemoryStore) -> None:
    headers = csrf_headers(client)
    files = {"file": ("gemini.csv", GOOD_UPLOAD, "text/csv")}
    first = client.post("/api/import", files=files, headers=headers)
    assert first.status_code == 200 and first.json() == {"added": 2, "unchanged": 0}
    again = client.post("/api/import", files={"file": ("gemini.csv", GOOD_UPLOAD, "text/csv")}, headers=headers)
    assert again.json() == {"added": 0, "unchanged": 2}
    assert store.count() == 8
    assert client.get("/api/portfolio").json()["events"] == 8  # the cached fold saw the import


def test_bad_upload_names_every_bad_row_and_writes_nothing(client: TestClient, store: MemoryStore) -> None:
    response = client.post("/api/import", files={"file": ("mine.csv", BAD_UPLOAD, "text/csv")},
                           headers=csrf_headers(client))
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert {(p["source"], p["row"], p["field"]) for p in problems} == {("mine.csv", 3, "amount"),
                                                                       ("mine.csv", 4, "type")}
    assert store.count() == 6


def test_upload_in_an_unknown_format_is_refused(client: TestClient, store: MemoryStore) -> None:
    response = client.post("/api/import", files={"file": ("x.csv", "a,b\n1,2\n", "text/csv")},
                           headers=csrf_headers(client))
    assert response.status_code == 400
    assert "matches no known format" in response.json()["problems"][0]["problem"]
    bad_format = client.post("/api/import", files={"file": ("x.csv", GOOD_UPLOAD, "text/csv")},
                             data={"format": "nonsense"}, headers=csrf_headers(client))
    assert bad_format.status_code == 422
    assert store.count() == 6


def test_binary_upload_is_bad_input_not_a_crash(client: TestClient, store: MemoryStore) -> None:
    response = client.post("/api/import", files={"file": ("x.csv", b"\xff\xfe\x00\x81" * 10, "text/csv")},
                           headers=csrf_headers(client))
    assert response.status_code == 400
    assert store.count() == 6


def test_upload_over_the_size_limit_is_refused(client: TestClient, store: MemoryStore) -> None:
    big = GOOD_UPLOAD + "2025-04-03T00:00:00Z,deposit,gemini,USD,1\n" * 200  # > 4096 bytes (the test limit)
    response = client.post("/api/import", files={"file": ("big.csv", big, "text/csv")}, headers=csrf_headers(client))
    assert response.status_code == 413
    assert store.count() == 6


def test_declared_body_over_the_limit_is_refused_before_reading(client: TestClient) -> None:
    response = client.post("/api/import", content=b"x" * 10, headers={"Content-Length": str(10**9),
                                                                      **csrf_headers(client)})
    assert response.status_code == 413


def test_import_without_csrf_header_is_forbidden(client: TestClient, store: MemoryStore) -> None:
    client.get("/api/csrf")  # the cookie alone is what a cross-site form would send
    response = client.post("/api/import", files={"file": ("gemini.csv", GOOD_UPLOAD, "text/csv")})
    assert response.status_code == 403
    wrong = client.post("/api/import", files={"file": ("gemini.csv", GOOD_UPLOAD, "text/csv")},
                        headers={"X-CSRF-Token": "not-the-cookie"})
    assert wrong.status_code == 403
    assert store.count() == 6


def test_tax_document_and_filtered_8949_rows(client: TestClient) -> None:
    assert client.get("/api/tax/2025").json()["form_8949"][0]["disposal_id"] == "sell-2"
    rows = client.get("/api/tax/2025/form-8949", params={"term": "long"}).json()
    assert [r["disposal_id"] for r in rows] == ["sell-btc"]
    by_wallet = client.get("/api/tax/2025/form-8949", params={"wallet": "coinbase", "asset": "ETH"}).json()
    assert [r["row_key"] for r in by_wallet] == ["sell-2~short"]
    assert client.get("/api/tax/2025/form-8949", params={"asset": "DOGE"}).json() == []


def test_tax_row_drill_down_lists_its_lots(client: TestClient) -> None:
    row = client.get("/api/tax/2025/rows/sell-btc~long").json()
    assert [(lot["acquisition_id"], lot["quantity"]) for lot in row["lots"]] == [("lot-a", "0.1"), ("lot-b", "0.2")]
    assert client.get("/api/tax/2025/rows/nope~short").status_code == 404


def test_8949_csv_download_has_every_column_and_the_lot_ids(client: TestClient) -> None:
    response = client.get("/api/tax/2025/form-8949.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["gain"] for r in rows] == ["490.00", "-8000.00"]
    assert rows[1]["lot_ids"] == "lot-a:0.1;lot-b:0.2"
    assert rows[0]["date_acquired"] == "2025-02-01" and rows[1]["date_acquired"] == "VARIOUS"


def test_tax_exports_download_and_unknown_names_404(client: TestClient) -> None:
    response = client.get("/api/tax/2025/exports/form-8949-2025.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert client.get("/api/tax/2025/exports/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_a_year_the_engine_cannot_give_is_503_with_the_reason(client: TestClient) -> None:
    response = client.get("/api/tax/2019")
    assert response.status_code == 503
    assert "not available yet" in response.json()["detail"]


def test_risk_returns_the_calculators_figures(client: TestClient) -> None:
    body = client.get("/api/risk", params={"entry": "60000", "quantity": "1", "leverage": "5"}).json()
    assert body["liquidation_price"] == "48300.00"


def test_risk_rejects_malformed_numbers(client: TestClient) -> None:
    assert client.get("/api/risk", params={"entry": "1e9", "quantity": "1", "leverage": "5"}).status_code == 422


def test_candles_carry_bollinger_and_rsi_after_their_windows(client: TestClient) -> None:
    bars = client.get("/api/candles", params={"bars": 120}).json()
    assert len(bars) == 120
    assert bars[18]["bb_middle"] is None and bars[19]["bb_middle"] is not None
    assert bars[13]["rsi"] is None and 0 <= bars[14]["rsi"] <= 100
    window = [b["close"] for b in bars[:20]]
    assert abs(bars[19]["bb_middle"] - sum(window) / 20) < 1e-6


def test_backtests_list_the_stored_runs(client: TestClient) -> None:
    (run,) = client.get("/api/backtests").json()
    assert run["name"] == "sma-cross" and run["trades"] == 1 and run["liquidations"] == 1


def test_openapi_schema_lists_the_api(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/portfolio", "/api/events", "/api/import", "/api/tax/{year}", "/api/risk", "/api/candles"):
        assert path in paths
    assert not any(path.startswith("/taxes") for path in paths)  # pages are not API


def test_plotly_is_served_locally_and_no_page_loads_a_remote_script(client: TestClient) -> None:
    script = client.get("/static/plotly.min.js")
    assert script.status_code == 200 and b"plotly" in script.content[:2000].lower()
    for page in ("/", "/positions?entry=60000&quantity=1&leverage=5", "/backtests", "/taxes/2025"):
        html = client.get(page).text
        assert "cdn" not in html.lower() and 'src="http' not in html


def test_static_route_does_not_leave_its_folder(client: TestClient) -> None:
    assert client.get("/static/..%2Fmain.py").status_code == 404
    assert client.get("/static/style.css").status_code == 200


def test_8949_rows_come_in_pages(client: TestClient) -> None:
    second = client.get("/api/tax/2025/form-8949", params={"limit": 1, "offset": 1}).json()
    assert [r["disposal_id"] for r in second] == ["sell-btc"]


def test_risk_uses_the_margin_engine_when_installed(store: MemoryStore) -> None:
    """Binance cross 3x spot margin: 0.5 BTC at 60,000 with 10,000 own and 20,000 borrowed has
    margin level 0.5·p / 20,000: a call at 1.3 (p = 52,000) and liquidation at 1.1 (p = 44,000)."""
    import pytest

    pytest.importorskip("marginbook.margin.risk")
    from marginbook.app.dashboard import Dashboard
    from marginbook.web.main import create_app
    from marginbook.web.settings import WebSettings
    from tests.web.conftest import BASE_URL

    client = TestClient(create_app(WebSettings(answer_within=PATIENT), dashboard=Dashboard(store)), base_url=BASE_URL)
    body = client.get("/api/risk", params={"venue": "binance-margin", "side": "long", "mode": "cross",
                                           "entry": "60000", "quantity": "0.5", "leverage": "3"}).json()
    assert (body["margin_call_price"], body["liquidation_price"]) == ("52000", "44000")
    too_much = client.get("/api/risk", params={"venue": "binance-margin", "entry": "60000", "quantity": "0.5",
                                               "leverage": "500"})
    assert too_much.status_code == 400 and "leverage" in too_much.text


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("empty", b"", "the file is empty"),
    ("header only", b"timestamp,type,wallet,asset,amount\n", "holds no events"),
    ("NUL byte", b"timestamp,type,wallet,asset,amount\n2025-01-01T00:00:00Z,dep\x00osit,w,USD,1\n", "type: contains a NUL character"),
    ("open quote", b'timestamp,type,wallet,asset,amount\n"2025-01-01T00:00:00Z,deposit,w,USD,1\n', "malformed CSV"),
    ("latin-1", "timestamp,type,wallet,asset,amount\n2025-01-01T00:00:00Z,deposit,wé,USD,1\n".encode("latin-1"),
     "not UTF-8 text"),
    ("one long cell", b"timestamp,type,wallet,asset,amount\n" + b"x" * 3000 + b"\n", "type: is required"),
])
def test_hostile_uploads_are_bad_input_and_write_nothing(client: TestClient, store: MemoryStore, name: str,
                                                         content: bytes, expected: str) -> None:
    response = client.post("/api/import", files={"file": ("f.csv", content, "text/csv")}, headers=csrf_headers(client))
    assert response.status_code == 400, name
    assert expected in response.json()["detail"]
    assert store.count() == 6
