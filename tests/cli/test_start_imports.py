"""What a fresh ``marginbook`` process imports before and while it runs ``tax`` (start-up time).

Each test runs the real entry point in a new interpreter and looks at ``sys.modules``: an
import that one of these tests forbids costs every run of the command, not only the runs
that need it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")

#: Every event carries its USD side (USD counter amounts): no market price is needed.
USD_LEDGER = """id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value
L1,2024-01-10T12:00:00Z,buy,coinbase,ETH,2.0,USD,4000,,,
L2,2025-02-01T12:00:00Z,buy,coinbase,ETH,1.0,USD,2800,,,
S,2025-08-01T12:00:00Z,sell,coinbase,ETH,2.5,USD,7530,USD,30,
"""
#: ETH bought with BTC: its basis is its market value (the bundled ETH-USDT daily closes).
PRICED_LEDGER = """id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value
L1,2024-01-10T12:00:00Z,buy,coinbase,BTC,1.0,USD,40000,,,
L2,2024-06-15T12:00:00Z,buy,coinbase,ETH,10,BTC,0.5,,,
S,2025-08-01T12:00:00Z,sell,coinbase,ETH,2.5,USD,7530,USD,30,
"""
#: Needed only by other commands or options (prices, ``--profile``, ``--allocation``).
NOT_FOR_A_PLAIN_TAX_RUN = ("marginbook.market.prices", "platformdirs", "tomllib", "marginbook.tax.allocation")


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": SRC,
        "MARGINBOOK_PRICES_DIR": str(tmp_path / "no-user-prices"),
        "MARGINBOOK_PRICE_CACHE": str(tmp_path / "no-price-cache"),
    }


def _python(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """A new interpreter run with ``arguments``, which must succeed."""
    done = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, env=_env(tmp_path), check=False
    )
    assert done.returncode == 0, done.stderr
    return done


def _run_and_list(tmp_path: Path, args: list[str], watched: tuple[str, ...]) -> tuple[str, list[str]]:
    """Run ``marginbook ARGS`` in a new interpreter: its stdout and which ``watched`` it imported."""
    # The console program ends with os._exit once its output is written (cli/process.py):
    # the list is printed there, or after a normal return.
    probe = (
        "import os, runpy, sys\n"
        "def report():\n"
        f"    print('IMPORTED', sorted(m for m in {watched!r} if m in sys.modules), file=sys.stderr)\n"
        "    sys.stderr.flush()\n"
        "real_exit = os._exit\n"
        "def exit_now(code):\n    report()\n    real_exit(code)\n"
        "os._exit = exit_now\n"
        f"sys.argv = ['marginbook', *{args!r}]\n"
        "try:\n    runpy.run_module('marginbook', run_name='__main__')\n"
        "except SystemExit as done:\n    assert done.code in (0, None), done.code\n"
        "report()\n"
    )
    done = _python(tmp_path, "-c", probe)
    line = next(line for line in done.stderr.splitlines() if line.startswith("IMPORTED "))
    imported: list[str] = json.loads(line.removeprefix("IMPORTED ").replace("'", '"'))
    return done.stdout, imported


def _ledger(tmp_path: Path, text: str) -> str:
    csv = tmp_path / "ledger.csv"
    csv.write_text(text)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    _python(tmp_path, "-m", "marginbook", "--db", url, "import", str(csv))
    return url


def test_the_command_line_module_imports_no_library_of_a_command(tmp_path: Path) -> None:
    probe = (
        "import sys, marginbook.cli.main\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'pydantic', 'plotly',"
        " 'fastapi', 'numpy', 'polars', 'numba', 'platformdirs') or m.startswith(('marginbook.domain.events',"
        " 'marginbook.tax', 'marginbook.ledger', 'marginbook.app', 'marginbook.market'))))\n"
    )
    assert _python(tmp_path, "-c", probe).stdout.strip() == "[]"


def test_a_tax_run_that_values_nothing_at_market_skips_the_price_data(tmp_path: Path) -> None:
    url = _ledger(tmp_path, USD_LEDGER)
    args = ["--db", url, "tax", "--year", "2025", "--scope", "universal", "--method", "fifo", "--format", "json"]
    out, imported = _run_and_list(tmp_path, args, NOT_FOR_A_PLAIN_TAX_RUN)
    assert imported == []
    # FIFO: 2 ETH at 2,000 and 0.5 at 2,800 USD sold for 7,500 net of the fee.
    assert json.loads(out)["schedule_d"]["line_16"] == "2100.00"


def test_a_tax_run_that_needs_a_price_still_finds_the_bundled_data(tmp_path: Path) -> None:
    url = _ledger(tmp_path, PRICED_LEDGER)
    out, imported = _run_and_list(
        tmp_path, ["--db", url, "tax", "--year", "2025", "--format", "json"], ("marginbook.market.prices",)
    )
    assert imported == ["marginbook.market.prices"]
    (row,) = json.loads(out)["form_8949"]
    # A quarter of 10 ETH at the bundled ETH-USDT close of 2024-06-15 (3,568.74 USD a coin).
    assert (row["cost_basis"], row["gain"]) == ("8921.85", "-1421.85")
