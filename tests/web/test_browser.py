"""The dashboard in a real browser: Debian's chromium driven by Playwright (never a downloaded one).

Each test saves a screenshot under ``test-output/web/`` so a person can look at what it saw.
Without ``/usr/bin/chromium`` these tests skip, except under ``CI=true`` where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from marginbook.app.dashboard import Dashboard
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings
from tests.web.conftest import fake_risk, fake_tax, make_store, write_backtest, write_price_file

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "web"


def _require_browser() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(dashboard: Dashboard, settings: WebSettings) -> Iterator[str]:
    """Serve ``dashboard`` with uvicorn on a free loopback port (a thread of this process)."""
    import uvicorn

    port = _free_port()
    app = create_app(replace(settings, port=port), dashboard=dashboard)
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard over the conftest ledger, warmed as ``serve`` warms it."""
    _require_browser()
    folder = tmp_path_factory.mktemp("browser")
    dashboard = Dashboard(make_store(), tax_source=fake_tax, risk_source=fake_risk,
                          price_file=write_price_file(folder / "prices.csv"),
                          backtest_dir=write_backtest(folder / "runs").parent)
    with serving(dashboard, WebSettings()) as url:
        dashboard.warm()  # as `serve` does; these tests look at the finished pages
        dashboard.wait_for_refold(120)
        yield url


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.logged_errors = errors  # a test that expects an error status removes its own entry
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield opened
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


@pytest.mark.parametrize(("name", "path", "charts"), [
    ("overview", "/", 3),
    ("positions", "/positions?entry=60000&quantity=1&leverage=5", 2),
    ("backtests", "/backtests", 1),
    ("taxes", "/taxes/2025", 0),
    ("ledger", "/ledger", 0),
    ("import", "/import", 0),
])
def test_each_page_loads_and_draws_its_charts(page: Any, server: str, name: str, path: str, charts: int) -> None:
    response = page.goto(server + path)
    assert response is not None and response.status == 200
    if charts:
        page.wait_for_function(f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= {charts}")
    assert page.locator("h1").first.is_visible()
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_click_from_an_8949_row_to_its_lots(page: Any, server: str) -> None:
    page.goto(server + "/taxes/2025?term=long")
    links = page.locator("a.lots-link")
    assert links.count() == 1
    links.first.click()
    page.wait_for_url("**/taxes/2025/rows/**")
    lots = page.locator("#lots tbody tr")
    assert lots.count() == 2
    assert "lot-a" in lots.nth(0).inner_text() and "lot-b" in lots.nth(1).inner_text()
    page.screenshot(path=str(SHOTS / "tax-row-lots.png"), full_page=True)


def test_upload_a_bad_file_and_see_the_errors(page: Any, server: str, tmp_path: Path) -> None:
    bad = tmp_path / "broken.csv"
    bad.write_text("timestamp,type,wallet,asset,amount\n2025-04-01T00:00:00Z,deposit,w,USD,-5\n"
                   "2025-04-02T00:00:00Z,teleport,w,USD,1\n", encoding="utf-8")
    page.goto(server + "/import")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#import-form button[type=submit]")
    errors = page.locator("#import-errors")
    errors.wait_for()
    text = errors.inner_text()
    assert "nothing was written" in text and "broken.csv" in text
    rows = page.locator("#import-errors tbody tr")
    assert rows.count() == 2
    assert "amount" in rows.nth(0).inner_text() and "type" in rows.nth(1).inner_text()
    page.screenshot(path=str(SHOTS / "import-errors.png"), full_page=True)
    # The rejected form answers 400, which chromium logs as a failed resource: expected here.
    page.logged_errors[:] = [e for e in page.logged_errors if "status of 400" not in e]
    page.goto(server + "/ledger")
    assert "6 events in the ledger" in page.locator("main").inner_text()


def test_a_computing_taxes_page_fills_itself_in_when_the_engine_is_done(browser: Any) -> None:
    release = threading.Event()

    def slow_tax(store: object, year: int, profile: Path | None) -> dict[str, Any]:
        assert release.wait(60)
        return fake_tax(store, year, profile)

    dashboard = Dashboard(make_store(), tax_source=slow_tax)
    context = browser.new_context(viewport={"width": 1360, "height": 800})
    page = context.new_page()
    try:
        with serving(dashboard, WebSettings()) as url:
            response = page.goto(url + "/taxes/2025")
            assert response is not None and response.status == 202
            notice = page.locator("#computing")
            assert notice.is_visible() and "being computed" in notice.inner_text()
            page.wait_for_function("document.getElementById('computing-progress').textContent.includes('running')")
            page.screenshot(path=str(SHOTS / "taxes-computing.png"), full_page=True)
            release.set()
            page.locator("#form-8949").wait_for(timeout=20_000)  # the page reloaded itself
            assert page.locator("a.lots-link").count() == 2 and page.locator("#computing").count() == 0
            page.screenshot(path=str(SHOTS / "taxes-filled-in.png"), full_page=True)
    finally:
        release.set()
        context.close()


def test_download_the_pdf_forms_from_the_taxes_page(page: Any, server: str, tmp_path: Path) -> None:
    from pypdf import PdfReader

    page.goto(server + "/taxes/2025")
    page.click("a.download[data-format=pdf]")
    page.wait_for_url("**/taxes/2025/downloads/pdf")
    files = page.locator("a.download-file")
    files.first.wait_for(timeout=30_000)  # at once, or after the "computing…" state fills in
    assert files.count() == 5
    page.screenshot(path=str(SHOTS / "taxes-download-pdf.png"), full_page=True)
    with page.expect_download() as info:
        page.click("a.download-file[href$='/form-8949-2025.pdf']")
    download = info.value
    assert download.suggested_filename == "form-8949-2025.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    text = "\n".join(p.extract_text() for p in PdfReader(saved).pages)
    assert "0.5 ETH" in text and "(8,000.00)" in text


def test_the_overview_shows_the_holdings_at_once_and_fills_in_the_engines_figures(browser: Any) -> None:
    from marginbook.app.features import tax_standing

    release = threading.Event()

    def slow_standing(events: list[Any], at: Any, profile: Path | None) -> tuple[Any, str]:
        assert release.wait(60)
        return tax_standing(events, at, profile)

    dashboard = Dashboard(make_store(), tax_source=fake_tax, standing_source=slow_standing)
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    try:
        with serving(dashboard, WebSettings(answer_within=10)) as url:
            page.goto(url + "/")
            assert page.locator("#net-value").inner_text() == "15,985.00"  # the fold, at once
            assert page.locator("#computing").is_visible()
            basis = page.locator("#holdings tbody tr", has_text="BTC").locator("td").nth(3)
            assert basis.inner_text() == "—"  # the engine's basis: not yet
            page.screenshot(path=str(SHOTS / "overview-computing.png"), full_page=True)
            release.set()
            page.locator("#computing").wait_for(state="detached", timeout=20_000)  # reloaded itself
            assert page.locator("#holdings tbody tr", has_text="BTC").locator("td").nth(3).inner_text() == "20,000.00"
            page.screenshot(path=str(SHOTS / "overview-filled-in.png"), full_page=True)
    finally:
        release.set()
        context.close()
