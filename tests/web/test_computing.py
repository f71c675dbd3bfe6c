"""No request waits for the engine: "computing…" pages, 202 + Retry-After, /api/status, and the
results kept in the ledger database across restarts."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marginbook.app.dashboard import Dashboard
from marginbook.app.features import FeatureUnavailable, tax_standing
from marginbook.app.memory_store import MemoryStore
from marginbook.app.result_cache import ResultCache
from marginbook.importers.ledger_csv import read_text
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings
from tests.web.conftest import BASE_URL, LEDGER_CSV, fake_tax, make_store


class Gate:
    """A source that blocks until released, counting its calls."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def tax(self, store: object, year: int, profile: Path | None) -> dict[str, Any]:
        self.calls += 1
        assert self.release.wait(30), "the test never released the source"
        return fake_tax(store, year, profile)

    def standing(self, events: list[Any], at: datetime, profile: Path | None) -> tuple[Any, str]:
        self.calls += 1
        assert self.release.wait(30), "the test never released the source"
        return tax_standing(events, at, profile)


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    yield held
    held.release.set()  # never leave the worker thread blocked


def gated_client(dashboard: Dashboard) -> TestClient:
    return TestClient(create_app(WebSettings(answer_within=0.1), dashboard=dashboard), base_url=BASE_URL)


def test_taxes_page_answers_at_once_while_the_engine_runs_and_fills_in_after(gate: Gate) -> None:
    dashboard = Dashboard(make_store(), tax_source=gate.tax)
    client = gated_client(dashboard)
    page = client.get("/taxes/2025")
    assert page.status_code == 202 and page.headers["retry-after"] == "2"
    assert 'id="computing" data-job="tax:2025" data-ready="tax:2025"' in page.text
    assert '<script src="/static/computing.js" defer></script>' in page.text
    assert '<noscript><meta http-equiv="refresh"' in page.text
    api = client.get("/api/tax/2025/form-8949")
    assert api.status_code == 202 and api.headers["retry-after"] == "2"
    assert api.json()["status"] == "computing" and api.json()["job"] == "tax:2025"
    status = client.get("/api/status").json()
    assert {"name": "tax:2025", "state": "running"}.items() <= status["jobs"][0].items()
    assert "tax:2025" not in status["ready"]
    for _ in range(5):  # polling browsers start no second run
        assert client.get("/taxes/2025").status_code == 202
    gate.release.set()
    dashboard.wait_for_refold(30)
    assert "tax:2025" in client.get("/api/status").json()["ready"]
    assert client.get("/taxes/2025").text.count('class="lots-link"') == 2
    assert client.get("/api/tax/2025/form-8949").status_code == 200
    assert gate.calls == 1


def test_overview_shows_the_fold_at_once_and_says_the_engine_is_computing(gate: Gate) -> None:
    dashboard = Dashboard(make_store(), tax_source=fake_tax, standing_source=gate.standing)
    client = TestClient(create_app(WebSettings(answer_within=10), dashboard=dashboard), base_url=BASE_URL)
    page = client.get("/")  # waits for the fold (fast here), not for the engine
    assert page.status_code == 200
    assert 'id="net-value">15,985.00<' in page.text
    assert 'id="computing" data-job="snapshot"' in page.text and "The tax engine&#39;s run (cost basis" in page.text
    assert "The tax engine is still running" not in page.text  # the notice says it once, not twice
    client.app.state.dashboard.answer_within = 0.1  # type: ignore[attr-defined]
    pending = client.get("/api/portfolio")
    assert pending.status_code == 202 and pending.json()["job"] == "snapshot"
    assert "holdings" in client.get("/api/status").json()["ready"]
    gate.release.set()
    dashboard.wait_for_refold(30)
    done = client.get("/")
    assert 'id="computing"' not in done.text and "still running" not in done.text
    assert client.get("/api/portfolio").json()["net_value"] == "15985"


def test_a_year_the_engine_refuses_is_not_recomputed_on_every_poll() -> None:
    calls: list[int] = []

    def refusing(store: object, year: int, profile: Path | None) -> dict[str, Any]:
        calls.append(year)
        raise FeatureUnavailable("the tax engine", f"no document for {year}")

    client = TestClient(create_app(WebSettings(answer_within=10), dashboard=Dashboard(make_store(),
                                                                                     tax_source=refusing)),
                        base_url=BASE_URL)
    assert client.get("/api/tax/2019").status_code == 503
    assert client.get("/api/tax/2019").status_code == 503
    assert "not available yet" in client.get("/taxes/2019").text
    assert calls == [2019]
    assert client.get("/api/status").json()["failed"] == {"tax:2019": "the tax engine is not available yet: "
                                                                      "no document for 2019"}


def test_openapi_documents_the_202_answer_and_the_status_endpoint() -> None:
    client = TestClient(create_app(WebSettings(), dashboard=Dashboard(make_store())), base_url=BASE_URL)
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/portfolio", "/api/tax/{year}", "/api/tax/{year}/form-8949",
                 "/api/tax/{year}/downloads/{fmt}"):
        answer = paths[path]["get"]["responses"]["202"]
        assert "Retry-After" in answer["headers"], path
    assert "/api/status" in paths


