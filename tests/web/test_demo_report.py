"""The static report: one self-contained HTML file with the portfolio, backtests and taxes."""

from __future__ import annotations

import re
from pathlib import Path

from marginbook.app.demo_report import BacktestSection, write_report
from tests.web.conftest import fake_tax, make_store, write_backtest


def test_report_is_one_offline_file_with_every_section(tmp_path: Path) -> None:
    import json

    run = json.loads(write_backtest(tmp_path / "runs").read_text())
    path = write_report(tmp_path / "out", store=make_store(), years=[2025, 2019],
                        backtests=[BacktestSection("sma-cross", run)], tax_source=fake_tax,
                        serve_command="marginbook --db sqlite:///demo.db serve")
    html = path.read_text(encoding="utf-8")
    assert path.name == "report.html"
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is inlined, nothing is fetched
    assert html.count("<script") >= 4 and len(html) > 1_000_000
    assert "Net value <b>15,985.00</b>" in html
    assert 'id="chart-backtest-0"' in html and "1 liquidations" in html
    assert "<td>line_16</td><td></td><td></td><td class=\"num\">-7510.00</td>" in html
    assert "not available yet: no document for 2019" in html  # an honest gap, not a number
    assert "marginbook --db sqlite:///demo.db serve" in html


def test_report_without_backtests_says_why(tmp_path: Path) -> None:
    html = write_report(tmp_path, store=make_store(), backtest_problem="the backtest engine is not installed").read_text()
    assert "the backtest engine is not installed" in html


def test_backtest_section_adds_the_equity_curve_the_json_lacks(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from marginbook.app.demo_report import backtest_section

    times = [datetime(2025, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    section = backtest_section("run", {"final_equity": "9000", "trades": [], "liquidations": []}, times,
                               [10000.0, 12000.0, 9000.0])
    assert section.document["equity_curve"][1] == {"time": "2025-01-02T00:00:00Z", "equity": 12000.0}
    html = write_report(tmp_path, store=make_store(), backtests=[section]).read_text()
    assert 'id="chart-backtest-0"' in html and "-25.0" in html  # drawdown from the 12,000 peak


def test_report_command_writes_the_file_and_prints_where(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from marginbook.cli.main import app
    from tests.web.conftest import LEDGER_CSV

    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER_CSV, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'l.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "import", str(ledger)]).exit_code == 0
    result = runner.invoke(app, ["--db", db, "report", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"Report: {(tmp_path / 'out' / 'report.html').resolve()}" in result.stdout
    assert "Net value <b>15,985.00</b>" in (tmp_path / "out" / "report.html").read_text()


def test_report_runs_a_backtest_and_marks_its_liquidations(tmp_path: Path) -> None:
    import pytest

    pytest.importorskip("marginbook.backtest.engine")
    from marginbook.app.demo_report import run_backtest_section
    from marginbook.app.features import bundled_price_file

    data = bundled_price_file("BTC")
    assert data is not None
    section = run_backtest_section("sma-cross", data)
    curve = section.document["equity_curve"]
    assert len(curve) == 3059 and curve[0]["equity"] == "10000"  # one point per bar, from the starting cash
    assert section.document["liquidations"], "3x on BTC since 2017 meets at least one liquidation"
    html = write_report(tmp_path, store=make_store(), backtests=[section]).read_text()
    assert '"name":"liquidations"' in html.replace(" ", "")


def test_report_command_stores_its_backtests_for_serve(tmp_path: Path) -> None:
    import pytest
    from typer.testing import CliRunner

    pytest.importorskip("marginbook.backtest.engine")
    from marginbook.app.dashboard import Dashboard
    from marginbook.cli.main import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'l.db'}", "report", "--out", str(out),
                                      "--strategy", "rsi"])
    assert result.exit_code == 0, result.output
    assert f"--backtests {out / 'backtests'}" in result.output
    (run,) = Dashboard(make_store(), backtest_dir=out / "backtests").backtests()
    assert run.name == "rsi" and len(run.document["equity_curve"]) == 3059


def test_backtest_figures_are_shown_to_the_cent(tmp_path: Path) -> None:
    from decimal import Decimal

    from marginbook.app.demo_report import two_decimals

    assert two_decimals(376128.5528653142) == "376,128.55"
    assert two_decimals("-12.345") == "-12.34"  # half to even, as cents() rounds
    assert two_decimals(Decimal("5")) == "5.00" and two_decimals(365) == "365"
    assert two_decimals(None) == "—" and two_decimals("n/a") == "n/a"
    run = {"final_equity": 376128.5528653142, "return_pct": 3661.285528653142,
           "max_drawdown_pct": 41.06001, "trades": [], "liquidations": []}
    html = write_report(tmp_path, store=make_store(), backtests=[BacktestSection("run", run)]).read_text()
    assert "Final equity 376,128.55 · return 3,661.29 % ·\nmax drawdown 41.06 %" in html
    assert "376128.5528" not in html


def test_the_report_shows_the_tax_engines_realized_pnl(tmp_path: Path) -> None:
    # The fixture ledger: 0.5 ETH of a 1 ETH buy (3,010 with its fee) sold for 1,995 net.
    html = write_report(tmp_path, store=make_store()).read_text()
    assert "Realized P&amp;L by year (the tax engine's Form 8949 gains):\n2025: 490.00" in html
