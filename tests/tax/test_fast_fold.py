"""The fast fold against the ``Decimal`` fold: the same records, forms and JSON, or a fallback.

:func:`marginbook.tax.engine.run_engine` runs the fast fold (scaled-integer quantities, a
compiled lot-matching kernel, the basis split afterwards in ``Decimal``) for the ledgers it
supports; the ``Decimal`` fold (:func:`run_decimal_fold`) is the reference. Random ledgers of
every kind the fast fold replays (and some it does not: borrows, specific identification,
missing basis), with quantities down to 18 decimals, crypto fees, transfers, and dates
across the 2025 switch, in every scope and method: the engine's result must equal the
reference's field by field, every year's JSON document byte for byte, and an error the
reference raises must be raised the same.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from marginbook.domain.events import EventKind, LedgerEvent, LotPick
from marginbook.domain.numbers import decimal_context
from marginbook.tax.book import Scope
from marginbook.tax.document import to_document
from marginbook.tax.engine import EngineResult, RunOptions, run_decimal_fold, run_engine
from marginbook.tax.fast import fast_fold
from marginbook.tax.methods import Method
from marginbook.tax.profile import (
    Form1099DA,
    LiquidationFeeTreatment,
    Profile,
    TransferFeeTreatment,
    WalletSettings,
    YearSettings,
)
from marginbook.tax.report import build_report, build_reports

WALLETS = ("kraken", "coinbase", "nano")
ASSETS = ("BTC", "ETH", "SOL")
START = datetime(2024, 6, 1, tzinfo=UTC)

#: How many decimals an asset's quantities use, per asset (ETH down to wei).
DECIMALS = {"BTC": 8, "ETH": 18, "SOL": 9}

KINDS = [
    "buy", "buy", "buy", "sell", "sell", "swap", "transfer", "deposit", "withdrawal", "income",
    "fee", "interest", "spend", "gift", "liquidation", "pnl", "funding",
]

step = st.tuples(
    st.sampled_from(KINDS),
    st.sampled_from(WALLETS),
    st.sampled_from(WALLETS),
    st.sampled_from(ASSETS),
    st.integers(1, 3 * 10**9),  # units, scaled by the asset's decimals below
    st.integers(1, 9_000_000),  # price in cents
    st.integers(0, 40),  # days to the next event
    st.integers(0, 3),  # fee: none, USD, in the asset, in another asset
    st.booleans(),  # a free flag (deposit basis known, withdrawal beyond the balance ...)
)


def _quantity(asset: str, units: int, fine: bool) -> Decimal:
    """Units of ``asset``: with all its decimals (fine) or to 1e-8."""
    decimals = DECIMALS[asset] if fine else 8
    return Decimal(units) * Decimal(17 if fine else 1) / Decimal(10**decimals)


def build(
    steps: list[tuple[str, str, str, str, int, int, int, int, bool]], fine: bool, odd: str | None = None
) -> list[LedgerEvent]:
    """A ledger from the steps (balances kept, except where a step means to overdraw).

    ``odd`` turns the middle step into what the fast fold leaves to the Decimal fold: a
    ``borrow``, or a sale naming its lot (``pick``).
    """
    if odd is not None and steps:
        middle = len(steps) // 2
        steps = [*steps[:middle], (odd, *steps[middle][1:]), *steps[middle + 1 :]]
    held: dict[tuple[str, str], Decimal] = {}
    events: list[LedgerEvent] = []
    moment = START
    for n, (kind, wallet, other, asset, units, price_cents, gap, fee_kind, flag) in enumerate(steps):
        moment += timedelta(days=gap, minutes=11)
        quantity = _quantity(asset, units, fine)
        value = (quantity * Decimal(price_cents) / 100).quantize(Decimal("0.01")) or Decimal("0.01")
        balance = held.get((wallet, asset), Decimal(0))
        common = {"id": f"e{n}", "timestamp": moment, "wallet": wallet, "asset": asset}
        fee: dict[str, object] = {}
        if fee_kind == 1:
            fee = {"fee_asset": "USD", "fee_amount": Decimal(price_cents % 700) / 100 or None}
        elif fee_kind in (2, 3):
            fee_asset = asset if fee_kind == 2 else ASSETS[(ASSETS.index(asset) + 1) % 3]
            fee_units = (quantity / 1000).quantize(Decimal(1).scaleb(-(DECIMALS[fee_asset] if fine else 8)))
            if fee_units > 0 and held.get((wallet, fee_asset), Decimal(0)) > fee_units * 3:
                fee = {"fee_asset": fee_asset, "fee_amount": fee_units}
                held[(wallet, fee_asset)] -= fee_units
        if fee.get("fee_amount") is None:
            fee = {}

        def add(w: str, a: str, q: Decimal) -> None:
            held[(w, a)] = held.get((w, a), Decimal(0)) + q

        if kind in ("buy", "income", "deposit"):
            extra: dict[str, object] = {}
            if kind == "buy":
                extra = {"counter_asset": "USD", "counter_amount": value}
            elif kind == "income":
                extra = {"usd_value": value}
            elif flag:
                extra = {"cost_basis_usd": value, "acquired_at": moment - timedelta(days=price_cents % 900)}
            else:
                continue  # missing basis: covered by its own test below
            events.append(LedgerEvent(kind=EventKind(kind), amount=quantity, **extra, **fee, **common))
            add(wallet, asset, quantity)
            continue
        if kind in ("pnl", "funding"):
            # A USD or coin amount, a profit or (flag) a loss; a realized PnL with or without
            # its opening time; a coin loss is paid with the wallet's lots (which may not cover it).
            in_usd = fee_kind % 2 == 0
            amount = value if in_usd else min(quantity, balance) if flag else quantity
            if amount <= 0:
                continue
            events.append(
                LedgerEvent(
                    kind=EventKind.REALIZED_PNL if kind == "pnl" else EventKind.FUNDING,
                    asset="USD" if in_usd else asset,
                    amount=-amount if flag else amount,
                    usd_value=None if in_usd else value,
                    position=f"p{price_cents % 3}" if gap % 2 else None,
                    opened_at=moment - timedelta(days=price_cents % 800) if kind == "pnl" and gap % 3 else None,
                    **{k: v for k, v in common.items() if k != "asset"},
                )
            )
            if not in_usd:
                add(wallet, asset, -amount if flag else amount)
            continue
        if kind == "borrow":
            events.append(LedgerEvent(kind=EventKind.BORROW, amount=quantity, **common))
            continue
        # A withdrawal beyond the balance (flag) is a warning, not an error.
        quantity = balance + quantity if kind == "withdrawal" and flag else min(quantity, balance)
        if quantity <= 0:
            continue
        if kind in ("sell", "liquidation", "pick"):
            events.append(
                LedgerEvent(
                    kind=EventKind.LIQUIDATION if kind == "liquidation" else EventKind.SELL,
                    amount=quantity,
                    counter_asset="USD",
                    counter_amount=value,
                    lots=(LotPick(f"e{n - 1}", quantity),) if kind == "pick" else (),
                    **fee,
                    **common,
                )
            )
        elif kind == "swap":
            target = ASSETS[(ASSETS.index(asset) + 1) % 3]
            got = _quantity(target, units * 3, fine)
            events.append(
                LedgerEvent(
                    kind=EventKind.SELL, amount=quantity, counter_asset=target, counter_amount=got,
                    usd_value=value, **fee, **common,
                )
            )
            add(wallet, target, got)
        elif kind == "transfer":
            if other == wallet:
                continue
            events.append(
                LedgerEvent(kind=EventKind.TRANSFER, amount=quantity, to_wallet=other, usd_value=value, **fee, **common)
            )
            add(other, asset, quantity)
        elif kind in ("fee", "interest", "spend", "gift"):
            kinds = {"fee": EventKind.FEE, "interest": EventKind.INTEREST, "spend": EventKind.SPEND,
                     "gift": EventKind.DONATION if flag else EventKind.GIFT}
            events.append(LedgerEvent(kind=kinds[kind], amount=quantity, usd_value=value, **fee, **common))
        elif kind == "withdrawal":
            events.append(LedgerEvent(kind=EventKind.WITHDRAWAL, amount=quantity, **fee, **common))
        add(wallet, asset, -min(quantity, balance))
    return events


PROFILE = Profile(
    wallets={
        "kraken": WalletSettings(custodial=True, form_1099da=Form1099DA.GROSS_ONLY),
        "coinbase": WalletSettings(custodial=True, form_1099da=Form1099DA.BASIS_REPORTED),
    },
    years={2025: YearSettings(taxable_income=Decimal("1000"))},
)


def _lots(result: EngineResult) -> list[tuple[object, ...]]:
    """The open lots' fields (``unit_cost`` is a cache of the HIFO/LOFO order, not a result)."""
    return [
        (w, lot.acquisition_id, lot.asset, lot.acquired_at, lot.acquired_key, lot.seq, lot.uid, lot.quantity,
         lot.basis, lot.basis_missing)
        for w, lot in result.open_lots
    ]


