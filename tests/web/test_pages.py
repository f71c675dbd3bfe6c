"""Server-rendered pages: each loads, shows the figures it is for, and its forms work."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from marginbook.app.dashboard import Dashboard
from marginbook.app.memory_store import MemoryStore
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings
from tests.web.conftest import BASE_URL, PATIENT


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_overview_shows_net_value_holdings_and_three_charts(client: TestClient) -> None:
    html = client.get("/").text
    assert 'id="net-value">15,985.00<' in html
    assert html.count('class="plotly-graph-div"') == 3
    assert '<script src="/static/plotly.min.js"></script>' in html
    assert "<td>kraken</td><td>BTC</td>" in html


def test_ledger_page_filters_by_wallet(client: TestClient) -> None:
    html = client.get("/ledger", params={"wallet": "kraken"}).text
    assert html.count("<td>kraken</td>") == 3 and "<td>coinbase</td>" not in html


def test_taxes_page_lists_rows_schedule_d_4952_and_downloads(client: TestClient) -> None:
    html = client.get("/taxes/2025").text
    assert html.count('class="lots-link"') == 2
    assert "-8,000.00" in html and "a hand-made warning" in html
    assert re.search(r"<td>16</td><td colspan=\"3\"></td><td class=\"num\">-7,510.00</td>", html)
    assert re.search(r"<td>1</td><td class=\"num\">123.45</td>", html)
    assert 'href="/api/tax/2025/exports/form-8949-2025.pdf"' in html


def test_taxes_filter_keeps_only_matching_rows(client: TestClient) -> None:
    html = client.get("/taxes/2025", params={"term": "long"}).text
    assert html.count('class="lots-link"') == 1 and "0.3 BTC" in html and "0.5 ETH" not in html
    assert 'href="/api/tax/2025/form-8949.csv?term=long"' in html


def test_row_link_leads_to_its_lots(client: TestClient) -> None:
    html = client.get("/taxes/2025").text
    links = re.findall(r'class="lots-link" href="([^"]+)"', html)
    lots_page = client.get(links[1]).text
    assert "<code>lot-a</code>" in lots_page and "<code>lot-b</code>" in lots_page
    assert "2023-05-01T00:00:00Z" in lots_page


def test_taxes_of_a_year_without_document_say_not_available(client: TestClient) -> None:
    html = client.get("/taxes/2019").text
    assert 'id="unavailable"' in html and "not available yet" in html


def test_positions_page_draws_the_open_loan_and_the_risk_form(client: TestClient) -> None:
    html = client.get("/positions").text
    assert "kraken · long BTC" in html and "32,500.00" in html and "27,500.00" in html
    assert 'id="chart-position-0"' in html
    planned = client.get("/positions", params={"entry": "60000", "quantity": "1", "leverage": "5"}).text
    assert 'id="risk-figures"' in planned and "48300.00" in planned
    assert 'id="chart-risk"' in planned and "liquidation 48,300.00" in planned


def test_risk_form_without_the_calculator_still_draws_the_entry(store: MemoryStore, tmp_path: Path) -> None:
    from tests.web.conftest import write_price_file

    dashboard = Dashboard(store, price_file=write_price_file(tmp_path / "p.csv"))  # default risk source
    client = TestClient(create_app(WebSettings(answer_within=PATIENT), dashboard=dashboard), base_url=BASE_URL)
    html = client.get("/positions", params={"entry": "60000", "quantity": "1", "leverage": "5"}).text
    if 'id="risk-unavailable"' in html:  # before the margin engine's calculator is installed
        assert "entry 60,000.00" in html
    else:
        assert 'id="risk-figures"' in html


def test_backtests_page_shows_equity_and_markers(client: TestClient) -> None:
    html = client.get("/backtests").text
    assert "sma-cross" in html and 'id="chart-backtest-0"' in html and "liquidations" in html


def test_import_form_shows_every_bad_row_and_writes_nothing(client: TestClient, store: MemoryStore) -> None:
    token = _csrf(client.get("/import").text)
    bad = "timestamp,type,wallet,asset,amount\n2025-04-01T00:00:00Z,deposit,w,USD,-5\n"
    response = client.post("/import", data={"csrf_token": token, "format": "auto"},
                           files={"file": ("mine.csv", bad, "text/csv")})
    assert response.status_code == 400
    assert 'id="import-errors"' in response.text and "<td>mine.csv</td><td>2</td><td>amount</td>" in response.text
    assert store.count() == 6


def test_import_form_reports_what_it_added(client: TestClient, store: MemoryStore) -> None:
    token = _csrf(client.get("/import").text)
    good = "timestamp,type,wallet,asset,amount\n2025-04-01T00:00:00Z,deposit,w,USD,5\n"
    response = client.post("/import", data={"csrf_token": token, "format": "marginbook"},
                           files={"file": ("ok.csv", good, "text/csv")})
    assert 'id="import-ok"' in response.text and "1 events added" in response.text
    assert store.count() == 7


def test_pages_without_a_ledger_say_so(tmp_path: Path) -> None:
    dashboard = Dashboard(None, store_problem="the ledger store is not available yet: test")
    client = TestClient(create_app(WebSettings(answer_within=PATIENT), dashboard=dashboard), base_url=BASE_URL)
    for page in ("/", "/ledger", "/positions", "/taxes/2025"):
        html = client.get(page).text
        assert "not available yet" in html, page
    assert client.get("/api/portfolio").status_code == 503


def test_after_the_ledger_grows_pages_answer_from_the_old_fold_and_refold_behind(
        client: TestClient, store: MemoryStore, dashboard: Dashboard) -> None:
    import io

    from marginbook.importers.ledger_csv import read_text

    client.get("/")  # the fold of 6 events is cached
    store.add_events(read_text(io.StringIO("timestamp,type,wallet,asset,amount\n2025-05-01T00:00:00Z,deposit,w,USD,7\n"),
                               "later.csv"))  # written behind the dashboard's back (another process)
    html = client.get("/").text
    # One notice says it: the new fold is computing, and what the figures shown cover.
    assert html.count('class="notice') == 1
    assert 'id="computing"' in html and "over all 7 events (the figures below cover 6" in html
    dashboard.wait_for_refold(timeout=30)
    assert 'id="computing"' not in client.get("/").text
    assert client.get("/api/portfolio").json()["events"] == 7


def test_the_tax_engine_prices_a_liquidation_of_the_open_long(store: MemoryStore) -> None:
    """0.4 BTC bought for 20,000 and liquidated at 27,500 (1.1 × 10,000 / 0.4): proceeds 11,000, a 9,000 loss."""
    import pytest

    pytest.importorskip("marginbook.app.tax_year")
    client = TestClient(create_app(WebSettings(answer_within=PATIENT), dashboard=Dashboard(store)), base_url=BASE_URL)
    body = client.get("/api/positions/0/liquidation-tax").json()
    assert (body["quantity"], body["price"], body["gain"]) == ("0.4", "27500", "-9000")
    (row,) = body["rows"]
    assert (row["proceeds"], row["cost_basis"], row["lots"][0]["acquisition_id"]) == ("11000.00", "20000.00", "buy-1")
    assert store.count() == 6  # asked, not written
    page = client.get("/positions").text
    assert 'class="liquidation-tax" href="/positions/0/liquidation-tax"' in page
    assert 'id="liquidation-gain">-9,000' in client.get("/positions/0/liquidation-tax").text
    assert client.get("/api/positions/3/liquidation-tax").status_code == 404
