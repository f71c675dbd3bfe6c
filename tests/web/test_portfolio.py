"""The portfolio: units per wallet, the tax engine's basis and realized P&L, loans and their risk prices.

Basis and realized P&L come from the tax engine (default profile: FIFO, per-wallet pools from
2025); these worked examples hold under it. See test_portfolio_tax.py for the differential
tests against the engine's forms.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.app.portfolio import build_portfolio
from marginbook.domain.events import LedgerEvent
from marginbook.importers.ledger_csv import read_text

END_2025 = datetime(2025, 12, 31, tzinfo=UTC)


def events(text: str) -> list[LedgerEvent]:
    return read_text(io.StringIO(text), "t.csv")


def test_fifo_basis_fees_and_realized_gain_of_a_round_trip() -> None:
    # The ledger CSV's own example: a buy of 1 BTC for 30,000 USD with a 15 USD fee costs 30,015.
    portfolio = build_portfolio(events(
        "timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount\n"
        "2025-01-01T00:00:00Z,deposit,k,USD,50000,,,,\n"
        "2025-01-02T00:00:00Z,buy,k,BTC,1,USD,30000,USD,15\n"
        "2025-01-03T00:00:00Z,buy,k,BTC,1,USD,40000,,\n"
        "2025-02-02T00:00:00Z,sell,k,BTC,1.5,USD,75000,USD,10\n"
    ), at=END_2025)
    (btc, usd) = portfolio.holdings
    # FIFO: 1 @ 30,015 + 0.5 @ 40,000 = 50,015 sold for 74,990 net.
    assert portfolio.realized_pnl_year == Decimal("24975")
    assert (btc.quantity, btc.cost_basis, btc.price) == (Decimal("0.5"), Decimal("20000"), Decimal("50000"))
    assert usd.quantity == Decimal("54975")


def test_realized_pnl_counts_only_the_valuation_year() -> None:
    text = ("timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"
            "2024-01-01T00:00:00Z,buy,k,BTC,1,USD,100\n"
            "2024-06-01T00:00:00Z,sell,k,BTC,0.5,USD,100\n"
            "2025-06-01T00:00:00Z,sell,k,BTC,0.5,USD,200\n")
    assert build_portfolio(events(text), at=END_2025).realized_pnl_year == Decimal("150")
    assert build_portfolio(events(text), at=datetime(2024, 12, 31, tzinfo=UTC)).realized_pnl_year == Decimal("50")


def test_transfer_carries_lots_and_a_crypto_fee_leaves_the_sender() -> None:
    portfolio = build_portfolio(events(
        "timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,to_wallet\n"
        "2025-01-02T00:00:00Z,buy,cb,BTC,1,USD,30000,,,\n"
        "2025-01-03T00:00:00Z,transfer,cb,BTC,0.5,,,BTC,0.001,nano\n"
    ), at=END_2025)
    by_wallet = {h.wallet: h for h in portfolio.holdings if h.asset == "BTC"}
    assert by_wallet["nano"].quantity == Decimal("0.5") and by_wallet["nano"].cost_basis == Decimal("15000")
    assert by_wallet["cb"].quantity == Decimal("0.499") and by_wallet["cb"].cost_basis == Decimal("14970")


def test_deposit_without_basis_has_unknown_basis_not_zero() -> None:
    portfolio = build_portfolio(events(
        "timestamp,type,wallet,asset,amount\n2025-01-02T00:00:00Z,deposit,nano,ETH,2\n"), at=END_2025)
    (eth,) = portfolio.holdings
    assert eth.cost_basis is None and eth.price is None and eth.market_value is None
    assert portfolio.unvalued == ("nano:ETH",)


def test_short_position_risk_prices() -> None:
    # Borrow 1 BTC and sell it for 50,000 next to 10,000 USD: ML(p) = 60,000 / p.
    portfolio = build_portfolio(events(
        "timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"
        "2025-01-01T00:00:00Z,deposit,b,USD,10000,,\n"
        "2025-01-02T00:00:00Z,borrow,b,BTC,1,,\n"
        "2025-01-02T00:00:01Z,sell,b,BTC,1,USD,50000\n"
    ), at=END_2025)
    (position,) = portfolio.positions
    assert position.side == "short" and position.risk_asset == "BTC"
    assert position.margin_level == Decimal("1.2")
    assert position.margin_call_price is not None and position.liquidation_price is not None
    assert abs(position.margin_call_price - Decimal(60000) / Decimal("1.3")) < Decimal("1e-20")
    assert abs(position.liquidation_price - Decimal(60000) / Decimal("1.1")) < Decimal("1e-20")


def test_loan_repaid_is_no_longer_a_position() -> None:
    portfolio = build_portfolio(events(
        "timestamp,type,wallet,asset,amount\n"
        "2025-01-01T00:00:00Z,borrow,k,USD,100\n2025-01-02T00:00:00Z,repay,k,USD,100\n"), at=END_2025)
    assert portfolio.positions == () and portfolio.total_liabilities == 0


def test_value_history_has_one_point_per_day_with_events() -> None:
    portfolio = build_portfolio(events(
        "timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"
        "2025-01-01T00:00:00Z,deposit,k,USD,1000,,\n"
        "2025-01-01T12:00:00Z,buy,k,BTC,0.01,USD,500\n"
        "2025-01-03T00:00:00Z,buy,k,BTC,0.01,USD,600\n"), at=END_2025)
    assert [(p.day, p.value) for p in portfolio.value_history] == [("2025-01-01", Decimal("1000")),
                                                                    ("2025-01-03", Decimal("1100"))]


trades = st.lists(st.tuples(st.booleans(), st.integers(1, 50), st.integers(100, 900), st.integers(0, 30)),
                  min_size=1, max_size=25)


@settings(max_examples=20, deadline=None)
@given(trades)
def test_net_value_minus_deposits_equals_realized_plus_unrealized(steps: list[tuple[bool, int, int, int]]) -> None:
    """With USD fees and the last trade price as the mark, every dollar is either realized or unrealized.

    Realized P&L is the sum of Form 8949 rows, each rounded to the cent (proceeds and basis
    separately), so the identity holds to a cent per sale.
    """
    rows = ["timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount",
            "2025-01-01T00:00:00Z,deposit,w,USD,1000000,,,,"]
    held = 0
    for index, (is_buy, units, price, fee) in enumerate(steps):
        quantity = Decimal(units) / 100
        if not is_buy and Decimal(held) / 100 < quantity:
            is_buy = True
        held += units if is_buy else -units
        kind = "buy" if is_buy else "sell"
        ts = f"2025-02-{1 + index % 27:02d}T{index // 27:02d}:00:00Z"
        rows.append(f"{ts},{kind},w,BTC,{quantity},USD,{quantity * price},USD,{Decimal(fee) / 10}")
    portfolio = build_portfolio(events("\n".join(rows) + "\n"), at=END_2025)
    assert portfolio.warnings == ()
    assert portfolio.realized_pnl_year is not None
    total_pnl = portfolio.realized_pnl_year + portfolio.unrealized_pnl
    sales = sum(1 for row in rows if ",sell," in row)
    assert abs(portfolio.net_value - Decimal(1000000) - total_pnl) <= Decimal("0.01") * sales
    btc = [h for h in portfolio.holdings if h.asset == "BTC"]
    assert sum((h.quantity for h in btc), Decimal(0)) == Decimal(held) / 100


def test_settled_margin_results_and_funding_are_realized_with_their_sign() -> None:
    portfolio = build_portfolio(events(
        "timestamp,type,wallet,asset,amount,usd_value,cost_basis_usd\n"
        "2025-01-01T00:00:00Z,deposit,f,USDT,1000,,1000\n"
        "2025-02-01T00:00:00Z,realized_pnl,f,USDT,-300,,\n"
        "2025-03-01T00:00:00Z,realized_pnl,f,USDT,120.5,,\n"
        "2025-03-02T00:00:00Z,funding,f,USDT,-0.5,0.5,\n"), at=END_2025)
    # The engine treats USDT as a coin: a loss paid in USDT is a capital loss row and a
    # disposal of the USDT paid (at its 1 USD basis: no further gain). −300 + 120.5 − 0.5.
    assert portfolio.realized_pnl_year == Decimal("-180")
    (usdt,) = portfolio.holdings
    assert usdt.quantity == Decimal("820")


def test_value_history_uses_market_prices_when_there_are_some() -> None:
    text = ("timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"
            "2025-01-01T00:00:00Z,deposit,k,USD,1000,,\n"
            "2025-01-01T12:00:00Z,buy,k,BTC,0.01,USD,500\n"
            "2025-01-03T00:00:00Z,buy,k,BTC,0.01,USD,600\n")

    def market(asset: str, at: datetime) -> Decimal | None:
        return Decimal("70000") if asset == "BTC" and at.day == 3 else None  # the 1st: no market bar

    portfolio = build_portfolio(events(text), at=END_2025, prices=market)
    # Day 1 at the ledger's 50,000 (500 USD + 0.01 BTC); day 3: 0.02 BTC at the market's 70,000 and −100 USD.
    assert [(p.day, p.value) for p in portfolio.value_history] == [("2025-01-01", Decimal("1000")),
                                                                    ("2025-01-03", Decimal("1300"))]
