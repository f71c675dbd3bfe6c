"""``tax_if_liquidated``: the tax a forced sale of a wallet's coins would realize.

Worked example (numbers by hand): wallet ``cold`` bought 1 BTC for 20,000 USD on
2023-01-10 and 1 BTC for 60,000 USD on 2024-06-01. Bybit's own example position (long 1 BTC
at 20,000, 50x) is liquidated at 19,700 and the venue keeps the remaining margin, 100 USD.
Selling 1 BTC on 2024-12-01:

* FIFO takes the 2023 lot: proceeds 19,700 − 100 = 19,600, basis 20,000, a long-term loss
  of 400 (held more than a year), box F (2024: no 1099-DA).
* HIFO takes the 60,000 lot: a short-term loss of 40,400, box C.
"""

from __future__ import annotations

import io
import json
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from marginbook.app.liquidation_tax import (
    LiquidationTaxRequest,
    liquidation_tax_from_events,
    liquidation_tax_json,
)
from marginbook.cli.main import app
from marginbook.domain.errors import InputError
from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.domain.numbers import D
from marginbook.importers import ledger_csv
from marginbook.tax.engine import MissingBasisError, RunOptions, run_engine
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile
from marginbook.tax.profile_file import parse_profile
from marginbook.tax.what_if import WHAT_IF_EVENT_ID, HypotheticalSale, price_disposal

LEDGER = """\
id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value,to_wallet,position,note
dep-1,2023-01-02T00:00:00Z,deposit,cold,USD,100000,,,,,,,,
buy-old,2023-01-10T12:00:00Z,buy,cold,BTC,1,USD,20000,,,,,,cheap lot
buy-new,2024-06-01T12:00:00Z,buy,cold,BTC,1,USD,60000,,,,,,dear lot
other,2024-07-01T12:00:00Z,buy,hot,BTC,3,USD,90000,,,,,,another wallet's coins
later,2026-01-05T12:00:00Z,sell,cold,BTC,2,USD,1,,,,,,after every --at used here
"""

AT_2024 = datetime(2024, 12, 1, tzinfo=UTC)


def _parse() -> list[LedgerEvent]:
    """The worked ledger through the ledger CSV reader (the same events ``import`` stores)."""
    return ledger_csv.read_text(io.StringIO(LEDGER), "ledger.csv")


def _request(**changes: object) -> LiquidationTaxRequest:
    fields: dict[str, object] = {
        "wallet": "cold",
        "asset": "BTC",
        "at": AT_2024,
        "quantity": D("1"),
        "liquidation_price": D("19700"),
        "fixed_fee": D("100"),
    }
    fields.update(changes)
    return LiquidationTaxRequest(**fields)  # type: ignore[arg-type]


def _priced(profile: Profile | None = None, **changes: object) -> dict:  # type: ignore[type-arg]
    result = liquidation_tax_from_events(_parse(), _request(**changes), profile or Profile())
    return liquidation_tax_json(result)


def test_fifo_sells_the_old_lot_at_a_long_term_loss() -> None:
    tax = _priced(method=Method.FIFO)
    assert (tax["gross_proceeds"], tax["liquidation_fee"], tax["proceeds"]) == ("19700", "100", "19600")
    assert (tax["cost_basis"], tax["gain"]) == ("20000", "-400")
    assert (tax["short_term_gain"], tax["long_term_gain"]) == ("0", "-400")
    assert tax["box"] == "F"
    assert [lot["acquisition_id"] for lot in tax["lots"]] == ["buy-old"]
    assert tax["held"] == "2"


def test_hifo_sells_the_dear_lot_at_a_short_term_loss() -> None:
    tax = _priced(method=Method.HIFO)
    assert (tax["proceeds"], tax["cost_basis"], tax["gain"]) == ("19600", "60000", "-40400")
    assert (tax["short_term_gain"], tax["long_term_gain"]) == ("-40400", "0")
    assert tax["box"] == "C"
    assert tax["lots"] == [
        {
            "acquisition_id": "buy-new",
            "quantity": "1",
            "acquired_at": "2024-06-01T12:00:00Z",
            "cost_basis": "60000",
            "proceeds": "19600",
            "term": "short",
            "basis_missing": False,
        }
    ]


def test_the_profile_method_of_the_year_applies_without_method_flag() -> None:
    profile = parse_profile(tomllib.loads('[year.2024]\nmethod = "hifo"\n'))
    assert _priced(profile)["method"] == "hifo"
    assert _priced(profile)["gain"] == "-40400"


def test_default_quantity_is_every_unit_of_that_wallet_split_by_term() -> None:
    # 2 BTC at 19,700 = 39,400, a 2 % rate fee = 788; 38,612 split pro rata by units.
    tax = _priced(quantity=None, fixed_fee=D("0"), fee_rate=D("0.02"))
    assert (tax["quantity"], tax["liquidation_fee"], tax["proceeds"]) == ("2", "788", "38612")
    assert tax["short_term_gain"] == str(Decimal("19306") - 60000)
    assert tax["long_term_gain"] == str(Decimal("19306") - 20000)
    assert [row["box"] for row in tax["form_8949"]] == ["C", "F"]
    assert tax["box"] == "C/F"


