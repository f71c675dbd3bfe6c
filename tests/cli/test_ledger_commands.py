"""``marginbook import``, ``ledger`` and ``demo`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from marginbook import __version__
from marginbook.app.demo import demo_ledger_path
from marginbook.ledger import open_store
from tests.cli.conftest import Cli

HEADER = "id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,note\n"


def db(tmp_path: Path, name: str = "ledger.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def test_version_from_a_real_process() -> None:
    done = subprocess.run([sys.executable, "-m", "marginbook", "--version"], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"marginbook {__version__}")


def test_bad_row_exits_2_naming_file_row_and_field_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "a,2025-01-01T00:00:00Z,buy,kraken,BTC,1,USD,100,,,\n"
                   "b,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,1.000.000,,,\n", encoding="utf-8")
    result = cli("--db", db(tmp_path), "import", str(demo_ledger_path()), str(bad))
    assert result.code == 2
    assert f"error: {bad}:3: counter_amount: not a plain decimal number: '1.000.000'" in result.err
    assert result.out == ""
    with open_store(db(tmp_path)) as store:
        assert store.count() == 0


def test_import_twice_reports_added_then_unchanged(cli: Cli, tmp_path: Path) -> None:
    first = cli("--db", db(tmp_path), "import", str(demo_ledger_path()), "--output", "json")
    again = cli("--db", db(tmp_path), "import", str(demo_ledger_path()), "--output", "json")
    assert (first.code, again.code) == (0, 0)
    assert (json.loads(first.out)["added"], json.loads(first.out)["unchanged"]) == (25, 0)
    assert (json.loads(again.out)["added"], json.loads(again.out)["unchanged"]) == (0, 25)
    table = cli("--db", db(tmp_path), "import", str(demo_ledger_path()))
    assert "0 added, 25 unchanged" in table.out


def test_ledger_csv_export_imports_into_a_fresh_ledger_as_the_same_events(cli: Cli, tmp_path: Path) -> None:
    cli("--db", db(tmp_path, "a.db"), "import", str(demo_ledger_path()))
    exported = cli("--db", db(tmp_path, "a.db"), "ledger", "--format", "csv")
    assert exported.code == 0
    export_file = tmp_path / "export.csv"
    export_file.write_text(exported.out, encoding="utf-8", newline="")
    assert cli("--db", db(tmp_path, "b.db"), "import", str(export_file)).code == 0
    with open_store(db(tmp_path, "a.db")) as a, open_store(db(tmp_path, "b.db")) as b:
        assert list(a.events()) == list(b.events())
        assert len(list(b.events())) == 25
    assert cli("--db", db(tmp_path, "b.db"), "ledger", "--format", "csv").out == exported.out


def test_ledger_json_is_one_document_with_exact_decimal_strings(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "tiny.csv"
    source.write_text(HEADER + "t,2025-01-01T00:00:00Z,income,kraken,ETH,0.000000000000000001,,,,,dust\n",
                      encoding="utf-8")
    cli("--db", db(tmp_path), "import", str(source))
    result = cli("--db", db(tmp_path), "ledger", "--format", "json")
    (event,) = json.loads(result.out)
    assert event["amount"] == "0.000000000000000001"
    assert (event["type"], event["timestamp"], event["counter_amount"]) == ("income", "2025-01-01T00:00:00Z", None)
    assert event["origin"] == {"source": str(source), "row": 2, "ref": None}


def test_empty_ledger_json_is_an_empty_list(cli: Cli, tmp_path: Path) -> None:
    assert json.loads(cli("--db", db(tmp_path), "ledger", "--format", "json").out) == []


def test_ledger_filters_by_wallet_asset_and_whole_days(cli: Cli, tmp_path: Path) -> None:
    cli("--db", db(tmp_path), "import", str(demo_ledger_path()))

    def ids(*options: str) -> list[str]:
        return [e["id"] for e in json.loads(cli("--db", db(tmp_path), "ledger", "--format", "json", *options).out)]

    assert ids("--wallet", "ledger-nano") == ["cb-xfer-btc-1", "cb-xfer-eth-1"]
    assert ids("--from", "2024-08-05", "--to", "2024-08-05", "--asset", "BTC") == ["kr-buy-btc-2", "kr-liq-1"]
    assert ids("--from", "2025-10-10") == ["kr-wd-1", "cb-buy-eth-2"]


@pytest.mark.parametrize(("options", "message"), [
    (["--from", "2025-02-30"], "error: --from: expected a date YYYY-MM-DD, got '2025-02-30'"),
    (["--from", "2025-02-02", "--to", "2025-02-01"], "error: --to: is before --from"),
])
def test_bad_dates_exit_2(cli: Cli, tmp_path: Path, options: list[str], message: str) -> None:
    result = cli("--db", db(tmp_path), "ledger", *options)
    assert (result.code, result.err.strip()) == (2, message)


def test_unknown_format_and_missing_file_exit_2(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from marginbook.importers import registry

    assert cli("--db", db(tmp_path), "import", "--format", "quicken", str(demo_ledger_path())).code == 2
    monkeypatch.setitem(registry.FORMATS, "notyet", "marginbook.importers.not_written_yet")
    pending = cli("--db", db(tmp_path), "import", "--format", "notyet", str(demo_ledger_path()))
    assert (pending.code, pending.err.strip()) == (2, "error: --format: the 'notyet' importer is not installed")
    missing = cli("--db", db(tmp_path), "import", str(tmp_path / "nope.csv"))
    assert (missing.code, missing.err.strip()) == (2, f"error: {tmp_path / 'nope.csv'}: no such file")


def test_table_output_shows_the_events(cli: Cli, tmp_path: Path) -> None:
    cli("--db", db(tmp_path), "import", str(demo_ledger_path()))
    result = cli("--db", db(tmp_path), "ledger", "--wallet", "kraken", "--asset", "BTC")
    assert result.code == 0
    assert "kr-liq-1" in result.out and "liquidation" in result.out and "8847 USD" in result.out
    assert result.out.rstrip().endswith("3 events")


def test_demo_prints_holdings_and_leaves_the_real_ledger_alone(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real.db"
    monkeypatch.setenv("MARGINBOOK_DB", f"sqlite:///{real}")
    result = cli("demo", "--ledger-only", "--dir", str(tmp_path / "demo"), "--format", "json")
    assert result.code == 0
    report = json.loads(result.out)
    holdings = {(h["wallet"], h["asset"]): h["balance"] for h in report["holdings"]}
    assert holdings[("kraken", "USD")] == "1632.45"
    assert holdings[("ledger-nano", "BTC")] == "0.2"
    assert not real.exists()
    table = cli("demo", "--ledger-only", "--dir", str(tmp_path / "demo"))
    assert "Holdings per wallet and asset" in table.out and "6487.31" in table.out
