"""Property: any valid event written to the ledger reads back equal, field by field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marginbook.domain.events import EventKind, LedgerEvent, LotPick, Origin
from marginbook.ledger import LedgerStore, open_store

_ids = count()

quantities = st.decimals(min_value=Decimal("0.000000000000000001"), max_value=Decimal("1e15"), places=18)
times = st.datetimes(
    min_value=datetime(2009, 1, 3), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.astimezone(UTC))
names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
maybe_names = st.none() | names


@st.composite
def ledger_events(draw: st.DrawFn) -> LedgerEvent:
    kinds = [EventKind.BUY, EventKind.INCOME, EventKind.REALIZED_PNL, EventKind.TRANSFER]
    kind = draw(st.sampled_from(kinds))
    amount = draw(quantities)
    if kind is EventKind.REALIZED_PNL and draw(st.booleans()):
        amount = -amount
    trade = kind is EventKind.BUY
    with_fee = draw(st.booleans())
    wallet = draw(names)
    return LedgerEvent(
        id=f"p{next(_ids)}",
        timestamp=draw(times),
        kind=kind,
        wallet=wallet,
        asset=draw(names),
        amount=amount,
        counter_asset="USD" if trade else None,
        counter_amount=draw(quantities) if trade else None,
        fee_asset="USD" if with_fee else None,
        fee_amount=draw(quantities) if with_fee else None,
        usd_value=draw(st.none() | quantities),
        to_wallet=wallet + "-cold" if kind is EventKind.TRANSFER else None,
        acquired_at=draw(st.none() | times),
        lots=tuple(draw(st.lists(st.builds(LotPick, names, quantities), max_size=3))),
        position=draw(maybe_names),
        opened_at=draw(st.none() | times.map(lambda t: t - timedelta(days=1))),
        note=draw(maybe_names),
        origin=Origin(draw(names), draw(st.none() | st.integers(2, 10**9)), draw(maybe_names)),
    )


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerStore]:
    path: Path = tmp_path_factory.mktemp("prop") / "ledger.db"
    with open_store(f"sqlite:///{path}") as store:
        yield store


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(ledger_events(), min_size=1, max_size=5))
def test_events_read_back_equal(sqlite_store: LedgerStore, batch: list[LedgerEvent]) -> None:
    sqlite_store.add_events(batch)
    wanted = {e.id: e for e in batch}
    found = {e.id: e for e in sqlite_store.events() if e.id in wanted}
    assert found == wanted
    assert {i: e.origin for i, e in found.items()} == {i: e.origin for i, e in wanted.items()}
    assert {i: e.fingerprint() for i, e in found.items()} == {i: e.fingerprint() for i, e in wanted.items()}
