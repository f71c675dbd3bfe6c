"""``marginbook backtest`` and ``marginbook sweep`` keep the command-line contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marginbook.cli.main import app, run

FIXTURE = Path(__file__).parent / "fixtures" / "BTC-USDT_1d_2021-10_2022-07.csv"
runner = CliRunner()


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_backtest_json_has_the_contract_fields_as_decimal_strings() -> None:
    doc = _json(["backtest", "--data", str(FIXTURE), "--strategy", "sma-cross", "--param", "fast=5",
                 "--param", "slow=20", "--venue", "binance-usdm", "--leverage", "20", "--format", "json"])
    for field in ("final_equity", "return_pct", "max_drawdown_pct", "interest_paid", "fees_paid"):
        assert isinstance(doc[field], str)
        float(doc[field])
    assert doc["bars"] == 304 and isinstance(doc["elapsed_s"], float)
    assert doc["liquidations"] and {"time", "price", "quantity", "side", "fee"} <= set(doc["liquidations"][0])
    assert doc["trades"] and {"time", "price", "quantity", "side", "fee"} <= set(doc["trades"][0])
    assert isinstance(doc["margin_calls"], list)


def test_leverage_changes_the_outcome_on_real_data() -> None:
    base = ["backtest", "--data", str(FIXTURE), "--strategy", "sma-cross", "--param", "fast=5", "--param",
            "slow=20", "--param", "short=0", "--venue", "binance-usdm", "--format", "json"]
    calm, wild = _json([*base, "--leverage", "2"]), _json([*base, "--leverage", "20"])
    assert calm["liquidations"] == [] and len(wild["liquidations"]) >= 1
    assert float(wild["final_equity"]) < float(calm["final_equity"])


def test_plot_is_self_contained_html(tmp_path: Path) -> None:
    plot = tmp_path / "chart.html"
    _json(["backtest", "--data", str(FIXTURE), "--strategy", "rsi", "--venue", "binance-usdm", "--leverage",
           "20", "--format", "json", "--plot", str(plot)])
    html = plot.read_text(encoding="utf-8")
    assert "liquidation price" in html and "Drawdown" in html
    # plotly.js is inlined: no script is fetched from anywhere.
    assert re.search(r"<script[^>]+src=", html) is None and len(html) > 1_000_000


def test_export_ledger_writes_events(tmp_path: Path) -> None:
    ledger = tmp_path / "run.csv"
    doc = _json(["backtest", "--data", str(FIXTURE), "--strategy", "sma-cross", "--param", "fast=5",
                 "--param", "slow=20", "--venue", "binance-margin", "--leverage", "3", "--format", "json",
                 "--export-ledger", str(ledger)])
    assert doc["ledger"]["events"] > 0
    assert ledger.read_text(encoding="utf-8").startswith("id,timestamp,type,wallet,asset,amount")


def _exit_code(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["marginbook", *args])
    with pytest.raises(SystemExit) as exit_info:
        run()
    return int(exit_info.value.code or 0), capsys.readouterr().err


def test_bad_price_row_exits_2_naming_file_row_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n"
                    "2024-01-02T00:00:00Z,1,x,0.5,1.5\n", encoding="utf-8")
    code, err = _exit_code(["backtest", "--data", str(path), "--strategy", "rsi"], monkeypatch, capsys)
    assert code == 2 and f"{path}:3: high: not a number" in err


def test_leverage_above_the_venue_cap_exits_2(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _exit_code(["backtest", "--data", str(FIXTURE), "--strategy", "rsi", "--venue", "binance-margin",
                            "--leverage", "10"], monkeypatch, capsys)
    assert code == 2 and "--leverage" in err


def test_sweep_table_and_heatmap(tmp_path: Path) -> None:
    heatmap = tmp_path / "heat.html"
    doc = _json(["sweep", "--data", str(FIXTURE), "--strategy", "sma-cross", "--grid", "fast=5:10:5",
                 "--grid", "slow=20:30:10", "--workers", "1", "--format", "json", "--heatmap", str(heatmap)])
    assert doc["count"] == 4
    assert [p["params"] for p in doc["points"]] == [
        {"fast": "5", "slow": "20"}, {"fast": "5", "slow": "30"}, {"fast": "10", "slow": "20"},
        {"fast": "10", "slow": "30"}]
    assert "heatmap" in heatmap.read_text(encoding="utf-8").lower()
