"""The staged bulk paths keep every rule of the chunked path.

Each test runs on SQLite and on PostgreSQL (see ``conftest.py``): the set-based conflict
checks are SQL that must mean the same on both. And each runs twice: with the rows as
tuples (``EventWriter.add_rows_staged``) and as Arrow blocks (``add_blocks_staged``: on
SQLite staged by ADBC in an attached scratch file, on PostgreSQL row by row).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import inspect

from marginbook.domain.errors import InputError
from marginbook.domain.events import LedgerEvent
from marginbook.ledger import AddResult, LedgerStore, arrow_stage
from marginbook.ledger import store as store_module
from marginbook.ledger.rows import STORED_COLUMNS, event_to_row
from tests.ledger.builders import event

#: How ``add_staged`` hands rows to the writer: set per test by the ``mode`` fixture.
_MODE = {"blocks": False}
_INTEGERS = {"ts_us", "acquired_at_us", "opened_at_us", "source_row"}


@pytest.fixture(autouse=True, params=["rows", "blocks"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    _MODE["blocks"] = request.param == "blocks"
    yield request.param
    _MODE["blocks"] = False


def blocks_of(events: list[LedgerEvent], size: int = 2) -> list[pl.DataFrame]:
    """The events' stored rows as polars frames of ``size`` rows (several blocks per batch)."""
    schema: dict[str, Any] = {name: pl.Int64 if name in _INTEGERS else pl.String for name in STORED_COLUMNS}
    rows = [event_to_row(e) for e in events]
    return [pl.DataFrame(rows[i : i + size], schema=schema, orient="row") for i in range(0, len(rows), size)]


def add_staged(store: LedgerStore, events: list[LedgerEvent]) -> AddResult:
    with store.writer() as writer:
        if _MODE["blocks"]:
            return writer.add_blocks_staged(blocks_of(events))
        return writer.add_rows_staged(event_to_row(e) for e in events)


def staged_problems(store: LedgerStore, events: list[LedgerEvent]) -> list[str]:
    with pytest.raises(InputError) as caught:
        add_staged(store, events)
    return [str(p) for p in caught.value.problems]


def test_a_fresh_batch_is_added_in_batch_order_for_equal_times(store: LedgerStore) -> None:
    batch = [event(f"t{i}", "2025-01-01T00:00:00Z", row=i + 2) for i in range(5)]
    batch.insert(0, event("later", "2025-01-02T00:00:00Z", row=1))
    assert add_staged(store, batch) == AddResult(added=6, unchanged=0)
    assert [e.id for e in store.events()] == ["t0", "t1", "t2", "t3", "t4", "later"]
    assert [e.origin.row for e in store.events()][:2] == [2, 3]


def test_staged_rows_read_back_exactly(store: LedgerStore) -> None:
    tiny = event("tiny", amount=Decimal("0.000000000000000001"), note="a,b\n\"c\"")
    add_staged(store, [tiny])
    (read,) = store.events()
    assert read == tiny


def test_reimport_is_idempotent_and_mixed_batches_add_only_the_new(store: LedgerStore) -> None:
    first = [event(f"x{i}", row=i + 2) for i in range(6)]
    assert add_staged(store, first) == AddResult(added=6, unchanged=0)
    assert add_staged(store, first) == AddResult(added=0, unchanged=6)
    mixed = [event(f"x{i}", row=i + 2) for i in range(3, 10)]
    assert add_staged(store, mixed) == AddResult(added=4, unchanged=3)
    assert [e.id for e in store.events()] == [f"x{i}" for i in range(10)]


def test_a_repeated_identical_row_counts_once(store: LedgerStore) -> None:
    assert add_staged(store, [event("same"), event("other"), event("same")]) == AddResult(added=2, unchanged=1)
    assert store.count() == 2


def test_a_clash_with_the_ledger_names_source_row_and_id_and_writes_nothing(store: LedgerStore) -> None:
    add_staged(store, [event("known", amount=Decimal("1"), source="a.csv", row=7)])
    batch = [
        event("new-1", row=2),
        event("known", amount=Decimal("2"), source="b.csv", row=3),
        event("new-2", row=4),
    ]
    [problem] = staged_problems(store, batch)
    assert problem.startswith("b.csv:3: id: id 'known' is already in the ledger (from a.csv:7) with a different amount")
    assert [e.id for e in store.events()] == ["known"]


def test_a_clash_inside_the_batch_names_the_later_row(store: LedgerStore) -> None:
    batch = [event("dup", row=2), event("ok", row=3), event("dup", row=4, wallet="coinbase")]
    [problem] = staged_problems(store, batch)
    assert problem.startswith("test.csv:4: id: id 'dup' is already in the ledger (from test.csv:2)")
    assert "wallet" in problem
    assert store.count() == 0


