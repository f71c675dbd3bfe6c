"""The JSON text written directly (``document_json``) against ``json.dumps(to_document(...))``.

``marginbook tax --format json`` writes its rows without building their dicts; the file
must stay byte for byte what ``json.dumps`` gives. These tests compare both on random rows
(quotes, backslashes, non-ASCII names, warnings, one and several lots, unknown acquisition
times, fixed-term kinds) and on whole reports of synthetic and hand-made ledgers.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.domain.events import format_timestamp
from marginbook.domain.numbers import decimal_context
from marginbook.tax.book import Scope
from marginbook.tax.document import _ts, row_document, timestamp_text, to_document
from marginbook.tax.document_json import RowWriter, write_document_json
from marginbook.tax.engine import RunOptions
from marginbook.tax.form8949 import Form8949Row, RowLot
from marginbook.tax.holding import Term
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile
from marginbook.tax.report import TaxReport, compute_tax_report
from tests.tax.ledger_text import profile, report
from tests.tax.synthetic import synthetic_ledger

_text = st.text(alphabet=st.sampled_from(['a', 'Z', '0', ' ', '"', "\\", "/", "\n", "\t", "\x00", "é", "€", "😀"]))
_cents = st.builds(
    lambda units, places: Decimal(units).scaleb(-2) if places is None else Decimal(units).scaleb(-places),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from([None, None, 0, 2, 8]),
)
_quantity = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(min_value=0, max_value=10**20),
    st.integers(min_value=-3, max_value=24),
)
_moment = st.one_of(
    st.none(),
    st.builds(
        lambda seconds, micro, offset: (datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds))
        .replace(microsecond=micro)
        .astimezone(timezone(timedelta(hours=offset))),
        st.integers(min_value=0, max_value=10**8),
        st.sampled_from([0, 0, 500_000, 1]),
        st.sampled_from([0, 0, -5]),
    ),
)
_lot = st.builds(RowLot, _text, _quantity, _cents, _cents, _moment, st.booleans())
_day = st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def _row(draw: st.DrawFn) -> Form8949Row:
    lots = draw(st.lists(_lot, min_size=1, max_size=4))
    shared = len(lots) == 1 and draw(st.booleans())
    quantity = lots[0].quantity if shared else draw(_quantity)
    proceeds = lots[0].proceeds if shared else draw(_cents)
    basis = lots[0].cost_basis if shared else draw(_cents)
    return Form8949Row(
        draw(st.sampled_from("ABCDEFGHIJKL")),
        draw(st.sampled_from(list(Term))),
        draw(_text),
        draw(_text),
        quantity,
        draw(st.one_of(st.none(), _day)),
        draw(_day),
        proceeds,
        basis,
        draw(st.sampled_from(["", "M", 'Q"'])),
        draw(_cents),
        draw(_cents),
        draw(_text),
        draw(st.sampled_from(["sell", "fee", "realized_pnl", "funding", "spend\u00e9"])),
        tuple(lots),
        tuple(draw(st.lists(_text, max_size=3))),
    )


@settings(max_examples=500, deadline=None)
@given(st.lists(_row(), min_size=1, max_size=5))
def test_a_row_is_written_as_json_dumps_writes_its_document(rows: list[Form8949Row]) -> None:
    writer = RowWriter()  # one writer for several rows: what it remembers must not leak
    for row in rows:
        assert writer.row(row) == json.dumps(row_document(row))


def _same_file(tax_report: TaxReport) -> None:
    out = io.StringIO()
    write_document_json(tax_report, out)
    assert out.getvalue() == json.dumps(to_document(tax_report)) + "\n"


@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.parametrize("year", [2024, 2025])
def test_a_synthetic_years_file_is_json_dumps_of_its_document(scope: Scope, year: int) -> None:
    events = synthetic_ledger(3000, seed=7, windows=8)
    options = RunOptions(scope=scope, method=Method.HIFO)
    tax_report = compute_tax_report(events, year, _profile(), None, options)
    assert len(tax_report.rows) > 100 and len(tax_report.open_lots) > 100
    assert bool(tax_report.allocation) is (scope is Scope.TRANSITION and year == 2025)
    with decimal_context():
        _same_file(tax_report)


def _profile() -> Profile:
    """wallet1 a broker with gross-only 1099-DAs: its 2025 rows go to boxes H and K."""
    return profile('[wallets.wallet1]\ncustodial = true\nform_1099da = "gross_only"\n')


def test_a_hand_made_years_file_with_odd_names_is_json_dumps_of_its_document() -> None:
    """Non-ASCII and quoted names, realized PnL, a row with warnings, a carryover and holdings."""
    tax_report = report(
        '''
        id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,usd_value
        "b""1",2024-01-10T00:00:00Z,buy,"kraken ""main""",ETH,2,USD,4000,,,
        b2,2024-06-15T12:30:00.250Z,buy,cold wallet é,ETH,1,USD,3500,,,
        s1,2025-08-01T00:00:00Z,sell,"kraken ""main""",ETH,2.5,USD,1000,,,
        s2,2025-09-01T00:00:00Z,sell,cold wallet é,ETH,0.75,USD,900,,,
        ''',
        2025,
        """
        [wallets."kraken \\"main\\""]
        custodial = true
        form_1099da = "basis_reported"
        """,
        allow_missing_basis=True,
        scope=Scope.UNIVERSAL,
    )
    assert tax_report.rows and any(row.warnings for row in tax_report.rows)
    assert any(len(row.lots) > 1 for row in tax_report.rows)
    _same_file(tax_report)


_any_time = st.builds(
    lambda moment, micro, offset: moment.replace(microsecond=micro, tzinfo=offset),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from([0, 0, 1, 120_000]),
    st.sampled_from([UTC, UTC, timezone(timedelta(0)), timezone(timedelta(hours=3, minutes=30))]),
)


@settings(max_examples=500, deadline=None)
@given(_any_time)
def test_times_are_written_as_format_timestamp_writes_them(moment: datetime) -> None:
    assert timestamp_text(moment) == format_timestamp(moment)
    # A lot's time: format_timestamp when it has microseconds or is not at UTC, else ISO with Z.
    if moment.microsecond or moment.utcoffset():
        assert _ts(moment) == format_timestamp(moment)
    else:
        assert _ts(moment) == moment.replace(tzinfo=None).isoformat() + "Z"
