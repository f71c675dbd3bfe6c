"""The event store keeps every event exactly, adds batches atomically and reads in ledger order.

Each test runs on SQLite and on PostgreSQL (see ``conftest.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from marginbook.domain.errors import InputError
from marginbook.domain.events import LedgerEvent, LotPick, Origin
from marginbook.ledger import AddResult, LedgerStore
from marginbook.ledger import store as store_module
from marginbook.ledger.schema import events as events_table
from tests.ledger.builders import event

TINY = Decimal("0.000000000000000001")
HUGE = Decimal("123456789012345678901234.123456789012345678")


def test_eighteen_decimal_places_read_back_exactly(store: LedgerStore) -> None:
    original = event(
        "tiny", kind="buy", amount=TINY, counter_amount=HUGE, fee_asset="BTC", fee_amount=TINY,
        usd_value=Decimal("0.000000000000000009"),
    )
    store.add_events([original])
    (read,) = store.events()
    assert read.amount == TINY and str(read.amount) == "1E-18"
    assert read.counter_amount == HUGE
    assert read.fee_amount == TINY
    assert read.usd_value == Decimal("0.000000000000000009")
    with store.engine.connect() as connection:
        stored = connection.execute(select(events_table.c.amount, events_table.c.counter_amount)).one()
    assert tuple(stored) == ("0.000000000000000001", "123456789012345678901234.123456789012345678")


def test_every_field_and_the_origin_survive(store: LedgerStore) -> None:
    full = LedgerEvent(
        id="dep-1",
        timestamp=datetime(2025, 3, 1, 14, 5, 0, 123456, tzinfo=UTC),
        kind="deposit",  # type: ignore[arg-type]
        wallet="ledger-nano",
        asset="ETH",
        amount=Decimal("2.5"),
        fee_asset="ETH",
        fee_amount=Decimal("0.0021"),
        usd_value=Decimal("8000.10"),
        cost_basis_usd=Decimal("3100.55"),
        acquired_at=datetime(2021, 5, 1, 9, 30, 0, 1, tzinfo=UTC),
        lots=(LotPick("buy;1:x", Decimal("1.25")), LotPick("buy-2", Decimal("0.5"))),
        position="pos-7",
        opened_at=datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
        note='bought on "paper", 東京',
        origin=Origin("exports/kraken.csv", 17, "TXID-9"),
    )
    store.add_events([full])
    (read,) = store.events()
    assert read == full
    assert read.origin == full.origin
    assert read.acquired_at is not None and read.acquired_at.microsecond == 1
    assert read.timestamp.tzinfo is not None and read.timestamp.utcoffset() == full.timestamp.utcoffset()


def test_adding_the_same_events_again_changes_nothing(store: LedgerStore) -> None:
    batch = [event(f"e{i}", amount=Decimal(i + 1)) for i in range(5)]
    assert store.add_events(batch) == AddResult(added=5, unchanged=0)
    again = [event(f"e{i}", amount=Decimal(i + 1), source="elsewhere.csv", row=i + 2) for i in range(5)]
    assert store.add_events(again) == AddResult(added=0, unchanged=5)
    assert store.count() == 5
    # The first import's origin is kept: a figure stays traceable to the rows that made it.
    assert {e.origin.source for e in store.events()} == {"test.csv"}


def test_a_conflicting_id_writes_nothing_of_the_batch(store: LedgerStore) -> None:
    store.add_events([event("known", amount=Decimal("1"))])
    batch = [
        event("new-1", row=2),
        event("known", amount=Decimal("2"), source="b.csv", row=3),
        event("new-2", row=4),
    ]
    with pytest.raises(InputError) as caught:
        store.add_events(batch)
    (problem,) = caught.value.problems
    assert (problem.source, problem.row, problem.field) == ("b.csv", 3, "id")
    assert "'known'" in problem.problem and "amount" in problem.problem
    assert str(caught.value).startswith("b.csv:3: id: ")
    assert [e.id for e in store.events()] == ["known"]


def test_repeated_id_with_other_content_inside_one_batch_is_a_conflict(store: LedgerStore) -> None:
    batch = [event("dup", row=2), event("ok", row=3), event("dup", row=4, wallet="coinbase")]
    with pytest.raises(InputError) as caught:
        store.add_events(batch)
    assert [(p.row, p.field) for p in caught.value.problems] == [(4, "id")]
    assert "wallet" in caught.value.problems[0].problem
    assert store.count() == 0


def test_repeated_identical_event_inside_one_batch_counts_once(store: LedgerStore) -> None:
    assert store.add_events([event("same"), event("same")]) == AddResult(added=1, unchanged=1)


def test_conflicts_across_chunks_are_all_reported(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "CHUNK_SIZE", 3)
    store.add_events([event("old-a"), event("old-b")])
    batch = [event(f"n{i}", row=i + 2) for i in range(7)]
    batch.insert(5, event("n1", row=90, asset="ETH"))  # clashes with a row of the first chunk
    batch.append(event("old-b", row=91, amount=Decimal("9")))  # clashes with the ledger
    batch.append(event("old-a", row=92))  # identical: fine
    with pytest.raises(InputError) as caught:
        store.add_events(batch)
    assert [p.row for p in caught.value.problems] == [90, 91]
    assert store.count() == 2


def test_reimport_across_chunks_counts_each_event_once(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "CHUNK_SIZE", 4)
    first = [event(f"x{i}") for i in range(6)]
    store.add_events(first)
    mixed = [event(f"x{i}") for i in range(3, 10)]  # 3 known, 4 new, spread over two chunks
    assert store.add_events(mixed) == AddResult(added=4, unchanged=3)
    assert store.count() == 10


def test_an_error_inside_a_writer_block_rolls_back_every_source(store: LedgerStore) -> None:
    with pytest.raises(RuntimeError), store.writer() as writer:
        writer.add([event("from-file-1")])
        writer.add([event("from-file-2")])
        raise RuntimeError("the third file could not be read")
    assert store.count() == 0


def test_ties_keep_import_order_and_time_comes_first(store: LedgerStore) -> None:
    noon = "2025-06-01T12:00:00Z"
    store.add_events([event("z-first", noon), event("a-second", noon)])
    store.add_events([event("m-third", noon), event("earlier", "2025-06-01T11:59:59.999999Z")])
    assert [e.id for e in store.events()] == ["earlier", "z-first", "a-second", "m-third"]


def test_wallet_filter_includes_transfers_into_the_wallet(store: LedgerStore) -> None:
    store.add_events([
        event("buy", wallet="coinbase"),
        event("move", kind="transfer", wallet="coinbase", to_wallet="ledger-nano"),
        event("stake", kind="income", wallet="kraken", asset="ETH"),
    ])
    assert [e.id for e in store.events(wallet="ledger-nano")] == ["move"]
    assert [e.id for e in store.events(wallet="coinbase")] == ["buy", "move"]


def test_asset_filter_matches_every_side_of_an_event(store: LedgerStore) -> None:
    store.add_events([
        event("btc-for-usd", "2025-01-01T00:00:00Z"),
        event("eth-for-btc", "2025-01-02T00:00:00Z", asset="ETH",
              counter_asset="BTC", counter_amount=Decimal("0.05")),
        event("sol-fee-in-usd", "2025-01-03T00:00:00Z", kind="income", asset="SOL",
              fee_asset="USD", fee_amount=Decimal("1")),
    ])
    assert [e.id for e in store.events(asset="BTC")] == ["btc-for-usd", "eth-for-btc"]
    assert [e.id for e in store.events(asset="USD")] == ["btc-for-usd", "sol-fee-in-usd"]


def test_time_filter_includes_start_and_excludes_end(store: LedgerStore) -> None:
    store.add_events([event(f"d{day}", f"2025-01-0{day}T00:00:00Z") for day in range(1, 6)])
    start, end = datetime(2025, 1, 2, tzinfo=UTC), datetime(2025, 1, 4, tzinfo=UTC)
    assert [e.id for e in store.events(start=start, end=end)] == ["d2", "d3"]


def test_a_time_without_zone_is_refused(store: LedgerStore) -> None:
    with pytest.raises(ValueError, match="time zone"):
        store.events(start=datetime(2025, 1, 1))


def test_events_stream_past_one_fetch(store: LedgerStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "FETCH_SIZE", 7)
    store.add_events([event(f"s{i:03d}", f"2025-01-01T00:00:{i % 60:02d}Z") for i in range(50)])
    stream = store.events()
    first = next(stream)
    assert first.timestamp.second == 0
    rest = list(stream)
    assert len(rest) == 49
    assert [e.timestamp for e in [first, *rest]] == sorted(e.timestamp for e in [first, *rest])


def test_more_digits_than_any_decimal_context_are_still_exact(store: LedgerStore) -> None:
    # 80 significant digits: beyond the 60-digit context that arithmetic uses, so the
    # stored text must not pass through a rounding normalisation.
    long = Decimal("12345678901234567890123456789012345678901234567890123456789012.345678901234567891")
    store.add_events([event("long", kind="income", asset="ETH", amount=long)])
    (read,) = store.events()
    assert read.amount == long and str(read.amount) == str(long)
