"""The console program ends with ``os._exit`` once a command's output is written
(``marginbook.cli.process``): nothing it wrote may be lost on the way out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marginbook.cli import process
from tests.cli.conftest import Cli

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _ledger_csv(sales: int) -> str:
    """A buy and ``sales`` sales a year: a JSON document far larger than a pipe's buffer."""
    lines = ["id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value"]
    lines.append("B,2024-01-02T00:00:00Z,buy,coinbase,BTC,1000,USD,40000000,USD,25,")
    for n in range(sales):
        day = 1 + n % 28
        lines.append(f"S{n},2025-{1 + n % 12:02d}-{day:02d}T{n % 24:02d}:00:00Z,sell,coinbase,BTC,0.5,USD,{30000 + n},,,")
    return "\n".join(lines) + "\n"


def test_the_console_program_writes_everything_before_it_ends(tmp_path: Path, cli: Cli) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(_ledger_csv(600))
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert cli("--db", url, "import", str(ledger)).code == 0
    args = ["--db", url, "tax", "--year", "2025", "--scope", "universal", "--format", "json"]
    # Buffered as a user's shell gives it (a pipe): what is still in the buffer at the end
    # must be flushed before the process ends.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    env["PYTHONPATH"] = SRC
    done = subprocess.run(
        [sys.executable, "-m", "marginbook", *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 4 * 65_536  # more than a pipe holds: the end must be flushed
    document = json.loads(done.stdout)
    assert len(document["form_8949"]) == 600
    # The same document and warnings as the app called in this process (which returns as usual).
    in_process = cli(*args)
    assert (in_process.code, in_process.out, in_process.err) == (0, done.stdout, done.stderr)
    assert "--scope universal" in done.stderr


def test_outside_the_console_program_done_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "_console", False)
    process.done()  # would end this test process if it did not return
