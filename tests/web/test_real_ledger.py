"""The dashboard and ``marginbook portfolio`` over the real SQLite ledger store."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from marginbook.cli.main import app as cli
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings
from tests.web.conftest import BASE_URL, LEDGER_CSV, PATIENT, csrf_headers

BAD = "timestamp,type,wallet,asset,amount\n2025-04-01T00:00:00Z,deposit,w,USD,5\n2025-04-02T00:00:00Z,deposit,w,USD,x\n"


def test_import_through_the_api_into_sqlite_is_all_or_nothing(tmp_path: Path) -> None:
    settings = WebSettings(db_url=f"sqlite:///{tmp_path / 'ledger.db'}", answer_within=PATIENT)
    client = TestClient(create_app(settings), base_url=BASE_URL)
    headers = csrf_headers(client)
    rejected = client.post("/api/import", files={"file": ("bad.csv", BAD, "text/csv")}, headers=headers)
    assert rejected.status_code == 400 and rejected.json()["problems"][0]["row"] == 3
    assert client.get("/api/events").json()["total"] == 0  # the good first row was not written either
    added = client.post("/api/import", files={"file": ("fixture.csv", LEDGER_CSV, "text/csv")}, headers=headers)
    assert added.json() == {"added": 6, "unchanged": 0}
    assert client.get("/api/portfolio").json()["net_value"] == "15985"


def test_portfolio_command_prints_one_json_document(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER_CSV, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "import", str(ledger)]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "portfolio", "--at", "2025-12-31T00:00:00Z", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["at"] == "2025-12-31T00:00:00Z"
    assert document["realized_pnl_year"] == "490"  # 0.5 ETH: 1,995 net proceeds − 1,505 basis
    assert document["positions"][0]["liquidation_price"] == "27500"
    table = runner.invoke(cli, ["--db", db, "portfolio", "--at", "2025-12-31T00:00:00Z"])
    assert table.exit_code == 0 and "Open margin positions" in table.stdout


def test_portfolio_rejects_a_time_without_zone(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'l.db'}", "portfolio", "--at", "2025-01-01"])
    assert result.exit_code != 0
