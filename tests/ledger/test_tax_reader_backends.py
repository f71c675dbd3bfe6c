"""The tax engine's reader on each backend: columns from a SQLite file, events from PostgreSQL.

On SQLite the fast fold encodes from columns (:class:`marginbook.app.sqlite_columns.SqliteColumns`);
on PostgreSQL there are no columns and the events are read one by one as before. Both must
give the ``Decimal`` fold's records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from marginbook.app.sqlite_columns import SqliteColumns
from marginbook.app.stored_events import stored_events, tax_events_from_store
from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.ledger import LedgerStore
from marginbook.tax.engine import RunOptions, run_decimal_fold
from marginbook.tax.fast import fast_fold
from marginbook.tax.profile import Profile


def test_tax_reader_gives_the_decimal_folds_records_on_each_backend(store: LedgerStore) -> None:
    moment = datetime(2024, 11, 1, tzinfo=UTC)
    events = [
        LedgerEvent(id=f"b{n}", timestamp=moment + timedelta(days=n), kind=EventKind.BUY, wallet=f"w{n % 2}",
                    asset="BTC", amount=Decimal("0.5"), counter_asset="USD", counter_amount=Decimal(30000 + n),
                    fee_asset="USD", fee_amount=Decimal("1.25"))
        for n in range(6)
    ] + [
        LedgerEvent(id="t", timestamp=moment + timedelta(days=70), kind=EventKind.TRANSFER, wallet="w0",
                    asset="BTC", amount=Decimal("0.25"), to_wallet="w1"),
        LedgerEvent(id="s", timestamp=moment + timedelta(days=80), kind=EventKind.SELL, wallet="w1", asset="BTC",
                    amount=Decimal("0.75"), counter_asset="USD", counter_amount=Decimal("70000"),
                    fee_asset="BTC", fee_amount=Decimal("0.001")),
    ]
    store.add_events(events)
    read = tax_events_from_store(store, None)
    columns = read.columns()  # type: ignore[attr-defined]
    if store.engine.dialect.name == "sqlite":
        assert isinstance(columns, SqliteColumns)
    else:
        assert columns is None
    options = RunOptions()
    exact = run_decimal_fold(list(stored_events(store)), Profile(), None, options)
    fast = fast_fold(read, Profile(), None, options)
    assert fast is not None
    assert fast.disposals == exact.disposals
    assert fast.allocation == exact.allocation
    assert fast.warnings == exact.warnings
    assert [(w, lot.acquisition_id, lot.quantity, lot.basis) for w, lot in fast.open_lots] == [
        (w, lot.acquisition_id, lot.quantity, lot.basis) for w, lot in exact.open_lots
    ]
