"""``marginbook tax --ledger`` through the vectorised reader and the columnar encoder.

Large plain ledger CSV files are read as stored rows (:mod:`marginbook.app.fast_ledger_csv`)
and given to the engine as columns (:mod:`marginbook.app.csv_columns`); every other input
goes to the codec as before. Both paths must give the same report: random ledgers
(:func:`tests.tax.synthetic.synthetic_ledger`, with rows the columns do not encode added, the
rows shuffled so that the files are not in time order) written by the ledger CSV writer are
taxed both ways and their JSON documents compared. The frame must be the one the SQLite
reader gives for the same ledger imported (one definition of the flags).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from marginbook.app import csv_columns, fast_ledger_csv
from marginbook.app.csv_columns import CsvColumns, CsvLedgerEvents, plain_ledger_events
from marginbook.app.ledger_io import import_files
from marginbook.app.stored_events import stored_events, tax_events_from_store
from marginbook.app.tax_year import TaxRequest, tax_ledger_files
from marginbook.domain.errors import InputError
from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.importers import ledger_csv
from marginbook.ledger import open_store
from marginbook.tax.book import Scope
from marginbook.tax.document import to_document
from marginbook.tax.fast import columnar
from marginbook.tax.methods import Method
from tests.tax.ledger_text import FakePrices
from tests.tax.synthetic import synthetic_ledger


@pytest.fixture(autouse=True)
def every_file_is_a_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files take the vectorised reader too (it needs 1 MiB otherwise)."""
    monkeypatch.setattr(fast_ledger_csv, "MIN_FILE_BYTES", 0)


def _ledger(count: int, seed: int) -> list[LedgerEvent]:
    """A synthetic ledger across 2025 with rows the columns do not encode: income with its
    value, USD interest, buys paying their fee in the coin, swaps against ETH; some at the
    time of another row (ties), all in random file order."""
    rng = random.Random(seed)
    events = synthetic_ledger(count, seed, windows=8, assets=("BTC", "ETH", "SOL"))
    extra: list[LedgerEvent] = []
    for n, event in enumerate(events):
        roll = rng.random()
        at = event.timestamp if rng.random() < 0.5 else event.timestamp + timedelta(seconds=rng.randrange(1, 900))
        common: dict[str, Any] = {"id": f"x{n}", "timestamp": at, "wallet": event.wallet}
        if roll < 0.04:
            extra.append(LedgerEvent(kind=EventKind.INCOME, asset="ETH", amount=Decimal("0.25"),
                                     usd_value=Decimal(500 + n), note="staking reward", **common))
        elif roll < 0.06:
            extra.append(LedgerEvent(kind=EventKind.INTEREST, asset="USD", amount=Decimal(f"{n % 7 + 1}.25"),
                                     position=f"pos-{n % 3}", **common))
        elif roll < 0.08:
            extra.append(LedgerEvent(kind=EventKind.BUY, asset="SOL", amount=Decimal("3.5"), counter_asset="USD",
                                     counter_amount=Decimal(450 + n), fee_asset="SOL", fee_amount=Decimal("0.01"),
                                     **common))
        elif roll < 0.09:
            extra.append(LedgerEvent(kind=EventKind.BUY, asset="SOL", amount=Decimal("2"), counter_asset="ETH",
                                     counter_amount=Decimal("0.1"), usd_value=Decimal(300 + n), **common))
    # The swaps give ETH: some ETH first, in every wallet.
    first = min(event.timestamp for event in events) - timedelta(days=1)
    seed_eth = [
        LedgerEvent(id=f"eth-{wallet}", timestamp=first, kind=EventKind.BUY, wallet=wallet, asset="ETH",
                    amount=Decimal(50), counter_asset="USD", counter_amount=Decimal(100_000))
        for wallet in sorted({event.wallet for event in events})
    ]
    rows = [*seed_eth, *events, *extra]
    rng.shuffle(rows)
    return rows