def test_from_2025_the_box_follows_the_wallet_profile_and_the_2025_allocation() -> None:
    profile = parse_profile(
        tomllib.loads('[wallets.cold]\ncustodial = true\nform_1099da = "basis_reported"\n')
    )
    # At 2025-01-01 the global rule serves the wallet holding most units first: hot (3 BTC)
    # takes the oldest lots (buy-old, buy-new, 1 of other), cold the 2 left of ``other``
    # (30,000 each, acquired 2024-07-01). So cold's forced sale uses those, not its own buys.
    june = _priced(profile, at=datetime(2025, 6, 1, tzinfo=UTC), quantity=None)
    assert [(row["box"], row["term"]) for row in june["form_8949"]] == [("G", "short")]
    assert {lot["acquisition_id"] for lot in june["lots"]} == {"other"}
    assert june["cost_basis"] == "60000"
    july = _priced(profile, at=datetime(2025, 7, 2, tzinfo=UTC), quantity=None)
    assert [(row["box"], row["term"]) for row in july["form_8949"]] == [("J", "long")]


def test_fee_as_interest_leaves_proceeds_gross() -> None:
    profile = parse_profile(tomllib.loads('[treatment]\nliquidation_fee = "interest"\n'))
    tax = _priced(profile)
    assert tax["proceeds"] == "19700"
    assert tax["gain"] == "-300"
    assert any("interest" in warning for warning in tax["warnings"])


def test_selling_more_than_the_wallet_holds() -> None:
    # Before 2025 (one pool per asset) the engine finds lots for it, with a warning here ...
    tax = _priced(quantity=D("2.5"), method=Method.FIFO)
    assert {lot["acquisition_id"]: lot["quantity"] for lot in tax["lots"]} == {
        "buy-old": "1",
        "buy-new": "1",
        "other": "0.5",
    }
    assert any("more than" in warning for warning in tax["warnings"])
    # ... from 2025 (per wallet) cold's lots do not cover it: missing basis, naming the sale.
    with pytest.raises(MissingBasisError, match=WHAT_IF_EVENT_ID):
        _priced(quantity=D("2.5"), at=datetime(2025, 6, 1, tzinfo=UTC))


def test_an_empty_wallet_is_bad_input() -> None:
    with pytest.raises(InputError, match="--collateral-wallet"):
        _priced(wallet="nobody", quantity=None)
    with pytest.raises(InputError, match="--collateral-quantity"):
        _priced(quantity=D("0"))


def test_events_after_the_liquidation_time_are_ignored() -> None:
    # ``later`` sells both of cold's coins in 2026; priced at 2024-12-01 they are still there.
    assert _priced(quantity=None)["quantity"] == "2"


@settings(max_examples=40, deadline=None)
@given(
    costs=st.lists(st.integers(min_value=1, max_value=90_000), min_size=1, max_size=5),
    days=st.lists(st.integers(min_value=0, max_value=900), min_size=5, max_size=5),
    method=st.sampled_from(list(Method)),
    share=st.integers(min_value=1, max_value=100),
    price=st.integers(min_value=1, max_value=120_000),
)
def test_what_if_equals_the_engine_with_the_sale_in_the_ledger(
    costs: list[int], days: list[int], method: Method, share: int, price: int
) -> None:
    """Differential: pricing a hypothetical sale gives exactly the disposal the engine records
    when the same liquidation really is in the ledger (so no lot logic is duplicated)."""
    start = datetime(2023, 1, 1, tzinfo=UTC)
    from datetime import timedelta

    events = [
        LedgerEvent(
            id=f"buy-{n}",
            timestamp=start + timedelta(days=sorted(days)[n]),
            kind=EventKind.BUY,
            wallet="w",
            asset="BTC",
            amount=D("0.5"),
            counter_asset="USD",
            counter_amount=D(cost),
        )
        for n, cost in enumerate(costs)
    ]
    at = start + timedelta(days=1000)
    quantity = D("0.5") * len(costs) * share / 100
    fee = D("12.5")
    sale = HypotheticalSale("w", "BTC", at, quantity, D(price), fixed_fee=fee)
    what_if = price_disposal(events, Profile(), sale, options=RunOptions(method=method))
    real = LedgerEvent(
        id="real", timestamp=at, kind=EventKind.LIQUIDATION, wallet="w", asset="BTC", amount=quantity,
        counter_asset="USD", counter_amount=quantity * price, fee_asset="USD", fee_amount=fee,
    )  # fmt: skip
    engine = run_engine([*events, real], Profile(), options=RunOptions(method=method))
    (recorded,) = engine.disposals
    (priced,) = what_if.disposals
    assert priced.proceeds == recorded.proceeds
    assert priced.slices == recorded.slices
    assert what_if.held == D("0.5") * len(costs)


