"""The portfolio's cost basis and realized P&L are the tax engine's: one answer in one report.

The demo ledger is the differential case: its 2024 realized P&L was −2,219.84 by the
portfolio's old per-wallet FIFO fold and +1,003.96 on the filed forms. Now the portfolio's
figure must equal Schedule D line 16 less the amounts from outside the ledger (lines 4, 5, 6,
11, 12, 13, 14), each year, and every holding's basis must equal the open lots' basis.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

import pytest

from marginbook.app.dashboard import Dashboard
from marginbook.app.demo import demo_ledger_path
from marginbook.app.memory_store import MemoryStore
from marginbook.app.portfolio import build_portfolio
from marginbook.app.tax_year import TaxRequest, tax_events
from marginbook.domain.events import LedgerEvent
from marginbook.domain.numbers import ZERO
from marginbook.importers.ledger_csv import read, read_text
from marginbook.tax.report import TaxReport

END_2024 = datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
END_2025 = datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@cache
def demo_events() -> tuple[LedgerEvent, ...]:
    return tuple(sorted(read(demo_ledger_path()), key=lambda event: event.timestamp))


@cache
def filed(year: int) -> TaxReport:
    """What ``marginbook tax --year YEAR`` reports for the demo ledger (the forms' figures)."""
    return tax_events(list(demo_events()), TaxRequest(year=year))


def schedule_d_ledger_gain(report: TaxReport) -> Decimal:
    """Line 16 without the lines that come from outside the ledger (1256 contracts, K-1s, carryovers)."""
    d = report.schedule_d
    outside = d.line_4 + d.line_5 + d.line_6 + d.line_11 + d.line_12 + d.line_13 + d.line_14
    return d.line_16 - outside


@pytest.mark.parametrize(("year", "at"), [(2024, END_2024), (2025, END_2025)])
def test_demo_realized_pnl_is_schedule_d_line_16(year: int, at: datetime) -> None:
    portfolio = build_portfolio(demo_events(), at=at)
    assert portfolio.realized_pnl_year == schedule_d_ledger_gain(filed(year))
    assert dict(portfolio.realized_by_year)[year] == portfolio.realized_pnl_year


def test_demo_2024_realized_is_the_filed_figure_not_the_old_fifo_estimate() -> None:
    portfolio = build_portfolio(demo_events(), at=END_2024)
    assert portfolio.realized_pnl_year == Decimal("1003.96")


def test_demo_cost_basis_of_each_holding_is_the_engines_open_lots() -> None:
    report = filed(2025)  # its run ends 2026-01-01: after the demo's last event, past the 2025 switch
    lots: dict[tuple[str, str], Decimal] = {}
    for wallet, lot in report.open_lots:
        lots[(wallet, lot.asset)] = lots.get((wallet, lot.asset), ZERO) + lot.basis
    portfolio = build_portfolio(demo_events(), at=END_2025)
    coins = [h for h in portfolio.holdings if h.asset != "USD" and h.quantity > 0]
    assert coins, "the demo ends holding coins"
    for holding in coins:
        assert holding.cost_basis == lots[(holding.wallet, holding.asset)], holding
    assert {(h.wallet, h.asset) for h in coins} == {key for key, basis in lots.items() if basis > 0}


def events(text: str) -> list[LedgerEvent]:
    return read_text(io.StringIO(text), "t.csv")


TWO_WALLETS_2024 = (
    "timestamp,type,wallet,asset,amount,counter_asset,counter_amount,to_wallet\n"
    "2024-01-02T00:00:00Z,buy,cb,BTC,1,USD,30000,\n"
    "2024-02-02T00:00:00Z,buy,cb,BTC,1,USD,40000,\n"
    "2024-03-02T00:00:00Z,transfer,cb,BTC,0.5,,,nano\n"
)


def test_before_2025_one_pool_serves_every_wallet_so_a_wallets_basis_is_unknown() -> None:
    portfolio = build_portfolio(events(TWO_WALLETS_2024), at=END_2024)
    btc = {h.wallet: h for h in portfolio.holdings if h.asset == "BTC"}
    assert btc["cb"].cost_basis is None and btc["nano"].cost_basis is None
    (note,) = [warning for warning in portfolio.warnings if "one pool of BTC" in warning]
    assert "2 BTC with a basis of 70,000.00" in note


def test_after_the_2025_switch_each_wallet_has_the_allocated_basis() -> None:
    # The global rule: the biggest holder (cb, 1.5) takes the oldest lots first: 1 @ 30,000 and
    # 0.5 @ 40,000; nano gets the other 0.5 @ 40,000 (Rev. Proc. 2024-28 default allocation).
    portfolio = build_portfolio(events(TWO_WALLETS_2024), at=END_2025)
    btc = {h.wallet: h for h in portfolio.holdings if h.asset == "BTC"}
    assert (btc["cb"].quantity, btc["cb"].cost_basis) == (Decimal("1.5"), Decimal("50000"))
    assert (btc["nano"].quantity, btc["nano"].cost_basis) == (Decimal("0.5"), Decimal("20000"))


def test_a_ledger_the_engine_refuses_keeps_its_holdings_with_basis_and_gains_unknown() -> None:
    store = MemoryStore(events(TWO_WALLETS_2024))

    def refusing(_events: object, _at: datetime, _profile: object) -> tuple[None, str]:
        return None, "no price for XYZ"

    portfolio = Dashboard(store, standing_source=refusing).portfolio()
    assert [h.quantity for h in portfolio.holdings if h.asset == "BTC"] == [Decimal("1.5"), Decimal("0.5")]
    assert all(h.cost_basis is None for h in portfolio.holdings if h.asset == "BTC")
    assert portfolio.realized_pnl_year is None and portfolio.realized_by_year == ()
    # Totals over unknown bases are unknown, not 0.00: the holdings' market value is known.
    assert portfolio.total_value > 0
    assert portfolio.total_cost_basis is None and portfolio.unrealized_pnl is None
    assert any("no price for XYZ" in warning for warning in portfolio.warnings)


def test_dashboard_runs_the_engine_once_per_ledger_size() -> None:
    store = MemoryStore(events(TWO_WALLETS_2024))
    calls: list[int] = []

    from marginbook.app.features import tax_standing

    def counting(evs: list[LedgerEvent], at: datetime, profile: object) -> tuple[object, str]:
        calls.append(len(evs))
        return tax_standing(evs, at)

    dashboard = Dashboard(store, standing_source=counting)
    first = dashboard.portfolio()
    dashboard.portfolio()
    dashboard.position_views()
    assert calls == [3]
    store.add_events(events("timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"
                            "2025-06-01T00:00:00Z,sell,cb,BTC,1,USD,60000\n"))
    after = dashboard.portfolio()
    assert calls == [3, 4]
    # FIFO per wallet in 2025: cb sells its allocated 1 @ 30,000 for 60,000.
    assert dict(first.realized_by_year).get(2025, ZERO) == 0
    assert dict(after.realized_by_year)[2025] == Decimal("30000")


def test_a_pages_first_view_shows_the_fold_while_the_engine_runs_in_the_background() -> None:
    import threading

    store = MemoryStore(events(TWO_WALLETS_2024))
    release = threading.Event()
    from marginbook.app.features import tax_standing

    def slow(evs: list[LedgerEvent], at: datetime, profile: object) -> tuple[object, str]:
        release.wait(10)
        return tax_standing(evs, at)

    dashboard = Dashboard(store, standing_source=slow, answer_within=30)  # as the web app's
    first = dashboard.portfolio(allow_stale=True, engine_may_follow=True)  # waits for the fold only
    assert [h.quantity for h in first.holdings if h.asset == "BTC"] == [Decimal("1.5"), Decimal("0.5")]
    assert first.realized_pnl_year is None and all(h.cost_basis is None for h in first.holdings
                                                   if h.asset == "BTC")
    assert any(w.startswith("The tax engine is still running") for w in first.warnings)
    assert first.unrealized_pnl is None and first.total_cost_basis is None
    release.set()
    dashboard.wait_for_refold(10)
    later = dashboard.portfolio(allow_stale=True, engine_may_follow=True)
    assert later.realized_pnl_year == 0 and not any("still running" in w for w in later.warnings)
    assert later.unrealized_pnl is not None and later.total_cost_basis is not None
