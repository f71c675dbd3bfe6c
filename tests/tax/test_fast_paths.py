"""Differential tests of the engine's fast paths against the straightforward ones.

Each fast path (earlier years' Schedule D from per-box sums instead of rows; the SQLite
store reader) must give exactly the figures of the path it replaces, so each is run
against it on random ledgers: any difference in a cent, a box or a carryover fails.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.domain.numbers import decimal_context
from marginbook.tax.book import Scope
from marginbook.tax.engine import RunOptions, run_engine
from marginbook.tax.methods import Method
from marginbook.tax.profile import Form1099DA, Profile, TaxpayerKind, WalletSettings, YearSettings
from marginbook.tax.report import TaxReport, build_report, build_reports
from tests.tax.test_properties import build_ledger, operation

#: Brokers with each 1099-DA status, so that 2025+ rows land in every box pair.
PROFILE = Profile(
    wallets={
        "kraken": WalletSettings(custodial=True, form_1099da=Form1099DA.GROSS_ONLY),
        "coinbase": WalletSettings(custodial=True, form_1099da=Form1099DA.BASIS_REPORTED),
    },
    years={2025: YearSettings(taxable_income=Decimal("1000"))},
)


def _figures(report: TaxReport) -> tuple[object, ...]:
    """Every figure a year passes on or prints outside its rows."""
    return (
        report.schedule_d,
        report.form_4952,
        report.schedule_c,
        report.carryover_in,
    )


def _spread(events: list[LedgerEvent], days: int) -> list[LedgerEvent]:
    """The same ledger with ``days`` more between consecutive events (to span several years)."""
    return [replace(e, timestamp=e.timestamp + timedelta(days=days * n)) for n, e in enumerate(events)]


@settings(max_examples=120, deadline=None)
@given(
    st.lists(operation, min_size=10, max_size=60),
    st.sampled_from(list(Scope)),
    st.sampled_from(list(Method)),
    st.sampled_from([0, 12, 25, 40]),
    st.booleans(),
)
def test_earlier_years_from_box_sums_give_the_same_forms_as_from_rows(
    ops: list, scope: Scope, method: Method, spread: int, trader: bool
) -> None:
    events = _spread(build_ledger(ops), spread)
    if not events:
        return
    profile = replace(PROFILE, kind=TaxpayerKind.TRADER) if trader else PROFILE
    options = RunOptions(scope=scope, method=method)
    result = run_engine(events, profile, None, options)
    last = events[-1].timestamp.year
    with decimal_context():
        full = build_reports(result, last, profile, options)
        fast = build_reports(result, last, profile, options, rows_from=last)
        only = build_report(result, last, profile, options)
    assert full.keys() == fast.keys()
    for year, report in full.items():
        assert _figures(fast[year]) == _figures(report), year
        # Same strings too: a figure printed as 1.0 instead of 1.00 would change the JSON.
        assert str(fast[year].schedule_d) == str(report.schedule_d), year
    assert fast[last].rows == full[last].rows
    assert only.rows == full[last].rows and _figures(only) == _figures(full[last])


def test_box_sums_cover_every_box_pair_and_a_carryover(tmp_path: Path) -> None:
    """A fixed multi-year ledger whose earlier years need boxes C, F, H and J and a carryover."""
    start = datetime(2023, 1, 10, tzinfo=UTC)
    rows = [
        ("b1", start, EventKind.BUY, "kraken", "2", "40000"),
        ("b2", start + timedelta(days=30), EventKind.BUY, "coinbase", "1", "20000"),
        ("s1", start + timedelta(days=200), EventKind.SELL, "kraken", "0.5", "5000"),
        ("s2", start + timedelta(days=500), EventKind.SELL, "kraken", "1", "30000"),
        ("s3", start + timedelta(days=760), EventKind.SELL, "coinbase", "0.75", "9000"),
        ("s4", start + timedelta(days=790), EventKind.SELL, "kraken", "0.5", "1000"),
        ("b3", start + timedelta(days=1100), EventKind.BUY, "nano", "1", "100"),
    ]
    events = [
        LedgerEvent(
            id=id_,
            timestamp=moment,
            kind=kind,
            wallet=wallet,
            asset="BTC",
            amount=Decimal(quantity),
            counter_asset="USD",
            counter_amount=Decimal(usd),
        )
        for id_, moment, kind, wallet, quantity, usd in rows
    ]
    options = RunOptions()
    result = run_engine(events, PROFILE, None, options)
    with decimal_context():
        full = build_reports(result, 2026, PROFILE, options)
        fast = build_reports(result, 2026, PROFILE, options, rows_from=2026)
    boxes = {row.box for report in full.values() for row in report.rows}
    assert {"C", "F", "J", "K"} <= boxes
    assert full[2025].schedule_d.carryover.short_term + full[2025].schedule_d.carryover.long_term > 0
    for year in full:
        assert _figures(fast[year]) == _figures(full[year])
        assert fast[year].rows == [] if year < 2026 else fast[year].rows == full[year].rows