def test_every_clash_is_reported_in_batch_order(store: LedgerStore) -> None:
    add_staged(store, [event("old-a"), event("old-b")])
    batch = [event(f"n{i}", row=i + 2) for i in range(7)]
    batch.insert(5, event("n1", row=90, asset="ETH"))  # clashes with an earlier row of the batch
    batch.append(event("old-b", row=91, amount=Decimal("9")))  # clashes with the ledger
    batch.append(event("old-a", row=92))  # identical: fine
    batch.insert(0, event("old-b", row=1, asset="SOL"))  # clashes with the ledger, first in order
    with pytest.raises(InputError) as caught:
        add_staged(store, batch)
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "id"), (90, "id"), (91, "id")]
    assert store.count() == 2


def test_a_failure_after_staging_rolls_everything_back(store: LedgerStore) -> None:
    with pytest.raises(RuntimeError), store.writer() as writer:
        writer.add_rows_staged(event_to_row(e) for e in [event("a"), event("b")])
        raise RuntimeError("the next file failed")
    assert store.count() == 0
    assert add_staged(store, [event("a")]) == AddResult(added=1, unchanged=0)  # the stage is gone


def test_two_staged_batches_in_one_transaction(store: LedgerStore) -> None:
    with store.writer() as writer:
        assert writer.add_rows_staged([event_to_row(event("a")), event_to_row(event("b"))]) == AddResult(2, 0)
        assert writer.add_rows_staged([event_to_row(event("b")), event_to_row(event("c"))]) == AddResult(1, 1)
    assert [e.id for e in store.events()] == ["a", "b", "c"]


