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
