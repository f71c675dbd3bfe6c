"""marginbook.tax.standing: the open lots per pool and the realized result per year of one run."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from marginbook.importers.ledger_csv import read_text
from marginbook.tax.engine import RunOptions
from marginbook.tax.profile import Character, Profile
from marginbook.tax.standing import Standing, run_standing

END_2025 = datetime(2026, 1, 1, tzinfo=UTC)


def standing(text: str, profile: Profile | None = None, *, allow_missing_basis: bool = False) -> Standing:
    events = read_text(io.StringIO(text), "t.csv")
    options = RunOptions(end=END_2025, allow_missing_basis=allow_missing_basis)
    return run_standing(events, profile or Profile(), None, options, 2025)


def test_open_lots_are_summed_per_wallet_pool_after_the_switch() -> None:
    result = standing(
        "timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"
        "2025-01-02T00:00:00Z,buy,a,ETH,1,USD,2000\n"
        "2025-01-03T00:00:00Z,buy,a,ETH,2,USD,3000\n"
        "2025-01-04T00:00:00Z,buy,b,ETH,1,USD,1000\n"
        "2025-01-05T00:00:00Z,sell,a,ETH,1.5,USD,3000\n")
    # FIFO in a: 1 @ 2,000 and 0.5 of the 2 @ 3,000 leave 1.5 units with 2,250 of basis.
    assert result.held[("a", "ETH")].quantity == Decimal("1.5")
    assert result.held[("a", "ETH")].basis == Decimal("2250")
    assert (result.held[("b", "ETH")].basis, result.held[("b", "ETH")].lots) == (Decimal("1000"), 1)
    # 3,000 − (2,000 + 750)
    assert result.realized_by_year[2025] == Decimal("250")
    assert result.realized_by_year[2025] == result.reports[2025].schedule_d.line_16


def test_ordinary_pnl_is_realized_but_not_on_form_8949() -> None:
    profile = replace(Profile(), realized_pnl=Character.ORDINARY, funding=Character.ORDINARY)
    result = standing(
        "timestamp,type,wallet,asset,amount\n"
        "2025-02-01T00:00:00Z,realized_pnl,f,USD,100\n"
        "2025-02-02T00:00:00Z,realized_pnl,f,USD,-40\n"
        "2025-02-03T00:00:00Z,funding,f,USD,-2.5\n", profile)
    assert result.reports[2025].rows == []
    assert result.realized_by_year[2025] == Decimal("57.5")


def test_missing_basis_is_flagged_not_hidden() -> None:
    result = standing("timestamp,type,wallet,asset,amount\n2025-01-02T00:00:00Z,deposit,n,BTC,1\n",
                      allow_missing_basis=True)
    pool = result.held[("n", "BTC")]
    assert pool.basis_missing and pool.quantity == Decimal("1")