def _write(path: Path, events: list[LedgerEvent], *, ids: bool = True) -> Path:
    """The ledger CSV writer's file (ids blanked when ``ids`` is false: default ids then)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        ledger_csv.write(events, out)
    if not ids:
        lines = _lines(path)
        _rewrite(path, [lines[0], *("," + line.partition(",")[2] if line else line for line in lines[1:])])
    return path


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8").split("\r\n")


def _rewrite(path: Path, lines: list[str]) -> None:
    path.write_bytes("\r\n".join(lines).encode("utf-8"))


class _Spy:
    """Counts the columnar runs and the rows read back as events."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.columnar = 0
        self.read_back = 0
        encode_columns = columnar.encode_columns
        events = CsvColumns.events

        def counted_encode(*args: Any) -> Any:
            found = encode_columns(*args)
            self.columnar += found is not None
            return found

        def counted_events(columns: CsvColumns, seqs: Any) -> Any:
            self.read_back += len(seqs)
            return events(columns, seqs)

        monkeypatch.setattr(columnar, "encode_columns", counted_encode)
        monkeypatch.setattr(CsvColumns, "events", counted_events)


def _documents(paths: list[Path], request: TaxRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The JSON documents of both paths: the vectorised reader's, then the codec's."""
    assert isinstance(plain_ledger_events(paths), CsvLedgerEvents)
    fast = to_document(tax_ledger_files(paths, request, FakePrices()))
    with monkeypatch.context() as patched:
        patched.setattr(csv_columns, "plain_ledger_events", lambda paths: None)
        codec = to_document(tax_ledger_files(paths, request, FakePrices()))
    return fast, codec


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("scope", "method", "year"),
    [
        (Scope.TRANSITION, None, 2025),
        (Scope.TRANSITION, None, 2024),
        (Scope.TRANSITION, Method.LIFO, 2025),
        (Scope.TRANSITION, Method.HIFO, 2025),
        (Scope.UNIVERSAL, Method.HIFO, 2025),
        (Scope.WALLET, None, 2025),
    ],
)
def test_plain_ledgers_give_the_codecs_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, scope: Scope, method: Method | None, year: int
) -> None:
    events = _ledger(600, seed)
    path = _write(tmp_path / "ledger.csv", events, ids=seed != 2)
    request = TaxRequest(year=year, scope=scope, method=method)
    spy = _Spy(monkeypatch)
    fast, codec = _documents([path], request, monkeypatch)
    assert fast == codec
    assert fast["form_8949"]
    if not (method is Method.HIFO and scope is Scope.TRANSITION):
        # The columns were used, and the rows they do not encode were read back as events.
        assert spy.columnar == 1 and spy.read_back > 0


def test_a_run_the_fast_fold_refuses_folds_the_iterated_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing basis allowed and needed: the Decimal fold reads the events one by one, in the
    codec path's order."""
    events = [event for event in _ledger(400, 7) if not event.id.startswith("eth-")]
    path = _write(tmp_path / "ledger.csv", events)
    request = TaxRequest(year=2025, allow_missing_basis=True)
    fast, codec = _documents([path], request, monkeypatch)
    assert fast == codec
    plain = plain_ledger_events([path])
    assert plain is not None
    codec_order = sorted(ledger_csv.read(path), key=lambda event: event.timestamp)
    assert [(e.id, e.origin) for e in plain] == [(e.id, e.origin) for e in codec_order]


@pytest.mark.parametrize("reverse", [False, True])
def test_two_files_with_interleaved_times_are_taxed_in_the_codecs_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reverse: bool
) -> None:
    """Rows of two files at the same times: ties in the order the files are given."""
    events = sorted(_ledger(500, 11), key=lambda event: event.timestamp)
    first = [replace(event, id=f"a-{event.id}") for event in events[::2]]
    # The second file's rows at the first file's times (and the same coins), as a second venue.
    second = [replace(event, id=f"b-{event.id}", timestamp=first[n % len(first)].timestamp)
              for n, event in enumerate(events[1::2])]
    paths = [_write(tmp_path / "a.csv", first), _write(tmp_path / "b.csv", second)]
    if reverse:
        paths.reverse()
    request = TaxRequest(year=2025, allow_missing_basis=True)
    fast, codec = _documents(paths, request, monkeypatch)
    assert fast == codec
    plain = plain_ledger_events(paths)
    assert plain is not None
    codec_order = sorted((e for path in paths for e in ledger_csv.read(path)), key=lambda event: event.timestamp)
    assert [e.id for e in plain] == [e.id for e in codec_order]
    frame = plain.columns().frame
    assert frame["id"].to_list() == [e.id for e in codec_order]


