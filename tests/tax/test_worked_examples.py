"""Every worked example of section 8 of spec/us-tax-rules.md, end to end: ledger CSV in, JSON out.

Each test writes the example as a ledger CSV, runs the engine and the report, and checks the
exact figures of the example in the JSON document.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from marginbook.tax.book import Scope
from tests.tax.ledger_text import FakePrices, document, term_total

HEADER = "id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value"


# --- Ex 1: holding period -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("acquired", "disposed", "term"),
    [
        ("2024-03-01", "2025-03-01", "short"),  # exactly one year
        ("2024-03-01", "2025-03-02", "long"),
        ("2023-03-01", "2024-03-01", "short"),  # 366 days, still not more than one year
        ("2024-02-29", "2025-02-28", "short"),
        ("2024-02-29", "2025-03-01", "long"),
        ("2023-02-28", "2024-02-29", "short"),
    ],
)
def test_ex1_holding_period_term_and_box(acquired: str, disposed: str, term: str) -> None:
    year = int(disposed[:4])
    doc = document(
        f"""
        {HEADER}
        b1,{acquired}T15:00:00Z,buy,ledger-nano,BTC,1,USD,100,,,
        s1,{disposed}T09:00:00Z,sell,ledger-nano,BTC,1,USD,150,,,
        """,
        year,
    )
    (row,) = doc["form_8949"]
    assert row["term"] == term
    assert row["date_acquired"] == acquired and row["date_sold"] == disposed
    # Self-custody: I/L from 2025, C/F before.
    expected_box = {(True, "short"): "I", (True, "long"): "L", (False, "short"): "C", (False, "long"): "F"}
    assert row["box"] == expected_box[(year >= 2025, term)]
    assert row["gain"] == "50.00"


# --- Ex 2: FIFO vs HIFO, one wallet, ETH ----------------------------------------------------

EX2 = f"""
{HEADER}
L1,2024-01-10T12:00:00Z,buy,coinbase,ETH,2.0,USD,4000,,,
L2,2024-06-15T12:00:00Z,buy,coinbase,ETH,1.0,USD,3500,,,
L3,2025-02-01T12:00:00Z,buy,coinbase,ETH,1.0,USD,2800,,,
S,2025-08-01T12:00:00Z,sell,coinbase,ETH,2.5,USD,7530,USD,30,
"""


def _lots(doc: dict[str, object], term: str) -> list[tuple[str, str, str, str]]:
    rows = [row for row in doc["form_8949"] if row["term"] == term]  # type: ignore[attr-defined, index]
    return [
        (lot["acquisition_id"], lot["quantity"], lot["proceeds"], lot["cost_basis"])
        for row in rows
        for lot in row["lots"]
    ]


def test_ex2_fifo() -> None:
    doc = document(EX2, 2025)
    assert term_total(doc, "short") == 0
    assert term_total(doc, "long") == Decimal("1750.00")
    assert _lots(doc, "long") == [("L1", "2", "6000.00", "4000.00"), ("L2", "0.5", "1500.00", "1750.00")]
    (row,) = doc["form_8949"]
    assert (row["proceeds"], row["cost_basis"], row["date_acquired"]) == ("7500.00", "5750.00", "VARIOUS")
    held = [(h["acquisition_id"], h["quantity"], h["cost_basis"]) for h in doc["holdings"]]
    assert held == [("L2", "0.5", "1750.00"), ("L3", "1", "2800.00")]


def test_ex2_hifo_standing_order() -> None:
    toml = """
    [year.2025]
    method = "hifo"
    method_since = "2025-01-01T00:00:00Z"
    """
    doc = document(EX2, 2025, toml)
    assert term_total(doc, "short") == Decimal("200.00")
    assert term_total(doc, "long") == 0
    assert _lots(doc, "short") == [("L3", "1", "3000.00", "2800.00")]
    assert _lots(doc, "long") == [("L2", "1", "3000.00", "3500.00"), ("L1", "0.5", "1500.00", "1000.00")]
    held = [(h["acquisition_id"], h["quantity"], h["cost_basis"]) for h in doc["holdings"]]
    assert held == [("L1", "1.5", "3000.00")]
    assert doc["method"] == "hifo"
    assert not any("standing order" in w for w in doc["warnings"])


def test_ex2_hifo_without_standing_order_warns_but_follows_the_method() -> None:
    toml = """
    [year.2025]
    method = "hifo"
    method_since = "2025-09-01T00:00:00Z"
    """
    doc = document(EX2, 2025, toml)
    assert term_total(doc, "short") == Decimal("200.00")
    assert any("standing order" in w and "HIFO" in w for w in doc["warnings"])
    assert any("standing order" in w for row in doc["form_8949"] for w in row["warnings"])


# --- Ex 3: per-wallet vs universal ---------------------------------------------------------

EX3 = f"""
{HEADER}
A1,2023-01-05T12:00:00Z,buy,wallet-a,BTC,1,USD,20000,,,
B1,2024-03-10T12:00:00Z,buy,wallet-b,BTC,1,USD,70000,,,
S,2025-05-01T12:00:00Z,sell,wallet-b,BTC,1,USD,95000,,,
"""


@pytest.mark.parametrize("scope", [Scope.WALLET, Scope.TRANSITION])
def test_ex3_per_wallet_fifo(scope: Scope) -> None:
    doc = document(EX3, 2025, scope=scope)
    (row,) = doc["form_8949"]
    assert (row["term"], row["cost_basis"], row["gain"]) == ("long", "70000.00", "25000.00")
    assert row["lots"][0]["acquisition_id"] == "B1"
    assert not any("universal" in w for w in doc["warnings"])


def test_ex3_universal_is_computed_only_when_asked_and_warns() -> None:
    doc = document(EX3, 2025, scope=Scope.UNIVERSAL)
    (row,) = doc["form_8949"]
    assert (row["cost_basis"], row["gain"]) == ("20000.00", "75000.00")
    assert any("per wallet" in w for w in doc["warnings"])


def test_ex3_transition_writes_the_allocation_it_used() -> None:
    doc = document(EX3, 2025)
    allocation = {
        (a["wallet"], a["acquisition_id"], a["quantity"], a["cost_basis"], a["rule"])
        for a in doc["allocation"]
    }
    assert allocation == {
        ("wallet-a", "A1", "1", "20000.00", "global"),
        ("wallet-b", "B1", "1", "70000.00", "global"),
    }


# --- Ex 6: Form 4952 across two years -------------------------------------------------------

EX6_2025 = f"""
{HEADER}
i1,2025-03-31T00:00:00Z,interest,kraken,USD,1500,,,,,
b1,2025-04-01T00:00:00Z,buy,kraken,BTC,1,USD,50000,,,
i2,2025-06-30T00:00:00Z,interest,kraken,USD,2500,,,,,
s1,2025-07-01T00:00:00Z,sell,kraken,BTC,1,USD,53000,,,
"""


def _f4952(doc: dict[str, object]) -> dict[str, str]:
    return doc["form_4952"]  # type: ignore[return-value]


def test_ex6_2025() -> None:
    f = _f4952(document(EX6_2025, 2025))
    assert (f["line_1"], f["line_2"], f["line_3"]) == ("4000.00", "0.00", "4000.00")
    assert (f["line_4a"], f["line_4b"], f["line_4c"]) == ("0.00", "0.00", "0.00")
    assert (f["line_4d"], f["line_4e"], f["line_4f"], f["line_4g"], f["line_4h"]) == (
        "3000.00",
        "0.00",
        "3000.00",
        "0.00",
        "3000.00",
    )
    assert (f["line_5"], f["line_6"], f["line_7"], f["line_8"]) == ("0.00", "3000.00", "1000.00", "3000.00")


def test_ex6_2026_a_interest_income_uses_the_carryover() -> None:
    toml = """
    [year.2026]
    investment_income = "2500"
    """
    doc = document(EX6_2025, 2026, toml)
    f = _f4952(doc)
    assert (f["line_1"], f["line_2"], f["line_3"]) == ("0.00", "1000.00", "1000.00")
    assert (f["line_4a"], f["line_6"], f["line_8"], f["line_7"]) == ("2500.00", "2500.00", "1000.00", "0.00")
    assert doc["carryover_in"]["investment_interest"] == "1000.00"


EX6_2026_B = (
    EX6_2025
    + """