def assert_same(fast: EngineResult, exact: EngineResult) -> None:
    """Every record of the two results is equal."""
    assert fast.disposals == exact.disposals
    assert fast.income == exact.income
    assert fast.gifts == exact.gifts
    assert fast.expenses == exact.expenses
    assert fast.warnings == exact.warnings
    assert fast.allocation == exact.allocation
    assert _lots(fast) == _lots(exact)
    assert fast.open_shorts == exact.open_shorts


def _documents(result: EngineResult, profile: Profile, options: RunOptions, last: int) -> dict[int, str]:
    with decimal_context():
        reports = build_reports(result, last, profile, options)
        return {year: json.dumps(to_document(report)) for year, report in reports.items()}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(step, min_size=1, max_size=70),
    st.sampled_from(list(Scope)),
    st.sampled_from([None, *Method]),
    st.booleans(),
    st.sampled_from([TransferFeeTreatment.DISPOSAL, TransferFeeTreatment.IGNORE]),
    st.sampled_from([LiquidationFeeTreatment.COST, LiquidationFeeTreatment.INTEREST]),
    st.sampled_from([None, 2025, 2026]),
    st.sampled_from([None, None, None, None, "borrow", "pick"]),
)
def test_fast_fold_gives_the_decimal_folds_records_and_json(
    steps: list, scope: Scope, method: Method | None, fine: bool,
    transfer_fee: TransferFeeTreatment, liquidation_fee: LiquidationFeeTreatment, end_year: int | None,
    odd: str | None,
) -> None:
    events = build(steps, fine, odd)
    profile = replace(PROFILE, transfer_fee=transfer_fee, liquidation_fee=liquidation_fee)
    end = None if end_year is None else datetime(end_year, 1, 1, tzinfo=UTC)
    options = RunOptions(scope=scope, method=method, end=end)
    try:
        exact = run_decimal_fold(events, profile, None, options)
    except Exception as error:  # the engine must raise the same, after the fast fold stood aside
        assert fast_fold(events, profile, None, options) is None
        with pytest.raises(type(error), match=None) as raised:
            run_engine(events, profile, None, options)
        assert str(raised.value) == str(error)
        event("the Decimal fold raised")
        return
    fast = fast_fold(events, profile, None, options)
    unsupported = any(e.kind is EventKind.BORROW or e.lots for e in events)
    if fast is None:
        # Only what the fast fold documents as unsupported may fall back.
        crossed = scope is Scope.TRANSITION and (
            (end is not None and end.year > 2025) or any(e.timestamp.year >= 2025 for e in events)
        )
        left_over = any(w.startswith("2025-01-01 allocation:") for w in exact.warnings)
        assert unsupported or left_over or (crossed and method in (Method.HIFO, Method.LOFO)), (
            "the fast fold fell back on a ledger it supports"
        )
        event("fell back")
        fast = run_engine(events, profile, None, options)
    else:
        event("fast fold")
    assert_same(fast, exact)
    if exact.disposals or exact.expenses:
        last = max(d.disposed_at.year for d in exact.disposals) if exact.disposals else 2024
        assert _documents(fast, profile, options, last) == _documents(exact, profile, options, last)
        # One year's report with the earlier years summarized per box by the fast fold.
        summarized = fast_fold(events, profile, None, replace(options, summarize_before=last))
        if summarized is not None:
            assert {d.disposed_at.year for d in summarized.disposals} <= {last}
            with decimal_context():
                one = build_report(summarized, last, profile, options)
                reference = build_reports(exact, last, profile, options)[last]
            assert json.dumps(to_document(one)) == json.dumps(to_document(reference))


