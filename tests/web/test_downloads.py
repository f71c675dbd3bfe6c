"""Every export ``marginbook tax --out`` writes, downloadable from the dashboard, generated on demand:
each download is parsed back (the PDF forms with pypdf, the CSVs with csv, TXF by its records)."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from marginbook.app.dashboard import Dashboard
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings
from tests.web.conftest import BASE_URL, PATIENT, fake_tax, make_store, tax_document_2025


def _files(client: TestClient, fmt: str) -> dict[str, dict[str, Any]]:
    answer = client.get(f"/api/tax/2025/downloads/{fmt}")
    assert answer.status_code == 200, answer.text
    return {item["name"]: item for item in answer.json()["files"]}


def _get(client: TestClient, item: dict[str, Any]) -> Any:
    response = client.get(item["url"])
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="{item["name"]}"'
    assert int(response.headers["content-length"]) == item["bytes"]
    return response


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_forms_are_written_on_request_and_carry_the_years_figures(client: TestClient) -> None:
    files = _files(client, "pdf")
    assert sorted(files) == ["form-4952-2025.pdf", "form-8949-2025.pdf", "form-8949-statement-2025.pdf",
                             "schedule-d-2025.pdf", "summary-2025.pdf"]
    form_8949 = _get(client, files["form-8949-2025.pdf"])
    assert form_8949.headers["content-type"] == "application/pdf"
    text = _pdf_text(form_8949.content)
    # The rows of the fixture's document, filled into the IRS form (flattened: the values are page text).
    assert "Form 8949" in text and "0.5 ETH" in text and "1,995.00" in text and "(8,000.00)" in text
    schedule_d = _pdf_text(_get(client, files["schedule-d-2025.pdf"]).content)
    assert "Schedule D".upper() in schedule_d.upper() and "(7,510.00)" in schedule_d  # line 16
    assert "123.45" in _pdf_text(_get(client, files["form-4952-2025.pdf"]).content)  # line 1


def test_8949_csv_download_parses_to_the_documents_rows(client: TestClient) -> None:
    files = _files(client, "csv")
    response = _get(client, files["form-8949-2025.csv"])
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = tax_document_2025()["form_8949"]
    assert [(r["description"], r["proceeds"], r["cost_basis"], r["gain"]) for r in rows] == [
        (e["description"], e["proceeds"], e["cost_basis"], e["gain"]) for e in expected]
    assert rows[1]["lot_ids"] == "lot-a:0.1;lot-b:0.2"


def test_turbotax_csv_download_has_a_row_per_disposal(client: TestClient) -> None:
    files = _files(client, "turbotax")
    (item,) = files.values()
    assert item["name"] == "turbotax-crypto-2025.csv"
    rows = list(csv.DictReader(io.StringIO(_get(client, item).text)))
    # One line per lot: the BTC row's 30,000 proceeds split by units over its two lots (0.1 and 0.2).
    assert [(r["Currency Name"], r["Cost Basis"], r["Proceeds"]) for r in rows] == [
        ("ETH", "1505.00", "1995.00"), ("BTC", "8000.00", "10000.00"), ("BTC", "30000.00", "20000.00")]


def test_txf_download_holds_one_record_per_row(client: TestClient) -> None:
    (item,) = _files(client, "txf").values()
    response = _get(client, item)
    assert item["name"] == "form-8949-2025.txf" and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert text.startswith("V042")
    blocks = [block.strip().splitlines() for block in text.split("^")]
    records = [lines for lines in blocks if lines and lines[0] == "TD"]
    # TXF V042 records: description (P), dates (D), cost basis then proceeds ($).
    assert [[line for line in r if line[0] in "P$"] for r in records] == [
        ["P0.5 ETH", "$1505.00", "$1995.00"], ["P0.3 BTC", "$38000.00", "$30000.00"]]


def test_json_download_is_the_tax_document(client: TestClient) -> None:
    (item,) = _files(client, "json").values()
    response = _get(client, item)
    assert item["name"] == "tax-2025.json" and response.headers["content-type"] == "application/json"
    assert json.loads(response.content) == tax_document_2025()


def test_downloads_page_lists_the_written_files_and_the_taxes_page_offers_every_format(
        client: TestClient) -> None:
    taxes = client.get("/taxes/2025").text
    for fmt in ("pdf", "csv", "txf", "turbotax", "json"):
        assert f'href="/taxes/2025/downloads/{fmt}"' in taxes
    page = client.get("/taxes/2025/downloads/pdf").text
    assert 'href="/api/tax/2025/downloads/pdf/schedule-d-2025.pdf"' in page


def test_unknown_format_or_file_is_refused(client: TestClient) -> None:
    assert client.get("/api/tax/2025/downloads/xlsx").status_code == 422
    assert client.get("/api/tax/2025/downloads/csv/other.csv").status_code == 404
    assert client.get("/api/tax/2025/downloads/csv/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)


def test_a_pdf_being_written_answers_202_and_the_server_answers_other_requests(tmp_path: Path) -> None:
    release = threading.Event()

    def slow_tax(store: object, year: int, profile: Path | None) -> dict[str, Any]:
        assert release.wait(30)
        return fake_tax(store, year, profile)

    dashboard = Dashboard(make_store(), tax_source=slow_tax)
    client = TestClient(create_app(WebSettings(answer_within=0.1), dashboard=dashboard), base_url=BASE_URL)
    try:
        pending = client.get("/api/tax/2025/downloads/pdf/form-8949-2025.pdf")
        assert pending.status_code == 202 and pending.headers["retry-after"] == "2"
        assert pending.json()["job"] == "export:2025:pdf"
        page = client.get("/taxes/2025/downloads/pdf")
        assert page.status_code == 202 and 'id="computing" data-job="export:2025:pdf"' in page.text
        assert client.get("/api/health").status_code == 200  # meanwhile, the server answers
        assert client.get("/api/events").json()["total"] == 6
    finally:
        release.set()
    dashboard.wait_for_refold(60)
    assert "export:2025:pdf" in client.get("/api/status").json()["ready"]
    done = client.get("/api/tax/2025/downloads/pdf/form-8949-2025.pdf")
    assert done.status_code == 200 and done.content.startswith(b"%PDF")


@pytest.fixture
def client(dashboard: Dashboard) -> Any:
    app = create_app(WebSettings(answer_within=PATIENT), dashboard=dashboard)
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client
