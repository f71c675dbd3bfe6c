"""The tax effect of every event kind and of the ledger CSV's semantics section."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marginbook.domain.prices import MissingPriceError
from marginbook.tax.book import Scope
from marginbook.tax.engine import MissingBasisError
from marginbook.tax.methods import Method
from tests.tax.ledger_text import FakePrices, document, report, term_total

H = "id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value,to_wallet"


def rows_by_id(doc: dict) -> dict[str, dict]:
    return {row["disposal_id"] + ":" + row["term"]: row for row in doc["form_8949"]}


def test_transfer_keeps_basis_and_date_and_its_fee_is_a_disposal() -> None:
    doc = document(
        f"""
    {H}
    b,2023-05-01T00:00:00Z,buy,kraken,BTC,1,USD,30000,,,,
    t,2024-06-01T00:00:00Z,transfer,kraken,BTC,0.5,,,BTC,0.001,,nano
    s,2025-06-02T00:00:00Z,sell,nano,BTC,0.5,USD,50000,,,,
    """,
        2025,
        prices=FakePrices({("BTC", "2024-06-01"): "70000"}),
    )
    sale = rows_by_id(doc)["s:long"]
    assert (sale["cost_basis"], sale["gain"], sale["date_acquired"]) == ("15000.00", "35000.00", "2023-05-01")
    doc24 = document(
        f"""
    {H}
    b,2023-05-01T00:00:00Z,buy,kraken,BTC,1,USD,30000,,,,
    t,2024-06-01T00:00:00Z,transfer,kraken,BTC,0.5,,,BTC,0.001,,nano
    """,
        2024,
        prices=FakePrices({("BTC", "2024-06-01"): "70000"}),
    )
    fee = rows_by_id(doc24)["t:fee:long"]
    assert (fee["quantity"], fee["proceeds"], fee["cost_basis"], fee["gain"], fee["box"]) == (
        "0.001",
        "70.00",
        "30.00",
        "40.00",
        "F",
    )


def test_transfer_fee_ignored_leaves_no_row() -> None:
    doc = document(
        f"""
    {H}
    b,2023-05-01T00:00:00Z,buy,kraken,BTC,1,USD,30000,,,,
    t,2024-06-01T00:00:00Z,transfer,kraken,BTC,0.5,,,BTC,0.001,,nano
    """,
        2024,
        """
    [treatment]
    transfer_fee = "ignore"
    """,
    )
    assert doc["form_8949"] == []
    held = sorted((h["wallet"], h["quantity"]) for h in doc["holdings"])
    # 2024 is universal scope: one pool per asset, less the 0.001 fee units (no row, no basis moved).
    assert held == [("", "0.999")]
    assert [h["cost_basis"] for h in doc["holdings"]] == ["29970.00"]


def test_income_at_fmv_is_the_basis_of_the_units() -> None:
    doc = document(
        f"""
    {H}
    r,2025-01-10T00:00:00Z,income,nano,ETH,2,,,,,,
    s,2025-03-01T00:00:00Z,sell,nano,ETH,2,USD,7000,,,,
    """,
        2025,
        prices=FakePrices({("ETH", "2025-01-10"): "3000"}),
    )
    (income,) = doc["income"]
    assert (income["usd_value"], income["quantity"], income["asset"]) == ("6000.00", "2", "ETH")
    (row,) = doc["form_8949"]
    assert (row["cost_basis"], row["gain"]) == ("6000.00", "1000.00")


def test_income_without_a_price_is_an_error_not_a_zero() -> None:
    with pytest.raises(MissingPriceError, match="ETH"):
        report(
            f"""
        {H}
        r,2025-01-10T00:00:00Z,income,nano,ETH,2,,,,,,
        """,
            2025,
        )


def test_gifts_and_donations_are_reported_apart_not_as_sales() -> None:
    doc = document(
        f"""
    {H}
    b,2024-01-02T00:00:00Z,buy,nano,BTC,1,USD,40000,,,,
    g,2025-02-01T00:00:00Z,gift,nano,BTC,0.25,,,,,25000,
    d,2025-03-01T00:00:00Z,donation,nano,BTC,0.25,,,,,26000,
    """,
        2025,
    )
    assert doc["form_8949"] == []
    gifts = [
        (g["kind"], g["quantity"], g["fair_market_value"], g["cost_basis"])
        for g in doc["gifts_and_donations"]
    ]
    assert gifts == [("gift", "0.25", "25000.00", "10000.00"), ("donation", "0.25", "26000.00", "10000.00")]
    assert [h["quantity"] for h in doc["holdings"]] == ["0.5"]


def test_interest_paid_in_crypto_is_investment_interest_and_a_disposal() -> None:
    doc = document(
        f"""
    {H}
    b,2025-01-02T00:00:00Z,buy,kraken,ETH,1,USD,2000,,,,
    i,2025-02-01T00:00:00Z,interest,kraken,ETH,0.01,,,,,30,
    i2,2025-03-01T00:00:00Z,interest,kraken,USD,70,,,,,,
    """,
        2025,
    )
    (row,) = doc["form_8949"]
    assert (row["kind"], row["proceeds"], row["cost_basis"], row["gain"]) == (
        "interest",
        "30.00",
        "20.00",
        "10.00",
    )
    assert doc["form_4952"]["line_1"] == "100.00"
    assert "schedule_c" not in doc


def test_trader_interest_and_fees_go_to_schedule_c() -> None:
    doc = document(
        f"""
    {H}
    i,2025-03-01T00:00:00Z,interest,kraken,USD,70,,,,,,
    f,2025-03-02T00:00:00Z,fee,kraken,USD,5,,,,,,
    """,
        2025,
        """
    [taxpayer]
    kind = "trader"
    """,
    )
    assert doc["schedule_c"] == {"interest": "70.00", "fees": "5.00"}
    assert doc["form_4952"]["line_1"] == "0.00"


@pytest.mark.parametrize(
    ("treatment", "proceeds", "interest"), [("cost", "9900.00", "0.00"), ("interest", "10000.00", "100.00")]
)
def test_liquidation_is_a_disposal_and_its_fee_follows_the_profile(
    treatment: str, proceeds: str, interest: str
) -> None:
    doc = document(
        f"""
    {H}
    b,2025-01-02T00:00:00Z,buy,binance,BTC,0.2,USD,20000,,,,
    l,2025-04-01T00:00:00Z,liquidation,binance,BTC,0.2,USD,10000,USD,100,,
    """,
        2025,
        f"""
    [treatment]
    liquidation_fee = "{treatment}"
    """,
    )
    (row,) = doc["form_8949"]
    assert (row["kind"], row["proceeds"], row["cost_basis"]) == ("liquidation", proceeds, "20000.00")
    assert doc["form_4952"]["line_1"] == interest


def test_short_sale_gain_is_realized_when_the_borrowed_coins_are_repaid() -> None:
    ledger = """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,position
    old,2023-01-01T00:00:00Z,buy,kraken,BTC,1,USD,20000,,,
    br,2025-11-01T00:00:00Z,borrow,kraken,BTC,1,,,,,p1
    ss,2025-11-02T00:00:00Z,sell,kraken,BTC,1,USD,60000,USD,60,p1
    cv,2026-01-15T00:00:00Z,buy,kraken,BTC,1,USD,50000,USD,50,p1
    rp,2026-01-16T00:00:00Z,repay,kraken,BTC,1,,,,,p1
    """
    doc25 = document(ledger, 2025)
    assert doc25["form_8949"] == []  # the old long lot is untouched; the short is open
    assert [s["event_id"] for s in doc25["open_short_sales"]] == ["ss"]
    doc26 = document(ledger, 2026)
    (row,) = doc26["form_8949"]
    assert (row["kind"], row["term"], row["date_sold"]) == ("short_cover", "short", "2026-01-16")
    assert (row["proceeds"], row["cost_basis"], row["gain"]) == ("59940.00", "50050.00", "9890.00")
    assert row["lots"][0]["acquisition_id"] == "cv"
    assert [(h["acquisition_id"], h["quantity"]) for h in doc26["holdings"]] == [("old", "1")]


def test_sell_beyond_own_units_with_an_open_borrow_is_partly_a_short_sale() -> None:
    doc = document(
        """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount
    b,2025-01-02T00:00:00Z,buy,kraken,ETH,1,USD,3000
    br,2025-02-01T00:00:00Z,borrow,kraken,ETH,1,,
    s,2025-02-02T00:00:00Z,sell,kraken,ETH,2,USD,8000
    c,2025-03-01T00:00:00Z,buy,kraken,ETH,1,USD,3500
    rp,2025-03-02T00:00:00Z,repay,kraken,ETH,1,,
    """,
        2025,
    )
    rows = rows_by_id(doc)
    assert (rows["s:short"]["quantity"], rows["s:short"]["proceeds"], rows["s:short"]["gain"]) == (
        "1",
        "4000.00",
        "1000.00",
    )
    cover = rows["rp:short:s:short"]
    assert (cover["proceeds"], cover["cost_basis"], cover["gain"]) == ("4000.00", "3500.00", "500.00")
    assert doc["holdings"] == [] and doc["open_short_sales"] == []


def test_realized_pnl_loss_and_term_from_opened_at() -> None:
    doc = document(
        """
    id,timestamp,type,wallet,asset,amount,opened_at
    a,2025-06-01T00:00:00Z,realized_pnl,bybit,USD,-8000,2024-05-01T00:00:00Z
    b,2025-06-02T00:00:00Z,realized_pnl,bybit,USD,500,
    """,
        2025,
    )
    rows = rows_by_id(doc)
    assert (rows["a:long"]["proceeds"], rows["a:long"]["cost_basis"], rows["a:long"]["gain"]) == (
        "0.00",
        "8000.00",
        "-8000.00",
    )
    assert rows["a:long"]["box"] == "L"
    assert rows["b:short"]["gain"] == "500.00"
    sched = doc["schedule_d"]
    assert (sched["line_7"], sched["line_15"], sched["line_16"], sched["line_21"]) == (
        "500.00",
        "-8000.00",
        "-7500.00",
        "-3000.00",
    )
    assert sched["carryover_to_next_year"] == {"short_term": "0.00", "long_term": "4500.00"}


# --- missing basis and dust ------------------------------------------------------------------


def test_missing_basis_is_an_error_naming_the_event() -> None:
    with pytest.raises(MissingBasisError, match=r"s \(ledger.csv:3\)"):
        report(
            f"""
        {H}
        b,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,30000,,,,
        s,2025-02-01T00:00:00Z,sell,kraken,BTC,1.5,USD,60000,,,,
        """,
            2025,
        )


def test_missing_basis_allowed_gives_zero_basis_and_a_row_warning() -> None:
    doc = document(
        f"""
    {H}
    b,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,30000,,,,
    s,2025-02-01T00:00:00Z,sell,kraken,BTC,1.5,USD,60000,,,,
    """,
        2025,
        allow_missing_basis=True,
    )
    (row,) = doc["form_8949"]
    assert (row["proceeds"], row["cost_basis"], row["gain"]) == ("60000.00", "30000.00", "30000.00")
    assert any("missing basis" in w for w in row["warnings"])
    assert row["lots"][-1]["basis_missing"] is True


def test_deposit_without_basis_is_missing_basis_naming_the_deposit() -> None:
    ledger = """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,cost_basis_usd,acquired_at
    dep,2025-01-02T00:00:00Z,deposit,nano,BTC,1,,,,
    dep2,2025-01-03T00:00:00Z,deposit,nano,ETH,1,,,1000,2020-01-01T00:00:00Z
    s,2025-02-01T00:00:00Z,sell,nano,BTC,1,USD,60000,,
    s2,2025-02-01T00:00:00Z,sell,nano,ETH,1,USD,3000,,
    """
    with pytest.raises(MissingBasisError, match="'dep'"):
        report(ledger, 2025)
    doc = document(ledger, 2025, allow_missing_basis=True)
    rows = rows_by_id(doc)
    assert rows["s:short"]["cost_basis"] == "0.00" and rows["s:short"]["warnings"]
    assert (rows["s2:long"]["cost_basis"], rows["s2:long"]["date_acquired"]) == ("1000.00", "2020-01-01")


def test_a_shortfall_within_dust_is_rounding() -> None:
    doc = document(
        f"""
    {H}
    b,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,30000,,,,
    s,2025-02-01T00:00:00Z,sell,kraken,BTC,1.000000005,USD,40000,,,,
    """,
        2025,
    )
    (row,) = doc["form_8949"]
    assert row["cost_basis"] == "30000.00" and row["warnings"] == []


def test_a_disposal_of_dust_alone_is_reported_at_zero_basis_not_dropped() -> None:
    """The wallet is empty but for a shortfall within dust, and then sells that dust: no lot is
    left, yet the cent received is proceeds (this used to fail building the Form 8949 row)."""
    doc = document(
        f"""
    {H}
    b,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,30000,,,,
    s,2025-02-01T00:00:00Z,sell,kraken,BTC,1,USD,40000,,,,
    d,2025-03-01T00:00:00Z,sell,kraken,BTC,0.000000004,USD,0.01,,,,
    """,
        2025,
    )
    dust = rows_by_id(doc)["d:short"]
    assert (dust["quantity"], dust["proceeds"], dust["cost_basis"], dust["gain"]) == (
        "0.000000004", "0.01", "0.00", "0.01")
    assert dust["lots"] == [{"acquisition_id": "", "quantity": "0.000000004", "cost_basis": "0.00",
                             "proceeds": "0.01", "acquired_at": None, "basis_missing": False}]
    assert any("dust" in w for w in dust["warnings"])
    assert doc["schedule_d"]["line_7"] == "10000.01"


# --- trades ----------------------------------------------------------------------------------


def test_crypto_fee_on_a_buy_is_added_to_basis_and_disposed_of() -> None:
    doc = document(
        f"""
    {H}
    b0,2024-01-01T00:00:00Z,buy,kraken,BTC,1,USD,20000,,,,
    b,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,30000,BTC,0.001,,
    """,
        2025,
    )
    (fee,) = doc["form_8949"]
    # FIFO: the fee units come from the oldest lot; their FMV is the trade's own price.
    assert (fee["kind"], fee["proceeds"], fee["cost_basis"], fee["term"]) == ("fee", "30.00", "20.00", "long")
    held = {h["acquisition_id"]: (h["quantity"], h["cost_basis"]) for h in doc["holdings"]}
    assert held == {"b0": ("0.999", "19980.00"), "b": ("1", "30030.00")}


def test_buying_with_crypto_disposes_of_the_crypto_paid() -> None:
    doc = document(
        f"""
    {H}
    e,2025-01-02T00:00:00Z,buy,kraken,ETH,10.01,USD,30030,,,,
    b,2025-05-02T00:00:00Z,buy,kraken,BTC,0.5,ETH,10,ETH,0.01,40000,
    """,
        2025,
    )
    rows = rows_by_id(doc)
    paid = rows["b:counter:short"]
    # Swap costs belong to the disposed asset: 40,000 - fee (0.01 ETH at 4,000 = 40).
    assert (paid["asset"], paid["quantity"], paid["proceeds"], paid["cost_basis"]) == (
        "ETH",
        "10",
        "39960.00",
        "30000.00",
    )
    held = {h["asset"]: (h["quantity"], h["cost_basis"]) for h in doc["holdings"]}
    assert held["BTC"] == ("0.5", "40000.00")


def test_stablecoins_are_worth_a_dollar_and_their_disposals_are_reported() -> None:
    doc = document(
        f"""
    {H}
    u,2025-01-02T00:00:00Z,buy,binance,USDT,1000,USD,1000,,,,
    b,2025-01-03T00:00:00Z,buy,binance,BTC,0.01,USDT,1000,,,,
    """,
        2025,
    )
    (row,) = doc["form_8949"]
    assert (row["asset"], row["proceeds"], row["cost_basis"], row["gain"]) == (
        "USDT",
        "1000.00",
        "1000.00",
        "0.00",
    )


def test_specific_identification_beats_method_and_flag() -> None:
    ledger = """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,lots
    a,2025-01-02T00:00:00Z,buy,nano,BTC,1,USD,10000,
    b,2025-01-03T00:00:00Z,buy,nano,BTC,1,USD,20000,
    c,2025-01-04T00:00:00Z,buy,nano,BTC,1,USD,30000,
    s,2025-02-01T00:00:00Z,sell,nano,BTC,1.5,USD,60000,b:1;a:0.5
    t,2025-02-02T00:00:00Z,sell,nano,BTC,0.5,USD,20000,
    """
    doc = document(ledger, 2025, method=Method.HIFO)
    rows = rows_by_id(doc)
    assert [(lot["acquisition_id"], lot["quantity"]) for lot in rows["s:short"]["lots"]] == [
        ("b", "1"),
        ("a", "0.5"),
    ]
    assert [(lot["acquisition_id"], lot["quantity"]) for lot in rows["t:short"]["lots"]] == [("c", "0.5")]
    assert doc["method"] == "hifo"


def test_specific_identification_of_a_used_lot_is_an_error() -> None:
    with pytest.raises(MissingBasisError, match="more than is open"):
        report(
            """
        id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,lots
        a,2025-01-02T00:00:00Z,buy,nano,BTC,1,USD,10000,
        s,2025-02-01T00:00:00Z,sell,nano,BTC,0.6,USD,6000,a:0.6
        t,2025-02-02T00:00:00Z,sell,nano,BTC,0.6,USD,6000,a:0.6
        """,
            2025,
        )


def test_method_flag_overrides_the_profile_year_method() -> None:
    ledger = f"""
    {H}
    a,2025-01-02T00:00:00Z,buy,nano,BTC,1,USD,10000,,,,
    b,2025-01-03T00:00:00Z,buy,nano,BTC,1,USD,20000,,,,
    s,2025-02-01T00:00:00Z,sell,nano,BTC,1,USD,15000,,,,
    """
    toml = """
    [year.2025]
    method = "lifo"
    method_since = "2024-12-01T00:00:00Z"
    """
    assert document(ledger, 2025, toml)["form_8949"][0]["lots"][0]["acquisition_id"] == "b"
    assert (
        document(ledger, 2025, toml, method=Method.FIFO)["form_8949"][0]["lots"][0]["acquisition_id"] == "a"
    )
    assert (
        document(ledger, 2025, toml, method=Method.LOFO)["form_8949"][0]["lots"][0]["acquisition_id"] == "a"
    )


@pytest.mark.parametrize(
    ("status", "boxes"), [("gross_only", ("H", "K")), ("basis_reported", ("G", "J")), ("none", ("I", "L"))]
)
def test_box_by_the_wallets_1099da_status(status: str, boxes: tuple[str, str]) -> None:
    doc = document(
        f"""
    {H}
    a,2023-01-02T00:00:00Z,buy,coinbase,BTC,1,USD,10000,,,,
    b,2025-01-03T00:00:00Z,buy,coinbase,BTC,1,USD,20000,,,,
    s,2025-02-01T00:00:00Z,sell,coinbase,BTC,2,USD,50000,,,,
    """,
        2025,
        f"""
    [wallets.coinbase]
    custodial = true
    form_1099da = "{status}"
    """,
    )
    assert {(row["term"], row["box"]) for row in doc["form_8949"]} == {
        ("short", boxes[0]),
        ("long", boxes[1]),
    }
    line = {"G": "line_1b", "H": "line_2", "I": "line_3"}[boxes[0]]
    assert doc["schedule_d"][line]["proceeds"] == "25000.00"


def test_time_zone_decides_the_tax_year_and_dates() -> None:
    ledger = f"""
    {H}
    a,2025-01-02T00:00:00Z,buy,nano,BTC,1,USD,10000,,,,
    s,2026-01-01T03:00:00Z,sell,nano,BTC,1,USD,15000,,,,
    """
    toml = """
    [taxpayer]
    timezone = "America/New_York"
    """
    doc = document(ledger, 2025, toml)
    (row,) = doc["form_8949"]
    assert row["date_sold"] == "2025-12-31" and row["term"] == "short"
    assert document(ledger, 2026, toml)["form_8949"] == []
    assert term_total(document(ledger, 2026), "short") == Decimal("5000.00")


def test_universal_before_2025_then_per_wallet() -> None:
    # 2024: universal FIFO takes wallet-a's older lot for a sale from wallet-b.
    doc = document(
        f"""
    {H}
    a,2023-01-02T00:00:00Z,buy,wallet-a,BTC,1,USD,10000,,,,
    b,2024-01-03T00:00:00Z,buy,wallet-b,BTC,2,USD,60000,,,,
    s,2024-06-01T00:00:00Z,sell,wallet-b,BTC,1,USD,65000,,,,
    """,
        2024,
    )
    assert doc["form_8949"][0]["lots"][0]["acquisition_id"] == "a"
    doc = document(
        f"""
    {H}
    a,2023-01-02T00:00:00Z,buy,wallet-a,BTC,1,USD,10000,,,,
    b,2024-01-03T00:00:00Z,buy,wallet-b,BTC,2,USD,60000,,,,
    s,2024-06-01T00:00:00Z,sell,wallet-b,BTC,1,USD,65000,,,,
    s2,2025-06-01T00:00:00Z,sell,wallet-a,BTC,1,USD,90000,,,,
    """,
        2025,
        scope=Scope.TRANSITION,
    )
    # At 2025-01-01 the two wallets hold 1 BTC each; by the global rule (ties by name) wallet-a
    # takes the oldest remaining lot, which is b.
    (row,) = doc["form_8949"]
    assert (row["lots"][0]["acquisition_id"], row["cost_basis"]) == ("b", "30000.00")


def test_transfer_with_named_lots_moves_those_lots() -> None:
    ledger = """
    id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,to_wallet,lots
    a,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,10000,,
    b,2025-01-03T00:00:00Z,buy,kraken,BTC,1,USD,20000,,
    t,2025-01-04T00:00:00Z,transfer,kraken,BTC,1,,,nano,b:1
    s,2025-02-01T00:00:00Z,sell,nano,BTC,1,USD,25000,,
    """
    (row,) = document(ledger, 2025)["form_8949"]
    assert (row["wallet"], row["lots"][0]["acquisition_id"], row["gain"]) == ("nano", "b", "5000.00")
    with pytest.raises(MissingBasisError, match="are transferred"):
        report(ledger.replace("nano,b:1", "nano,b:0.5"), 2025)