def test_the_frame_is_the_sqlite_readers_frame_for_the_same_ledger(tmp_path: Path) -> None:
    """One definition of the flags: the ledger imported into SQLite (the import's own
    vectorised path) and read by the SQLite reader gives the same frame, and the same events."""
    events = _ledger(800, 5)
    paths = [_write(tmp_path / "a.csv", events[:500]), _write(tmp_path / "b.csv", events[500:], ids=False)]
    plain = plain_ledger_events(paths)
    assert plain is not None
    from_csv = plain.columns().frame
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        import_files(store, paths)
        read = tax_events_from_store(store, None)
        from_sqlite = read.columns().frame  # type: ignore[attr-defined]
        stored = list(stored_events(store))
    assert from_csv.schema == from_sqlite.schema
    assert from_csv.drop("seq").equals(from_sqlite.drop("seq"))
    # ``seq``: the position in the files, where the database numbers the rows as imported.
    assert (from_sqlite["seq"] - from_sqlite["seq"].min()).equals(from_csv["seq"])
    assert len(set(from_csv["flags"].to_list())) >= 6  # many shapes of rows
    assert sum(event_id.startswith("h") for event_id in from_csv["id"].to_list()) == len(events) - 500  # b's default ids
    assert list(plain) == stored
    seqs = from_csv["seq"].to_list()[::37]
    assert plain.columns().events(seqs) == [stored[from_csv["seq"].to_list().index(s)] for s in seqs]


def test_bad_input_is_reported_by_the_codec(tmp_path: Path) -> None:
    """A bad row sends the files to the codec, which names the file, the row and the field."""
    good = _write(tmp_path / "good.csv", _ledger(200, 3))
    bad = _write(tmp_path / "bad.csv", _ledger(200, 4))
    lines = _lines(bad)
    cells = lines[5].split(",")
    cells[5] = "1e-3"  # amount with an exponent
    lines[5] = ",".join(cells)
    _rewrite(bad, lines)
    assert plain_ledger_events([good, bad]) is None
    with pytest.raises(InputError) as raised:
        tax_ledger_files([good, bad], TaxRequest(year=2025), FakePrices())
    assert f"{bad}:6: amount" in str(raised.value)


def test_a_quoted_cell_or_a_small_file_goes_to_the_codec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _ledger(200, 9)
    quoted = [replace(events[0], note="a, b"), *events[1:]]
    path = _write(tmp_path / "quoted.csv", quoted)
    assert plain_ledger_events([path]) is None
    monkeypatch.setattr(fast_ledger_csv, "MIN_FILE_BYTES", 1 << 20)
    plain = _write(tmp_path / "plain.csv", events)
    assert plain.stat().st_size < 1 << 20 and plain_ledger_events([plain]) is None
    report = to_document(tax_ledger_files([path], TaxRequest(year=2025), FakePrices()))
    assert report["form_8949"]


def test_the_events_are_read_back_by_seq(tmp_path: Path) -> None:
    events = sorted(_ledger(100, 13), key=lambda event: event.timestamp)
    plain = plain_ledger_events([_write(tmp_path / "ledger.csv", events)])
    assert plain is not None and len(plain) == len(events)
    read = plain.columns().events([3, 0, 3])
    assert [event.id for event in read] == [events[3].id, events[0].id, events[3].id]
    assert read[1].timestamp == events[0].timestamp and isinstance(read[1].timestamp, datetime)