# --- the command line, on a SQLite ledger -------------------------------------------------

runner = CliRunner()
RISK = ["risk", "--venue", "bybit-linear", "--side", "long", "--entry", "20000", "--quantity", "1",
        "--leverage", "50"]  # fmt: skip


@pytest.fixture()
def db(tmp_path: Path) -> str:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    result = runner.invoke(app, ["--db", url, "import", str(ledger)])
    assert result.exit_code == 0, result.output
    return url


def _risk(db: str, *extra: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["--db", db, *RISK, *extra, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_cli_fifo_and_hifo_differ_on_the_worked_example(db: str) -> None:
    common = ("--collateral-wallet", "cold", "--collateral-quantity", "1", "--at", "2024-12-01T00:00:00Z")
    fifo = _risk(db, *common, "--method", "fifo")["tax_if_liquidated"]
    hifo = _risk(db, *common, "--method", "hifo")["tax_if_liquidated"]
    assert (fifo["gain"], fifo["long_term_gain"], fifo["box"]) == ("-400", "-400", "F")
    assert (hifo["gain"], hifo["short_term_gain"], hifo["box"]) == ("-40400", "-40400", "C")
    assert fifo["price"] == "19700" and fifo["liquidation_fee"] == "100"


def test_cli_profile_file_sets_the_method(db: str, tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text('[year.2024]\nmethod = "hifo"\n')
    out = _risk(db, "--collateral-wallet", "cold", "--collateral-quantity", "1", "--at", "2024-12-01",
                "--profile", str(profile))  # fmt: skip
    assert out["tax_if_liquidated"]["method"] == "hifo"


def test_cli_without_collateral_wallet_has_no_tax_field(db: str) -> None:
    out = _risk(db)
    assert "tax_if_liquidated" not in out
    assert out["liquidation_price"] == "19700"


def test_cli_table_has_the_tax_line(db: str) -> None:
    result = runner.invoke(
        app, ["--db", db, *RISK, "--collateral-wallet", "cold", "--at", "2024-12-01T00:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert "tax_if_liquidated" in result.stdout
    assert "buy-old" in result.stdout


def test_cli_bad_at_and_quantity_are_input_errors(db: str) -> None:
    bad_time = runner.invoke(
        app, ["--db", db, *RISK, "--collateral-wallet", "cold", "--at", "2024-12-01T00:00"]
    )
    assert isinstance(bad_time.exception, InputError)
    assert "--at" in str(bad_time.exception)
    bad_quantity = runner.invoke(
        app, ["--db", db, *RISK, "--collateral-wallet", "cold", "--collateral-quantity", "lots"]
    )
    assert isinstance(bad_quantity.exception, InputError)
    assert "--collateral-quantity" in str(bad_quantity.exception)


def test_cli_never_liquidated_gives_null(db: str) -> None:
    # A 1x long on Binance margin borrows nothing, so it is never liquidated: nothing to price.
    result = runner.invoke(app, ["--db", db, "risk", "--venue", "binance-margin", "--side", "long", "--entry",
                                 "20000", "--quantity", "1", "--leverage", "1", "--collateral-wallet", "cold",
                                 "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["liquidation_price"] is None
    assert out["tax_if_liquidated"] is None


def test_the_fee_on_a_collateral_sale_follows_the_venue() -> None:
    from marginbook.margin import venues
    from marginbook.margin.risk import collateral_sale_fee_terms

    assert collateral_sale_fee_terms(venues.profile("binance-margin"), 0.0) == (0.02, 0.0)
    kraken = venues.profile("kraken-margin")
    assert collateral_sale_fee_terms(kraken, 0.0) == (kraken.taker_fee, 0.0)
    assert collateral_sale_fee_terms(venues.profile("bybit-linear"), 100.0) == (0.0, 100.0)
    assert collateral_sale_fee_terms(venues.profile("binance-usdm"), 72.5) == (0.0, 72.5)


def test_cli_rate_venue_charges_the_rate_on_the_collateral_sold(db: str) -> None:
    # Binance margin 3x cross long: the 2 % fee is on what the 2 BTC fetch, not on the position.
    result = runner.invoke(app, ["--db", db, "risk", "--venue", "binance-margin", "--side", "long", "--entry",
                                 "20000", "--quantity", "1", "--leverage", "3", "--collateral-wallet", "cold",
                                 "--at", "2024-12-01T00:00:00Z", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    tax = out["tax_if_liquidated"]
    gross = D(out["liquidation_price"]) * 2
    assert D(tax["gross_proceeds"]) == gross.quantize(D("0.01"))
    assert D(tax["liquidation_fee"]) == (gross * D("0.02")).quantize(D("0.01"))
    # Form 8949 proceeds are the exact net amount rounded once (not gross cents − fee cents).
    assert D(tax["proceeds"]) == (gross * D("0.98")).quantize(D("0.01"))
