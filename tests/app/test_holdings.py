"""The holdings fold follows the ledger CSV's fee and transfer semantics to the last unit."""

from __future__ import annotations

from decimal import Decimal

from marginbook.app.holdings import Holding, fold_holdings
from tests.ledger.builders import event


def balances(*events: object) -> dict[tuple[str, str], str]:
    return {(h.wallet, h.asset): str(h.balance) for h in fold_holdings(events)}  # type: ignore[arg-type]


def test_spec_fee_examples() -> None:
    # spec/ledger-csv.md, "Amounts and fees": 1 BTC for 30,000 USD with a 15 USD fee costs
    # 30,015 USD; 0.5 ETH sold for 2,000 USD with a 10 USD fee brings in 1,990 USD; 1 BTC
    # bought with a 0.001 BTC fee leaves 0.999 BTC.
    assert balances(
        event("b", kind="buy", fee_asset="USD", fee_amount=Decimal("15")),
    ) == {("kraken", "BTC"): "1", ("kraken", "USD"): "-30015"}
    assert balances(
        event("s", kind="sell", asset="ETH", amount=Decimal("0.5"), counter_amount=Decimal("2000"),
              fee_asset="USD", fee_amount=Decimal("10")),
    ) == {("kraken", "ETH"): "-0.5", ("kraken", "USD"): "1990"}
    assert balances(
        event("c", kind="buy", fee_asset="BTC", fee_amount=Decimal("0.001")),
    ) == {("kraken", "BTC"): "0.999", ("kraken", "USD"): "-30000"}


def test_transfer_moves_the_amount_and_the_sender_pays_the_network_fee() -> None:
    got = balances(
        event("in", kind="deposit", wallet="coinbase", amount=Decimal("0.5")),
        event("mv", kind="transfer", wallet="coinbase", to_wallet="ledger-nano", amount=Decimal("0.2"),
              fee_asset="BTC", fee_amount=Decimal("0.00012")),
    )
    assert got == {("coinbase", "BTC"): "0.29988", ("ledger-nano", "BTC"): "0.2"}


def test_margin_loan_interest_liquidation_and_repayment() -> None:
    holdings = fold_holdings([
        event("dep", kind="deposit", asset="USD", amount=Decimal("1000")),
        event("loan", kind="borrow", asset="USD", amount=Decimal("1000")),
        event("long", kind="buy", amount=Decimal("0.04"), counter_amount=Decimal("2000")),
        event("int", kind="interest", asset="USD", amount=Decimal("0.4")),
        event("liq", kind="liquidation", amount=Decimal("0.04"), counter_amount=Decimal("1700"),
              fee_asset="USD", fee_amount=Decimal("3.4")),
    ])
    assert holdings == [Holding("kraken", "USD", Decimal("1696.2"), Decimal("1000"))]
    assert holdings[0].net == Decimal("696.2")
    repaid = fold_holdings([
        event("loan", kind="borrow", asset="USD", amount=Decimal("1000")),
        event("back", kind="repay", asset="USD", amount=Decimal("1000")),
    ])
    assert repaid == []  # a wallet with nothing left and nothing owed is not listed


def test_signed_kinds_and_every_debit_kind() -> None:
    got = balances(
        event("in", kind="income", asset="USDT", amount=Decimal("100")),
        event("pnl-", kind="realized_pnl", asset="USDT", amount=Decimal("-12.5")),
        event("pnl+", kind="realized_pnl", asset="USDT", amount=Decimal("2.5")),
        event("fund", kind="funding", asset="USDT", amount=Decimal("-0.01")),
        *(event(k, kind=k, asset="USDT", amount=Decimal("1"))
          for k in ("withdrawal", "spend", "gift", "donation", "fee", "interest")),
    )
    assert got == {("kraken", "USDT"): "83.99"}


def test_eighteen_decimal_places_are_kept_on_large_balances() -> None:
    got = balances(
        event("a", kind="deposit", asset="ETH", amount=Decimal("123456789012.000000000000000001")),
        event("b", kind="income", asset="ETH", amount=Decimal("0.000000000000000001")),
    )
    assert got == {("kraken", "ETH"): "123456789012.000000000000000002"}
