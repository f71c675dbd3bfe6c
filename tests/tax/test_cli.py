"""``marginbook tax`` end to end: a ledger CSV file in, JSON / CSV on stdout, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from marginbook.cli.main import app

LEDGER = """id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value
L1,2024-01-10T12:00:00Z,buy,coinbase,ETH,2.0,USD,4000,,,
L2,2024-06-15T12:00:00Z,buy,coinbase,ETH,1.0,USD,3500,,,
L3,2025-02-01T12:00:00Z,buy,coinbase,ETH,1.0,USD,2800,,,
S,2025-08-01T12:00:00Z,sell,coinbase,ETH,2.5,USD,7530,USD,30,
"""

PROFILE = """
[wallets.coinbase]
custodial = true
form_1099da = "gross_only"
[year.2025]
method = "hifo"
method_since = "2025-01-01T00:00:00Z"
"""


def _files(tmp_path: Path) -> tuple[Path, Path]:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER)
    profile = tmp_path / "profile.toml"
    profile.write_text(PROFILE)
    return ledger, profile


def test_tax_json_on_stdout_is_one_document(tmp_path: Path) -> None:
    ledger, profile = _files(tmp_path)
    result = CliRunner().invoke(
        app, ["tax", "--year", "2025", "--ledger", str(ledger), "--profile", str(profile), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["year"], doc["method"], doc["scope"]) == (2025, "hifo", "transition")
    assert sorted((row["box"], row["gain"]) for row in doc["form_8949"]) == [("H", "200.00"), ("K", "0.00")]
    assert doc["schedule_d"]["line_2"]["gain"] == "200.00"
    assert doc["schedule_d"]["line_16"] == "200.00"


def test_tax_method_flag_and_csv_rows_with_lot_ids(tmp_path: Path) -> None:
    ledger, profile = _files(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "tax",
            "--year",
            "2025",
            "--ledger",
            str(ledger),
            "--profile",
            str(profile),
            "--method",
            "fifo",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["box"], r["gain"], r["lot_ids"], r["date_acquired"]) for r in rows] == [
        ("K", "1750.00", "L1:2;L2:0.5", "VARIOUS")
    ]


def test_tax_out_dir_writes_the_report_and_the_allocation(tmp_path: Path) -> None:
    ledger, _ = _files(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["tax", "--year", "2025", "--ledger", str(ledger), "--format", "json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "tax-2025.json").read_text())["year"] == 2025
    allocation = list(csv.DictReader((out / "allocation-2025-01-01.csv").open()))
    assert [(a["wallet"], a["acquisition_id"], a["quantity"]) for a in allocation] == [
        ("coinbase", "L1", "2"),
        ("coinbase", "L2", "1"),
    ]


def test_exit_codes_bad_profile_is_2_missing_basis_is_1(tmp_path: Path) -> None:
    ledger, _ = _files(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('[treatment]\nmetod = "x"\n')
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "marginbook",
            "tax",
            "--year",
            "2025",
            "--ledger",
            str(ledger),
            "--profile",
            str(bad),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 2 and "treatment.metod: unknown key" in run.stderr
    short = tmp_path / "short.csv"
    short.write_text(LEDGER.replace("2.5,USD,7530", "5.5,USD,7530"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "marginbook",
            "tax",
            "--year",
            "2025",
            "--ledger",
            str(short),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 1 and "S (" in run.stderr and "missing basis" in run.stderr
    assert run.stdout == ""


def test_tax_from_the_ledger_database(tmp_path: Path) -> None:
    from marginbook.importers.ledger_csv import read
    from marginbook.ledger import open_store

    ledger, profile = _files(tmp_path)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:
        store.add_events(read(ledger))
    result = CliRunner().invoke(
        app, ["--db", url, "tax", "--year", "2025", "--profile", str(profile), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert sorted((row["box"], row["gain"]) for row in doc["form_8949"]) == [("H", "200.00"), ("K", "0.00")]


def test_the_fast_store_reader_gives_the_same_events_as_the_store(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from marginbook.app.stored_events import stored_events, tax_events_from_store
    from marginbook.importers.ledger_csv import read
    from marginbook.ledger import open_store

    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value,"
        "to_wallet,cost_basis_usd,acquired_at,lots,position,opened_at,note\n"
        "a,2025-01-02T00:00:00Z,buy,kraken,BTC,1.5,USD,30000.10,USD,15,,,,,,p1,,first\n"
        "t,2025-01-03T00:00:00.25Z,transfer,kraken,BTC,0.5,,,BTC,0.0001,31000,nano,,,a:0.5,,,\n"
        "d,2025-01-04T00:00:00Z,deposit,nano,ETH,2,,,,,,,1000,2020-05-01T00:00:00Z,,,,\n"
        "s,2025-02-01T00:00:00Z,sell,kraken,BTC,0.25,USD,20000,,,,,,,a:0.25,,,\n"
        "p,2025-03-01T00:00:00Z,realized_pnl,kraken,USD,-12.5,,,,,,,,,,p1,2024-01-01T00:00:00Z,\n"
        "z,2026-03-01T00:00:00Z,buy,kraken,BTC,1,USD,1,,,,,,,,,,\n"
    )
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:
        store.add_events(read(ledger))
        end = datetime(2026, 1, 1, tzinfo=UTC)
        full = list(store.events(end=end))
        fast = list(stored_events(store, end))
        # What the engine gets: a length, and the same events each time it is iterated
        # (the Decimal fold reads them again when the fast fold stands aside).
        again = tax_events_from_store(store, end)
        assert len(again) == 5  # type: ignore[arg-type]
        assert list(again) == list(again) == fast
    assert len(full) == len(fast) == 5
    fields = (
        "id",
        "timestamp",
        "kind",
        "wallet",
        "asset",
        "amount",
        "counter_asset",
        "counter_amount",
        "fee_asset",
        "fee_amount",
        "usd_value",
        "to_wallet",
        "cost_basis_usd",
        "acquired_at",
        "lots",
        "position",
        "opened_at",
        "note",
        "origin",
    )
    for a, b in zip(full, fast, strict=True):
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]


def test_tax_table_shows_the_rows_and_schedule_d(tmp_path: Path) -> None:
    ledger, profile = _files(tmp_path)
    result = CliRunner().invoke(
        app, ["tax", "--year", "2025", "--ledger", str(ledger), "--profile", str(profile)]
    )
    assert result.exit_code == 0, result.output
    assert "Form 8949, tax year 2025 (hifo, transition)" in result.stdout
    assert "3000.00" in result.stdout and "200.00" in result.stdout
