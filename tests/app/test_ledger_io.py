"""Importing files: one transaction over all files, every problem reported, order kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from marginbook.app.ledger_io import day_range, import_files, parse_day
from marginbook.domain.errors import InputError
from marginbook.ledger import LedgerStore, open_store

HEADER = "id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount\n"


@pytest.fixture
def store(tmp_path: Path) -> LedgerStore:
    opened = open_store(f"sqlite:///{tmp_path}/ledger.db")
    yield opened  # type: ignore[misc]
    opened.close()


def write(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_bad_row_in_the_second_file_writes_nothing_from_the_first(store: LedgerStore, tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", "g1,2025-01-01T00:00:00Z,buy,kraken,BTC,1,USD,30000")
    bad = write(tmp_path / "bad.csv", "b1,2025-01-02T00:00:00Z,buy,kraken,BTC,1,USD,30000",
                "b2,2025-01-03T00:00:00Z,sell,kraken,BTC,1e3,USD,1")
    with pytest.raises(InputError) as caught:
        import_files(store, [good, bad])
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}:3: amount: not a plain decimal number: '1e3'"
    ]
    assert store.count() == 0


def test_problems_of_every_file_are_reported_together(store: LedgerStore, tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", "a1,2025-01-01T00:00:00Z,buy,kraken,BTC,1,,")
    second = write(tmp_path / "b.csv", "b1,2025-01-01,lend,kraken,BTC,1,,")
    with pytest.raises(InputError) as caught:
        import_files(store, [first, second, tmp_path / "missing.csv"])
    assert [(p.source, p.row, p.field) for p in caught.value.problems] == [
        (str(first), 2, "counter_asset"), (str(second), 2, "type"), (str(tmp_path / "missing.csv"), None, ""),
    ]


def test_an_id_conflict_between_two_files_writes_nothing(store: LedgerStore, tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "x,2025-01-01T00:00:00Z,buy,kraken,BTC,1,USD,30000")
    b = write(tmp_path / "b.csv", "y,2025-01-01T00:00:00Z,buy,kraken,BTC,2,USD,60000",
              "x,2025-01-01T00:00:00Z,buy,kraken,BTC,1,USD,31000")
    with pytest.raises(InputError) as caught:
        import_files(store, [a, b])
    assert [(p.source, p.row, p.field) for p in caught.value.problems] == [(str(b), 3, "id")]
    assert store.count() == 0


def test_reimport_is_idempotent_and_counts_per_file(store: LedgerStore, tmp_path: Path) -> None:
    # Rows without ids get the codec's stable hash id, so the same file adds nothing twice.
    path = tmp_path / "noid.csv"
    path.write_text("timestamp,type,wallet,asset,amount\n2025-01-01,income,kraken,ETH,0.01\n"
                    "2025-01-01,income,kraken,ETH,0.01\n", encoding="utf-8")
    first = import_files(store, [path])
    again = import_files(store, [path])
    assert (first.added, first.unchanged) == (2, 0)
    assert (again.added, again.unchanged) == (0, 2)
    assert [(f.format_name, f.events) for f in again.files] == [("marginbook", 2)]


def test_ties_keep_the_order_of_files_then_rows(store: LedgerStore, tmp_path: Path) -> None:
    later = write(tmp_path / "1.csv", "z,2025-01-01T12:00:00Z,buy,kraken,BTC,1,USD,1",
                  "a,2025-01-01T12:00:00Z,buy,kraken,BTC,1,USD,2")
    sooner = write(tmp_path / "2.csv", "m,2025-01-01T12:00:00Z,buy,kraken,BTC,1,USD,3",
                   "b,2025-01-01T11:00:00Z,buy,kraken,BTC,1,USD,4")
    import_files(store, [later, sooner])
    assert [e.id for e in store.events()] == ["b", "z", "a", "m"]


def test_progress_is_reported_per_file(store: LedgerStore, tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", *(f"e{i},2025-01-01T00:00:0{i}Z,buy,kraken,BTC,1,USD,1" for i in range(3)))
    calls: list[tuple[str, int, int]] = []
    import_files(store, [path], progress=lambda p, done, total: calls.append((p.name, done, total)))
    assert calls[0] == ("a.csv", 0, 3) and calls[-1] == ("a.csv", 3, 3)


def test_days_cover_whole_utc_days() -> None:
    start, end = day_range(parse_day("2025-01-01", "--from"), parse_day("2025-01-31", "--to"))
    assert (start.isoformat(), end.isoformat()) == ("2025-01-01T00:00:00+00:00", "2025-02-01T00:00:00+00:00")
    with pytest.raises(InputError, match="--to: is before --from"):
        day_range(parse_day("2025-02-01", "--from"), parse_day("2025-01-31", "--to"))
    with pytest.raises(InputError, match="--from: expected a date"):
        parse_day("01/02/2025", "--from")