def test_fast_fold_runs_the_ordinary_ledger_and_falls_back_on_missing_basis() -> None:
    """A deposit without basis that is sold needs the Decimal fold's error; one never sold does not."""
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    deposit = LedgerEvent(id="d", timestamp=moment, kind=EventKind.DEPOSIT, wallet="nano", asset="BTC",
                          amount=Decimal("1"))
    buy = LedgerEvent(id="b", timestamp=moment + timedelta(days=1), kind=EventKind.BUY, wallet="nano",
                      asset="ETH", amount=Decimal("2"), counter_asset="USD", counter_amount=Decimal("4000"))
    sell = LedgerEvent(id="s", timestamp=moment + timedelta(days=2), kind=EventKind.SELL, wallet="nano",
                       asset="BTC", amount=Decimal("0.5"), counter_asset="USD", counter_amount=Decimal("30000"))
    options = RunOptions()
    kept = fast_fold([deposit, buy], PROFILE, None, options)
    assert kept is not None
    assert_same(kept, run_decimal_fold([deposit, buy], PROFILE, None, options))
    assert fast_fold([deposit, buy, sell], PROFILE, None, options) is None
    with pytest.raises(Exception, match="no cost basis"):
        run_engine([deposit, buy, sell], PROFILE, None, options)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_quantity_text_is_plain(value: Decimal) -> None:
    """The document's quick writer of quantities gives ``plain``'s text for every decimal."""
    from marginbook.domain.numbers import plain
    from marginbook.tax.document import quantity_text

    with decimal_context():
        assert quantity_text(value) == plain(value)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**30), max_value=10**30, places=25))
def test_to_cents_is_cents(value: Decimal) -> None:
    """The rows' and the document's quick rounding to the cent is ``cents``, digit for digit."""
    from marginbook.domain.numbers import cents
    from marginbook.tax.form8949 import to_cents

    assert str(to_cents(value)) == str(cents(value))