b2,2025-08-01T00:00:00Z,buy,kraken,ETH,10,USD,20000,,,
s2,2026-09-01T00:00:00Z,sell,kraken,ETH,10,USD,25000,,,
"""
)


def test_ex6_2026_b_long_term_gain_without_election() -> None:
    f = _f4952(document(EX6_2026_B, 2026))
    assert (f["line_2"], f["line_4d"], f["line_4e"], f["line_4f"]) == (
        "1000.00",
        "5000.00",
        "5000.00",
        "0.00",
    )
    assert (f["line_6"], f["line_8"], f["line_7"]) == ("0.00", "0.00", "1000.00")


def test_ex6_2026_b_with_4g_election() -> None:
    toml = """
    [year.2026]
    elect_4g = "1000"
    """
    f = _f4952(document(EX6_2026_B, 2026, toml))
    assert (f["line_4g"], f["line_6"], f["line_8"], f["line_7"]) == ("1000.00", "1000.00", "1000.00", "0.00")


# --- Ex 8: fees -----------------------------------------------------------------------------

EX8 = f"""
{HEADER}
buy,2025-02-03T10:00:00Z,buy,kraken,ETH,1,USD,2985,USD,15,
sell,2025-09-01T10:00:00Z,sell,kraken,ETH,0.5,USD,2000,USD,10,
swap,2025-10-01T10:00:00Z,sell,kraken,ETH,0.25,BTC,0.01,ETH,0.0025,{{usd}}
"""


@pytest.mark.parametrize("usd_value", ["1000", ""])
def test_ex8_fees(usd_value: str) -> None:
    # Without usd_value the swap is valued from the price data (ETH at $4,000).
    prices = FakePrices({("ETH", "2025-10-01"): "4000"})
    doc = document(EX8.replace("{usd}", usd_value), 2025, prices=prices)
    rows = {(row["disposal_id"]): row for row in doc["form_8949"]}
    assert (rows["sell"]["proceeds"], rows["sell"]["cost_basis"], rows["sell"]["gain"]) == (
        "1990.00",
        "1500.00",
        "490.00",
    )
    assert (rows["swap"]["proceeds"], rows["swap"]["cost_basis"], rows["swap"]["gain"]) == (
        "990.00",
        "750.00",
        "240.00",
    )
    fee = rows["swap:fee"]
    assert (fee["quantity"], fee["proceeds"], fee["cost_basis"], fee["gain"]) == (
        "0.0025",
        "10.00",
        "7.50",
        "2.50",
    )
    assert all(row["term"] == "short" for row in doc["form_8949"])
    assert term_total(doc, "short") == Decimal("732.50")
    held = {(h["asset"], h["quantity"], h["cost_basis"]) for h in doc["holdings"]}
    assert held == {("ETH", "0.2475", "742.50"), ("BTC", "0.01", "1000.00")}
    assert doc["schedule_d"]["line_3"]["gain"] == "732.50"
    assert doc["schedule_d"]["line_7"] == "732.50"


# --- Ex 9: §1256 vs offshore perpetual ------------------------------------------------------


def test_ex9_offshore_perpetual_realized_pnl_is_one_short_term_row_in_box_i() -> None:
    doc = document(
        """
        id,timestamp,type,wallet,asset,amount,position,opened_at
        pnl,2025-06-01T00:00:00Z,realized_pnl,bybit,USD,10000,p1,
        """,
        2025,
        """
        [wallets.bybit]
        custodial = true
        form_1099da = "gross_only"
        """,
    )
    (row,) = doc["form_8949"]
    assert (row["box"], row["term"], row["proceeds"], row["cost_basis"], row["gain"]) == (
        "I",
        "short",
        "10000.00",
        "0.00",
        "10000.00",
    )


def test_ex9_section_1256_gain_is_split_60_40() -> None:
    doc = document(
        f"{HEADER}\n",
        2025,
        """
    [year.2025]
    section_1256_gain = "10000"
    """,
    )
    sched = doc["schedule_d"]
    assert (sched["line_4"], sched["line_11"], sched["line_7"], sched["line_15"]) == (
        "4000.00",
        "6000.00",
        "4000.00",
        "6000.00",
    )