def test_the_command_lines_dashboard_still_waits_for_its_figures() -> None:
    """Without ``answer_within`` (``marginbook portfolio``) nothing is ever "computing"."""
    dashboard = Dashboard(make_store(), tax_source=fake_tax)
    assert dashboard.portfolio().realized_pnl_year is not None
    assert dashboard.tax_rows(2025)[0]["disposal_id"] == "sell-2"


# -- results kept in the database ----------------------------------------------------------------


def _sqlite_store(path: Path) -> Any:
    from marginbook.ledger import open_store

    store = open_store(f"sqlite:///{path}")
    store.add_events(read_text(io.StringIO(LEDGER_CSV), "fixture.csv"))
    return store


def _refuse(*_: object) -> Any:
    raise AssertionError("recomputed although the stored result was current")


def test_a_restarted_server_reads_the_stored_snapshot_and_tax_document(tmp_path: Path) -> None:
    store = _sqlite_store(tmp_path / "ledger.db")
    first = Dashboard(store, cache=ResultCache.for_store(store), tax_source=fake_tax)
    before = first.portfolio()
    document = first.tax(2025)
    # A new process: the engine would fail the test if it ran.
    again = Dashboard(store, cache=ResultCache.for_store(store), tax_source=_refuse, standing_source=_refuse)
    after = again.portfolio(at=None)
    assert after.holdings == before.holdings and after.realized_by_year == before.realized_by_year
    assert after.value_history == before.value_history and after.positions == before.positions
    assert after.net_value == before.net_value and after.warnings == before.warnings
    assert again.tax(2025) == document
    store.close()


def test_a_stored_result_is_not_used_once_the_ledger_has_grown(tmp_path: Path) -> None:
    store = _sqlite_store(tmp_path / "ledger.db")
    Dashboard(store, cache=ResultCache.for_store(store), tax_source=fake_tax).portfolio()
    store.add_events(read_text(io.StringIO("timestamp,type,wallet,asset,amount\n"
                                           "2025-05-01T00:00:00Z,deposit,w,USD,7\n"), "later.csv"))
    calls: list[int] = []

    def counting(events: list[Any], at: datetime, profile: Path | None) -> tuple[Any, str]:
        calls.append(len(events))
        return tax_standing(events, at, profile)

    grown = Dashboard(store, cache=ResultCache.for_store(store), standing_source=counting).portfolio()
    assert calls == [7] and grown.events == 7
    store.close()


def test_a_stored_result_is_not_used_with_another_profile(tmp_path: Path) -> None:
    store = _sqlite_store(tmp_path / "ledger.db")
    profile = tmp_path / "tax.toml"
    profile.write_text("", encoding="utf-8")
    Dashboard(store, cache=ResultCache.for_store(store), tax_profile=profile).portfolio()
    profile.write_text("# changed\n", encoding="utf-8")
    calls: list[int] = []

    def counting(events: list[Any], at: datetime, path: Path | None) -> tuple[Any, str]:
        calls.append(len(events))
        return tax_standing(events, at, path)

    Dashboard(store, cache=ResultCache.for_store(store), tax_profile=profile, standing_source=counting).portfolio()
    assert calls == [6]
    store.close()


def test_the_memory_store_has_no_database_to_keep_results_in() -> None:
    assert ResultCache.for_store(MemoryStore()) is None


def test_the_liquidation_what_if_answers_202_until_the_snapshot_is_done(gate: Gate) -> None:
    dashboard = Dashboard(make_store(), tax_source=fake_tax, standing_source=gate.standing)
    client = gated_client(dashboard)
    pending = client.get("/api/positions/0/liquidation-tax")
    assert pending.status_code == 202 and pending.json()["job"] == "snapshot"
    page = client.get("/positions/0/liquidation-tax")
    assert page.status_code == 202 and 'id="computing"' in page.text
    gate.release.set()
    dashboard.wait_for_refold(30)
    client.app.state.dashboard.answer_within = 60  # type: ignore[attr-defined]
    assert client.get("/api/positions/0/liquidation-tax").json()["gain"] == "-9000"
    assert "liquidation:0" in client.get("/api/status").json()["ready"]


def test_a_stored_result_is_not_used_once_the_user_adds_price_files(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetched or added prices change the engine's fair market values: the stored run is stale."""
    monkeypatch.setenv("MARGINBOOK_PRICES_DIR", str(tmp_path / "prices"))
    monkeypatch.setenv("MARGINBOOK_PRICE_CACHE", str(tmp_path / "cache"))
    store = _sqlite_store(tmp_path / "ledger.db")
    Dashboard(store, cache=ResultCache.for_store(store)).portfolio()
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "XYZ-USD_1d.csv").write_text("timestamp,open,high,low,close\n", encoding="utf-8")
    calls: list[int] = []

    def counting(events: list[Any], at: datetime, path: Path | None) -> tuple[Any, str]:
        calls.append(len(events))
        return tax_standing(events, at, path)

    Dashboard(store, cache=ResultCache.for_store(store), standing_source=counting).portfolio()
    assert calls == [6]
    store.close()
