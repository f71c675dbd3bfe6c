"""``marginbook risk``, ``interest`` and ``paper`` through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from marginbook.cli.main import app
from marginbook.domain.events import EventKind
from marginbook.importers import ledger_csv

runner = CliRunner()


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_risk_reproduces_bybit_19700() -> None:
    out = _json("risk", "--venue", "bybit-linear", "--side", "long", "--entry", "20000", "--quantity", "1",
                "--leverage", "50")  # fmt: skip
    assert out["liquidation_price"] == "19700"
    assert out["initial_margin"] == "400"
    assert out["maintenance_margin"] == "100"
    assert out["bankruptcy_price"] == "19600"
    assert out["max_loss"] == "400"
    assert set(out) >= {"margin_call_price", "interest_per_day"}


def test_risk_reproduces_kraken_call_at_13200() -> None:
    out = _json("risk", "--venue", "kraken-margin", "--side", "long", "--entry", "20000", "--quantity", "1",
                "--leverage", "5", "--wallet-balance", "10000")  # fmt: skip
    assert out["margin_call_price"] == "13200"
    assert out["liquidation_price"] == "11600"
    assert out["mode"] == "cross"


def test_risk_generic_uses_the_flags_and_zero_for_rates_not_given() -> None:
    out = _json("risk", "--venue", "generic", "--side", "short", "--entry", "100", "--quantity", "10",
                "--leverage", "10", "--mmr", "0.01", "--maintenance-amount", "0")  # fmt: skip
    # LP = (WB + cum + Q·EP) / (Q·MMR + Q) = (100 + 1000) / (0.1 + 10)
    assert out["liquidation_price"] == "108.91089109"  # 1,100 / 10.1 to 1e-8
    assert out["interest_per_day"] == "0"


def test_interest_binance_example_and_schedule() -> None:
    out = _json("interest", "--venue", "binance-margin", "--principal", "1000", "--asset", "USDC",
                "--rate", "0.00001", "--from", "2025-03-01T13:20:00Z", "--to", "2025-03-01T14:15:00Z")  # fmt: skip
    assert out["interest"] == "0.02"
    assert out["periods_charged"] == 2
    assert out["schedule"] == [
        {"at": "2025-03-01T13:20:00Z", "amount": "0.01"},
        {"at": "2025-03-01T14:00:00Z", "amount": "0.01"},
    ]


def test_interest_kraken_opening_fee_and_rollovers() -> None:
    out = _json("interest", "--venue", "kraken-margin", "--principal", "16000", "--asset", "USD",
                "--rate", "0.00025", "--rate-period", "4h",
                "--from", "2025-03-01T00:00:00Z", "--to", "2025-03-01T09:00:00Z")  # fmt: skip
    assert out["periods_charged"] == 3  # opening + rollovers at 04:00 and 08:00
    assert out["interest"] == "12"
    assert [row["at"] for row in out["schedule"]] == [
        "2025-03-01T00:00:00Z", "2025-03-01T04:00:00Z", "2025-03-01T08:00:00Z",
    ]  # fmt: skip


def test_paper_json_and_exported_ledger(tmp_path: Path) -> None:
    prices = tmp_path / "BTC-USDT_1h.csv"
    prices.write_text(
        "timestamp,open,high,low,close\n"
        + "".join(
            f"2025-03-01T{h:02d}:00:00Z,{20000 + 100 * h},{20200 + 100 * h},{19900 + 100 * h},{20100 + 100 * h}\n"
            for h in range(10)
        ),
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "timestamp,side,type,quantity,price,leverage\n"
        "2025-03-01T00:00:00Z,buy,market,0.5,,5\n"
        "2025-03-01T00:00:00Z,sell,take_profit,0.5,20800,\n",
        encoding="utf-8",
    )
    ledger = tmp_path / "run.csv"
    out = _json("paper", "--venue", "binance-usdm", "--prices", str(prices), "--orders", str(orders),
                "--deposit", "10000USDT", "--export-ledger", str(ledger))  # fmt: skip
    assert [t["reason"] for t in out["trades"]] == ["market", "take_profit"]
    assert out["trades"][1]["price"] == "20800"
    for key in (
        "final_equity",
        "liquidations",
        "margin_calls",
        "interest_paid",
        "fees_paid",
        "funding",
        "events",
    ):
        assert key in out
    events = ledger_csv.read(ledger)
    assert len(events) == out["events"]
    assert events[0].kind is EventKind.DEPOSIT
    assert {e.kind for e in events} == {EventKind.DEPOSIT, EventKind.FEE, EventKind.REALIZED_PNL}


def test_paper_bad_orders_exit_2_naming_file_row_field_and_write_nothing(tmp_path: Path) -> None:
    prices = tmp_path / "BTC-USDT_1h.csv"
    prices.write_text("timestamp,open,high,low,close\n2025-03-01T00:00:00Z,1,2,0.5,1.5\n", encoding="utf-8")
    orders = tmp_path / "orders.csv"
    orders.write_text("timestamp,side,type,quantity\n2025-03-01T00:00:00Z,buy,market,abc\n", encoding="utf-8")
    ledger = tmp_path / "run.csv"
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "marginbook",
            "paper",
            "--venue",
            "binance-usdm",
            "--prices",
            str(prices),
            "--orders",
            str(orders),
            "--export-ledger",
            str(ledger),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": src},
        check=False,
    )
    assert done.returncode == 2
    assert f"{orders}:2: quantity: must be a positive decimal" in done.stderr
    assert not ledger.exists()
