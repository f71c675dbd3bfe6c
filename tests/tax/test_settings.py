"""The profile settings of docs/tax.md (the open questions of rules spec section 9) change
exactly what they say."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from marginbook.cli.main import app
from tests.tax.ledger_text import document

PNL = """
id,timestamp,type,wallet,asset,amount,opened_at
f1,2025-06-01T00:00:00Z,funding,bybit,USD,120,
f2,2025-06-02T00:00:00Z,funding,bybit,USD,-20,
p1,2025-06-03T00:00:00Z,realized_pnl,bybit,USD,500,
"""


def test_funding_is_capital_by_default_and_ordinary_when_set() -> None:
    doc = document(PNL, 2025)
    assert sorted((r["kind"], r["gain"]) for r in doc["form_8949"]) == [
        ("funding", "-20.00"),
        ("funding", "120.00"),
        ("realized_pnl", "500.00"),
    ]
    doc = document(PNL, 2025, '[treatment]\nfunding = "ordinary"\nrealized_pnl = "ordinary"\n')
    assert doc["form_8949"] == []
    assert sorted((i["kind"], i["usd_value"]) for i in doc["income"]) == [
        ("funding", "120.00"),
        ("realized_pnl", "500.00"),
    ]
    assert doc["expenses"]["ordinary_losses"] == "20.00"


SHORT = """
id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,position
old,2023-01-01T00:00:00Z,buy,kraken,BTC,1,USD,20000,
br,2025-03-01T00:00:00Z,borrow,kraken,BTC,1,,,p
ss,2025-03-02T00:00:00Z,sell,kraken,BTC,1,USD,60000,p
rp,2025-03-03T00:00:00Z,repay,kraken,BTC,1,,,p
"""


def test_a_short_closed_with_coins_held_before_is_warned_about_and_uses_them() -> None:
    doc = document(SHORT, 2025)
    (row,) = doc["form_8949"]
    assert (row["kind"], row["term"], row["cost_basis"], row["gain"]) == (
        "short_cover",
        "long",
        "20000.00",
        "40000.00",
    )
    assert any("short against the box" in w for w in doc["warnings"])
    # With short_sale_term = "short_term" every closed short is short-term (§1233(b) reading).
    doc = document(SHORT, 2025, '[treatment]\nshort_sale_term = "short_term"\n')
    assert doc["form_8949"][0]["term"] == "short"


def test_repaying_more_than_was_borrowed_is_warned_about() -> None:
    doc = document(
        """
    id,timestamp,type,wallet,asset,amount
    br,2025-03-01T00:00:00Z,borrow,kraken,ETH,1
    rp,2025-03-03T00:00:00Z,repay,kraken,ETH,1.5
    """,
        2025,
    )
    assert any("more than was borrowed" in w for w in doc["warnings"])
    assert doc["form_8949"] == []


def test_month_end_anniversary_setting() -> None:
    ledger = """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount
    b,2023-02-28T00:00:00Z,buy,nano,BTC,1,USD,100
    s,2024-02-29T00:00:00Z,sell,nano,BTC,1,USD,200
    """
    assert document(ledger, 2024)["form_8949"][0]["term"] == "short"
    assert (
        document(ledger, 2024, '[treatment]\nmonth_end = "anniversary"\n')["form_8949"][0]["term"] == "long"
    )


def test_form_4952_line_4d_with_carryovers_when_set() -> None:
    ledger = """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount
    i,2025-01-05T00:00:00Z,interest,kraken,USD,1000,,
    b,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,10000
    s,2025-02-01T00:00:00Z,sell,kraken,BTC,1,USD,13000
    """
    carry = '[carryover]\nshort_term = "2000"\n'
    assert document(ledger, 2025, carry)["form_4952"]["line_4d"] == "3000.00"
    doc = document(ledger, 2025, carry + "[treatment]\nform_4952_4d_includes_carryover = true\n")
    assert (doc["form_4952"]["line_4d"], doc["form_4952"]["line_8"]) == ("1000.00", "1000.00")


def test_lifo_and_lofo_pick_the_newest_and_the_cheapest() -> None:
    ledger = """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount
    a,2025-01-02T00:00:00Z,buy,nano,ETH,1,USD,3000
    b,2025-01-03T00:00:00Z,buy,nano,ETH,1,USD,2000
    c,2025-01-04T00:00:00Z,buy,nano,ETH,1,USD,2500
    s,2025-02-01T00:00:00Z,sell,nano,ETH,1,USD,2600
    """
    lifo = document(ledger, 2025, '[year.2025]\nmethod = "lifo"\nmethod_since = "2025-01-01T00:00:00Z"\n')
    lofo = document(ledger, 2025, '[year.2025]\nmethod = "lofo"\nmethod_since = "2025-01-01T00:00:00Z"\n')
    assert lifo["form_8949"][0]["lots"][0]["acquisition_id"] == "c"
    assert lofo["form_8949"][0]["lots"][0]["acquisition_id"] == "b"


def test_pdf_txf_and_turbotax_go_to_the_forms_part(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"
        "b,2024-01-02T00:00:00Z,buy,nano,ETH,1,USD,3000\n"
        "s,2025-03-02T00:00:00Z,sell,nano,ETH,1,USD,3500\n"
    )
    profile = tmp_path / "profile.toml"
    profile.write_text('[taxpayer]\nname = "Ada Lovelace"\n[year.2025]\ntaxable_income = "50000"\n')
    try:
        import marginbook.reports.exports  # noqa: F401
    except ImportError:
        result = CliRunner().invoke(
            app, ["tax", "--year", "2025", "--ledger", str(ledger), "--format", "txf"]
        )
        assert "format txf is not available yet" in str(result.exception)
        return
    for fmt, name in (("txf", "form-8949-2025.txf"), ("turbotax", "turbotax-crypto-2025.csv")):
        out = tmp_path / fmt
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
                "--format",
                fmt,
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "500.00" in (out / name).read_text() or "500" in (out / name).read_text()
    # Without --out the one file is printed.
    result = CliRunner().invoke(app, ["tax", "--year", "2025", "--ledger", str(ledger), "--format", "txf"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("V042")