def test_a_bulk_copy_rebuilds_the_ordered_index(store: LedgerStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BULK_ROWS", 4)
    batch = [event(f"b{i:02d}", f"2025-01-01T00:00:{59 - i:02d}Z") for i in range(20)]
    assert add_staged(store, batch) == AddResult(added=20, unchanged=0)
    with store.engine.connect() as connection:
        names = {index["name"] or "" for index in inspect(connection).get_indexes("events")}
    assert "ix_events_ts_seq" in names
    assert [e.id for e in store.events()] == [f"b{i:02d}" for i in reversed(range(20))]


def test_ids_repeated_in_the_batch_and_known_to_the_ledger(store: LedgerStore) -> None:
    add_staged(store, [event("it's", row=2)])
    batch = [event("it's", row=2), event("fresh", row=3), event("it's", row=4), event("fresh", row=5),
             event("fresh", row=6)]
    assert add_staged(store, batch) == AddResult(added=1, unchanged=4)
    assert [e.id for e in store.events()] == ["it's", "fresh"]
    clash = [event("fresh", row=7), event("it's", row=8, wallet="coinbase")]
    [problem] = staged_problems(store, clash)
    assert problem.startswith("test.csv:8: id: id \"it's\" is already in the ledger (from test.csv:2)")


def test_a_re_import_is_not_staged_by_executemany_and_gives_the_same_result(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from marginbook.ledger import staging

    first = [event(f"r{i}", row=i + 2) for i in range(6)]
    add_staged(store, first)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a re-import should not be staged")

    # Rows: the chunked path. Blocks: on SQLite the ADBC scratch (cheap enough to stage a
    # re-import), elsewhere the chunked path. Never an executemany staging table.
    monkeypatch.setattr(staging, "merge_staged", refuse)
    again = [*first, event("r-new", row=8)]
    assert add_staged(store, again) == AddResult(added=1, unchanged=6)
    clash = [*first, event("r0", row=9, amount=Decimal("5"))]
    [problem] = staged_problems(store, clash)
    assert problem.startswith("test.csv:9: id: id 'r0' is already in the ledger (from test.csv:2)")


def scratch_files(store: LedgerStore) -> list[Path]:
    database = store.url.database
    return [] if not database else sorted(Path(database).parent.glob(".marginbook-import-*"))


def attached(store: LedgerStore) -> list[str]:
    with store.engine.connect() as connection:
        return [row[1] for row in connection.exec_driver_sql("PRAGMA database_list")]


def test_blocks_are_staged_through_adbc_on_sqlite_and_leave_nothing_behind(store: LedgerStore) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the scratch file is SQLite's")
    tiny = event("tiny", amount=Decimal("0.000000000000000001"), note="東京, \\ \"x\"", row=2)
    batch = [tiny, *(event(f"e{i}", row=i + 3) for i in range(5))]
    with store.writer() as writer:
        assert writer.add_blocks_staged(blocks_of(batch)) == AddResult(6, 0)
        [scratch] = scratch_files(store)
        assert scratch.stat().st_size > 0
    assert scratch_files(store) == []
    assert not [name for name in attached(store) if name.startswith("mb_stage")]  # detached
    assert list(store.events()) == batch
    with store.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT amount, typeof(ts_us), fingerprint FROM events LIMIT 1").one()
    assert tuple(raw) == ("0.000000000000000001", "integer", event_to_row(tiny)[-1])


def test_a_failed_transaction_releases_the_scratch_too(store: LedgerStore) -> None:
    with pytest.raises(RuntimeError), store.writer() as writer:
        writer.add_blocks_staged(blocks_of([event("a"), event("b")]))
        raise RuntimeError("the next file failed")
    assert store.count() == 0
    assert scratch_files(store) == []
    with store.writer() as writer:  # the same pooled connection attaches afresh
        assert writer.add_blocks_staged(blocks_of([event("a")])) == AddResult(1, 0)
    assert store.count() == 1


def test_a_reader_error_while_staging_stops_the_ingest_thread(store: LedgerStore) -> None:
    def failing() -> Iterator[pl.DataFrame]:
        yield from blocks_of([event("a"), event("b"), event("c")], size=1)
        raise ValueError("block 4 is bad")

    with pytest.raises(ValueError, match="block 4"), store.writer() as writer:
        writer.add_blocks_staged(failing())
    assert store.count() == 0
    assert scratch_files(store) == []


def test_more_batches_than_scratch_slots_fall_back_to_rows(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arrow_stage, "MAX_SCRATCH", 1)
    with store.writer() as writer:
        assert writer.add_blocks_staged(blocks_of([event("a"), event("b")])) == AddResult(2, 0)
        assert writer.add_blocks_staged(blocks_of([event("b"), event("c")])) == AddResult(1, 1)
        assert writer.add_blocks_staged(blocks_of([event("d", amount=Decimal("3"))])) == AddResult(1, 0)
    assert [e.id for e in store.events()] == ["a", "b", "c", "d"]


def test_unique_blocks_are_copied_into_an_empty_ledger_whole(store: LedgerStore) -> None:
    # With unique ids promised, the SQLite scratch has the ledger's shape, and a first
    # import is copied with INSERT … SELECT *: seq must still follow the batch order.
    if store.engine.dialect.name == "sqlite":  # a broken promise is refused, not half-copied
        with pytest.raises(arrow_stage.RepeatedId), store.writer() as writer:
            writer.add_blocks_staged(blocks_of([event("x"), event("y"), event("x")]), unique_ids=True)
        assert store.count() == 0
        assert scratch_files(store) == []
    batch = [event(f"u{i}", "2025-01-01T00:00:00Z", row=i + 2) for i in range(7)]
    batch.insert(3, event("early", "2024-06-01T00:00:00Z", row=90))
    with store.writer() as writer:
        assert writer.add_blocks_staged(blocks_of(batch), unique_ids=True) == AddResult(8, 0)
    assert list(store.events()) == [batch[3], *batch[:3], *batch[4:]]
    more = [event("u0", "2025-01-01T00:00:00Z", row=2), event("late", "2025-01-01T00:00:00Z", row=50)]
    with store.writer() as writer:  # a ledger that is not empty: the ordinary copy
        assert writer.add_blocks_staged(blocks_of(more), unique_ids=True) == AddResult(1, 1)
    assert [e.id for e in store.events()][-2:] == ["u6", "late"]


def test_a_scratch_file_left_by_a_killed_import_is_deleted_by_the_next_import(
    store: LedgerStore,
) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the scratch file is SQLite's")
    folder = Path(str(store.url.database)).parent
    # A process that has exited: its id is free (it was waited for).
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(gone.stdout)
    left_over = folder / f"{arrow_stage.host_prefix()}{dead_pid}-abc123.sqlite"
    left_over.write_bytes(b"half a staging table")
    running = folder / f"{arrow_stage.host_prefix()}{os.getppid()}-def456.sqlite"  # a live process
    running.write_bytes(b"another import, still running")
    elsewhere = folder / f"{arrow_stage.host_prefix('other-host')}{dead_pid}-ghi789.sqlite"
    elsewhere.write_bytes(b"an import on another machine sharing this disk")
    with store.writer() as writer:
        assert writer.add_blocks_staged(blocks_of([event("a")])) == AddResult(1, 0)
    assert not left_over.exists()
    assert running.exists() and elsewhere.exists()
    assert store.count() == 1
    running.unlink()
    elsewhere.unlink()
