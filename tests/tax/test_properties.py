"""Invariants of the engine over random ledgers (hypothesis).

The generator keeps every wallet's balance, so the ledgers it writes never sell what a
wallet does not hold; the engine must then account for every unit and every dollar of basis.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.domain.numbers import ZERO, cents, decimal_context
from marginbook.tax.book import Scope
from marginbook.tax.engine import EngineResult, RunOptions, run_engine
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile
from marginbook.tax.report import build_report

WALLETS = ("kraken", "coinbase", "nano")
ASSETS = ("BTC", "ETH")
START = datetime(2024, 9, 1, tzinfo=UTC)

operation = st.tuples(
    st.sampled_from(["buy", "buy", "sell", "sell", "transfer", "income", "gift", "swap"]),
    st.sampled_from(WALLETS),
    st.sampled_from(WALLETS),
    st.sampled_from(ASSETS),
    st.integers(1, 300_000_000),  # units in 1e-8
    st.integers(1, 9_000_000),  # price in cents
    st.integers(0, 15),  # days to the next event
    st.integers(0, 2_000),  # fee in cents (0 = none)
)


def build_ledger(ops: list[tuple[str, str, str, str, int, int, int, int]]) -> list[LedgerEvent]:
    balance: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    events: list[LedgerEvent] = []
    moment = START
    for n, (kind, wallet, other, asset, units, price_cents, gap, fee_cents) in enumerate(ops):
        moment += timedelta(days=gap, minutes=7)
        quantity = Decimal(units) / Decimal(10**8)
        price = Decimal(price_cents) / 100
        value = (quantity * price).quantize(Decimal("0.01")) or Decimal("0.01")
        fee = Decimal(fee_cents) / 100
        held = balance[(wallet, asset)]
        common = {"id": f"e{n}", "timestamp": moment, "wallet": wallet, "asset": asset}
        if kind in ("buy", "income"):
            events.append(
                LedgerEvent(
                    kind=EventKind(kind),
                    amount=quantity,
                    usd_value=None if kind == "buy" else value,
                    counter_asset="USD" if kind == "buy" else None,
                    counter_amount=value if kind == "buy" else None,
                    fee_asset="USD" if fee and kind == "buy" else None,
                    fee_amount=fee if fee and kind == "buy" else None,
                    **common,
                )
            )
            balance[(wallet, asset)] += quantity
            continue
        quantity = min(quantity, held)
        if quantity <= 0:
            continue
        if kind == "sell":
            events.append(
                LedgerEvent(
                    kind=EventKind.SELL,
                    amount=quantity,
                    counter_asset="USD",
                    counter_amount=value,
                    fee_asset="USD" if fee else None,
                    fee_amount=fee or None,
                    **common,
                )
            )
            balance[(wallet, asset)] -= quantity
        elif kind == "gift":
            events.append(LedgerEvent(kind=EventKind.GIFT, amount=quantity, usd_value=value, **common))
            balance[(wallet, asset)] -= quantity
        elif kind == "swap":
            target = "ETH" if asset == "BTC" else "BTC"
            events.append(
                LedgerEvent(
                    kind=EventKind.SELL,
                    amount=quantity,
                    counter_asset=target,
                    counter_amount=quantity * 3,
                    usd_value=value,
                    **common,
                )
            )
            balance[(wallet, asset)] -= quantity
            balance[(wallet, target)] += quantity * 3
        elif kind == "transfer" and other != wallet:
            fee_units = (quantity / 100).quantize(Decimal("0.00000001")) if fee else ZERO
            if quantity + fee_units > held:  # no fee the wallet cannot pay (rounding included)
                fee_units = ZERO
            events.append(
                LedgerEvent(
                    kind=EventKind.TRANSFER,
                    amount=quantity,
                    to_wallet=other,
                    fee_asset=asset if fee_units else None,
                    fee_amount=fee_units or None,
                    usd_value=value,
                    **common,
                )
            )
            balance[(wallet, asset)] -= quantity + fee_units
            balance[(other, asset)] += quantity
    return events


def acquisitions(events: list[LedgerEvent]) -> dict[str, tuple[str, Decimal, Decimal]]:
    """acquisition id -> (asset, units, basis) as the ledger says (independent of the engine)."""
    result = {}
    for e in events:
        if e.kind is EventKind.BUY:
            result[e.id] = (e.asset, e.amount, (e.counter_amount or ZERO) + (e.fee_amount or ZERO))
        elif e.kind is EventKind.INCOME:
            result[e.id] = (e.asset, e.amount, e.usd_value or ZERO)
        elif e.kind is EventKind.SELL and e.counter_asset != "USD":
            result[e.id] = (e.counter_asset or "", e.counter_amount or ZERO, e.usd_value or ZERO)
    return result


@settings(max_examples=150, deadline=None)
@given(
    st.lists(operation, min_size=1, max_size=60), st.sampled_from(list(Scope)), st.sampled_from(list(Method))
)
def test_every_unit_and_dollar_of_basis_is_accounted_for(ops: list, scope: Scope, method: Method) -> None:
    events = build_ledger(ops)
    result = run_engine(events, Profile(), None, RunOptions(scope=scope, method=method))
    with decimal_context():  # the engine's 60 digits: the default 28 would round the sums
        check_accounting(events, result)


def check_accounting(events: list[LedgerEvent], result: EngineResult) -> None:
    acquired = acquisitions(events)
    used_units: defaultdict[str, Decimal] = defaultdict(Decimal)
    used_basis: defaultdict[str, Decimal] = defaultdict(Decimal)
    slices = [s for d in result.disposals for s in d.slices] + [s for g in result.gifts for s in g.slices]
    assert not any(s.basis_missing for s in slices)
    for s in slices:
        used_units[s.acquisition_id] += s.quantity
        used_basis[s.acquisition_id] += s.basis
    for _wallet, lot in result.open_lots:
        used_units[lot.acquisition_id] += lot.quantity
        used_basis[lot.acquisition_id] += lot.basis
    # No lot is used twice and none is lost: per acquisition, units and basis reconcile exactly.
    assert set(used_units) <= set(acquired)
    for acquisition_id, (_asset, units, basis) in acquired.items():
        assert used_units[acquisition_id] == units, acquisition_id
        assert used_basis[acquisition_id] == basis, acquisition_id
    # Per asset: acquired = disposed + held, to the smallest unit.
    for asset in ASSETS:
        bought = sum((u for a, u, _ in acquired.values() if a == asset), ZERO)
        disposed = sum((d.quantity for d in result.disposals if d.asset == asset), ZERO)
        disposed += sum((g.quantity for g in result.gifts if g.asset == asset), ZERO)
        held = sum((lot.quantity for _, lot in result.open_lots if lot.asset == asset), ZERO)
        assert bought == disposed + held
    # Every disposal's slices add up to its quantity, and basis is never negative.
    for d in result.disposals:
        assert sum((s.quantity for s in d.slices), ZERO) == d.quantity
        assert all(s.basis >= 0 for s in d.slices)


@settings(max_examples=150, deadline=None)
@given(st.lists(operation, min_size=1, max_size=60), st.sampled_from(list(Scope)))
def test_wallet_pools_hold_what_each_wallet_holds_and_8949_adds_up(ops: list, scope: Scope) -> None:
    events = build_ledger(ops)
    profile = Profile()
    result = run_engine(events, profile, None, RunOptions(scope=scope))
    if scope is not Scope.UNIVERSAL:
        # From 2025 (or always, in wallet scope) each wallet's pool holds exactly its units.
        balance: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for e in events:
            if e.kind in (EventKind.BUY, EventKind.INCOME):
                balance[(e.wallet, e.asset)] += e.amount
            elif e.kind in (EventKind.SELL, EventKind.GIFT):
                balance[(e.wallet, e.asset)] -= e.amount
                if e.counter_asset and e.counter_asset != "USD":
                    balance[(e.wallet, e.counter_asset)] += e.counter_amount or ZERO
            elif e.kind is EventKind.TRANSFER:
                balance[(e.wallet, e.asset)] -= e.amount + (e.fee_amount or ZERO)
                balance[(e.to_wallet or "", e.asset)] += e.amount
        crossed = scope is Scope.WALLET or (events and events[-1].timestamp.year >= 2025)
        if crossed:
            pooled: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
            for wallet, lot in result.open_lots:
                pooled[(wallet, lot.asset)] += lot.quantity
            assert {k: v for k, v in pooled.items() if v} == {k: v for k, v in balance.items() if v}
    for year in (2024, 2025):
        report = build_report(result, year, profile, RunOptions(scope=scope))
        for row in report.rows:
            assert row.gain == row.proceeds - row.cost_basis + row.adjustment
            assert sum((lot.proceeds for lot in row.lots), ZERO) == row.proceeds
            assert sum((lot.cost_basis for lot in row.lots), ZERO) == row.cost_basis
        for totals in report.schedule_d.box_lines.values():
            assert totals.gain == totals.proceeds - totals.cost_basis + totals.adjustment
        in_year = [d for d in result.disposals if d.disposed_at.year == year]
        # Rows take each disposal's proceeds rounded once to the cent, split without loss.
        assert sum((row.proceeds for row in report.rows), ZERO) == sum(
            (cents(d.proceeds) for d in in_year), ZERO
        )
