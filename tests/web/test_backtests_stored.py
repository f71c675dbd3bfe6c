"""A run stored from ``marginbook backtest --format json`` shows its equity curve and drawdown on the
Backtests page: the document carries them, and the chart keeps every extreme of a long curve."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from marginbook.app import charts
from marginbook.app.dashboard import Dashboard
from marginbook.web.main import create_app
from marginbook.web.settings import WebSettings
from tests.web.conftest import BASE_URL, PATIENT, make_store

FIXTURE = Path(__file__).resolve().parents[1] / "backtest" / "fixtures" / "BTC-USDT_1d_2021-10_2022-07.csv"


def _stored_run(folder: Path) -> dict[str, object]:
    pytest.importorskip("marginbook.backtest.engine")
    from marginbook.cli.main import app as cli

    result = CliRunner().invoke(cli, ["backtest", "--data", str(FIXTURE), "--strategy", "sma-cross", "--param",
                                      "fast=5", "--param", "slow=20", "--venue", "binance-usdm", "--leverage",
                                      "20", "--format", "json"])
    assert result.exit_code == 0, result.output
    folder.mkdir()
    (folder / "sma-cross-20x.json").write_text(result.stdout, encoding="utf-8")
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_the_json_document_carries_the_equity_curve_and_drawdown_of_every_bar(tmp_path: Path) -> None:
    document = _stored_run(tmp_path / "runs")
    curve = document["equity_curve"]
    assert isinstance(curve, list) and len(curve) == document["bars"] == 304
    assert curve[0]["time"] == "2021-10-01T00:00:00Z"
    assert Decimal(curve[-1]["equity"]) == Decimal(str(document["final_equity"]))
    # The deepest point of the stored drawdown is the run's max_drawdown_pct.
    assert -min(Decimal(p["drawdown_pct"]) for p in curve) == Decimal(str(document["max_drawdown_pct"]))
    assert all(Decimal(p["drawdown_pct"]) <= 0 for p in curve)


def test_the_backtests_page_draws_the_stored_runs_equity_and_drawdown(tmp_path: Path) -> None:
    document = _stored_run(tmp_path / "runs")
    dashboard = Dashboard(make_store(), backtest_dir=tmp_path / "runs")
    client = TestClient(create_app(WebSettings(answer_within=PATIENT), dashboard=dashboard), base_url=BASE_URL)
    html = client.get("/backtests").text
    assert "sma-cross-20x" in html and 'id="chart-backtest-0"' in html
    assert "stored no equity curve" not in html
    assert '"name":"drawdown %"' in html and '"name":"liquidations"' in html
    liquidations = document["liquidations"]
    assert isinstance(liquidations, list) and liquidations  # 20x on this data is liquidated


def test_a_long_curve_is_thinned_but_keeps_its_peak_trough_and_deepest_drawdown() -> None:
    count = 50_000
    equity = [10_000 + 3_000 * math.sin(i / 700) + (500 if i == 31_337 else 0) for i in range(count)]
    drawdown = charts._drawdown(equity)
    kept = charts._kept(equity, drawdown, charts.MAX_CURVE_POINTS)
    assert len(kept) <= charts.MAX_CURVE_POINTS + 5
    assert 0 in kept and count - 1 in kept and 31_337 in kept
    assert min(drawdown[i] for i in kept) == min(drawdown)
    assert max(equity[i] for i in kept) == max(equity) and min(equity[i] for i in kept) == min(equity)
