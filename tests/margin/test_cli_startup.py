"""``marginbook`` builds only the invoked command (for start-up time); nothing else changes.

These run the real entry point (``python -m marginbook``), because the pruning happens in
``marginbook.cli.main.run`` before Typer builds the app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _marginbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "marginbook", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC, "COLUMNS": "200"},
        check=False,
    )


def test_overview_still_lists_every_command() -> None:
    done = _marginbook("--help")
    assert done.returncode == 0
    for name in ("risk", "interest", "paper", "tax", "import", "ledger", "backtest", "prices"):
        assert f" {name} " in done.stdout


def test_risk_after_a_global_db_option(tmp_path: Path) -> None:
    done = _marginbook("--db", f"sqlite:///{tmp_path / 'x.db'}", "risk", "--venue", "bybit-linear", "--side",
                       "long", "--entry", "20000", "--quantity", "1", "--leverage", "50", "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["liquidation_price"] == "19700"


def test_a_group_and_a_typo_behave_as_before() -> None:
    group = _marginbook("prices", "--help")
    assert group.returncode == 0
    assert "fetch" in group.stdout and "show" in group.stdout
    typo = _marginbook("rsk")
    assert typo.returncode == 2
    assert "No such command 'rsk'" in typo.stderr


def test_every_command_is_registered_again_after_a_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from marginbook.cli.main import app, run

    before = [info.name for info in app.registered_commands]
    monkeypatch.setattr(sys, "argv", ["marginbook", "interest", "--venue", "binance-margin", "--principal",
                                      "1000", "--asset", "USDC", "--rate", "0.00001", "--from",
                                      "2025-03-01T13:20:00Z", "--to", "2025-03-01T14:15:00Z", "--format", "json"])  # fmt: skip
    with pytest.raises(SystemExit) as done:
        run()
    assert done.value.code in (0, None)
    assert json.loads(capsys.readouterr().out)["interest"] == "0.02"
    assert [info.name for info in app.registered_commands] == before
    assert "risk" in before and "tax" in before


def test_risk_imports_neither_the_tax_engine_nor_the_portfolio() -> None:
    """``marginbook risk`` must start in under 300 ms: the command line's discovery may not
    pull in the tax engine, the portfolio or the database layer (a helper module of a command,
    imported at discovery, once cost 120 ms this way)."""
    probe = (
        "import sys, runpy; sys.argv = ['marginbook', 'risk', '--venue', 'bybit-linear', '--side', 'long',"
        " '--entry', '20000', '--quantity', '1', '--leverage', '50', '--format', 'json'];\n"
        "try:\n    runpy.run_module('marginbook', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('marginbook.tax', 'marginbook.app.portfolio',"
        " 'marginbook.ledger', 'sqlalchemy', 'numba', 'polars')))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC}, check=False)
    assert json.loads(done.stdout)["liquidation_price"] == "19700"
    assert "HEAVY []" in done.stderr, done.stderr
