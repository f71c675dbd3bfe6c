"""The vectorised ledger CSV reader gives exactly the codec's rows, or declines.

It may decline any input (the codec then reads it); what it must never do is accept input
the codec rejects, or accept input with a different result. These tests compare the two
readers row for row on generated files that mix plain rows with every kind of irregularity.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marginbook.app import fast_ledger_csv
from marginbook.app.fast_ledger_csv import NotFastPath, iter_stored_rows
from marginbook.app.ledger_io import import_files
from marginbook.domain.errors import InputError
from marginbook.importers import ledger_csv
from marginbook.ledger import open_store
from marginbook.ledger.rows import StoredRow, event_to_row

HEADER = ("id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,fee_asset,fee_amount,"
          "usd_value,to_wallet,cost_basis_usd,acquired_at,position,opened_at,note")


def codec_rows(path: Path, wallet: str | None = None) -> list[StoredRow] | InputError:
    try:
        return [event_to_row(e) for e in ledger_csv.read(path, wallet=wallet)]
    except InputError as error:
        return error


def fast_rows(path: Path, wallet: str | None = None) -> list[StoredRow] | None:
    try:
        return [row for block in iter_stored_rows(path, wallet=wallet) for row in block]
    except NotFastPath:
        return None


PLAIN_ROWS = [
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,0.000000000000000001,USD,30000,USD,15,,,,,,,",
    "x-1,2025-03-01T14:05:00.250+02:00,sell,coinbase,ETH,0.50,USD,2000.00,USD,10,,,,,pos-1,,paper hands",
    ",2025-03-01,income,kraken,ETH,+007.5000,,,,,12.5,,,,,,staking reward",
    ",2024-12-31T23:59:59.999999-05:00,transfer,coinbase,BTC,.5,,,BTC,0.0001,,ledger-nano,,,,,",
    ",2025-01-02T00:00:00Z,realized_pnl,kraken,USD,-12.50,,,,,,,,,,2024-06-01T00:00:00Z,",
    ",2025-01-02T00:00:00Z,funding,kraken,USDT,0,,,,,,,,,,,",
    ",2025-01-02T00:00:00Z,deposit,kraken,BTC,1,,,,,,,1500.10,2019-05-05T10:00:00+01:00,,,",
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,1,USD,30000,USD,15,,,,,,,",  # repeats row 1: occurrence 1
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,0.000000000000000001,USD,30000,USD,15,,,,,,,",  # same as row 1
    "",  # a blank line still counts as a row
    " , ,,",  # so does a row of blank cells
    ",2025-03-01T14:05:00Z,liquidation,,BTC,0.1,USD,3000,USD,3,,,,,kr-1,,note with  spaces ",
    ",2025-03-01T14:05:00Z,interest,kraken,USD,2.00,,,,,,,,,kr-1,,東京 opening fee",
]

IRREGULAR_ROWS = [
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,1e-3,USD,30000,,,,,,,,,",  # exponent
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,1,USD,30,000,,,,,,,,,",  # thousands separator: extra cell
    ",2025-03-01T14:05:00Z,buy, kraken,BTC,1,USD,30000,,,,,,,,,",  # padded cell
    ',2025-03-01T14:05:00Z,buy,kraken,BTC,1,USD,30000,,,,,,,,,"quoted, note"',
    ",2025-02-30T14:05:00Z,buy,kraken,BTC,1,USD,30000,,,,,,,,,",  # no such day
    ",2025-03-01 14:05:00+00:00,buy,kraken,BTC,1,USD,30000,,,,,,,,,",  # space instead of T
    ",2024-12-31T23:59:60Z,buy,kraken,BTC,1,USD,30000,,,,,,,,,",  # a leap second (polars reads it)
    ",2025-03-01T14:05:00,buy,kraken,BTC,1,USD,30000,,,,,,,,,",  # no zone
    ",2025-03-01T14:05:00Z,sell,kraken,BTC,-1,USD,30000,,,,,,,,,",  # negative amount
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,0,USD,30000,,,,,,,,,",  # zero amount
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,1,,,,,,,,,,,",  # trade without counter
    ",2025-03-01T14:05:00Z,income,kraken,ETH,1,,,USD,,,,,,,,",  # half a fee
    ",2025-03-01T14:05:00Z,transfer,kraken,BTC,1,,,,,,kraken,,,,,",  # to itself
    ",2025-03-01T14:05:00Z,deposit,kraken,BTC,1,,,,,,cold,,,,,",  # to_wallet on a deposit
    ",2025-03-01T14:05:00Z,lend,kraken,BTC,1,,,,,,,,,,,",  # unknown type
    ",2025-03-01T14:05:00Z,buy,kraken,,1,USD,1,,,,,,,,,",  # no asset
    "dup,2025-03-01T14:05:00Z,income,kraken,ETH,1,,,,,,,,,,,",
    "dup,2025-03-01T14:05:00Z,income,kraken,ETH,2,,,,,,,,,,,",  # same id, other content
    ",2025-03-01T14:05:00Z,buy,kraken,BTC,1,USD,30000,,,,,,,,,\r",  # stray carriage return
    ",0999-03-01T14:05:00Z,income,kraken,ETH,1,,,,,,,,,,,",  # a year Python writes unpadded
    ",2025-03-01T14:05:00Z,income,kraken,ETH,1" + "0" * 60 + ",,,,,,,,,,,",  # huge number
    ",2025-03-01T14:05:00Z,income,kraken,ETH,\u0662.5,,,,,,,,,,,",  # an Arabic-Indic digit
    ",\u0662025-03-01T14:05:00Z,income,kraken,ETH,1,,,,,,,,,,,",
    ",2025-03-01T14:05:00Z,income,kraken,ETH,1,,,,,,,,,,,",
]


@pytest.fixture(autouse=True)
def small_files_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_ledger_csv, "MIN_FILE_BYTES", 0)


def write(path: Path, rows: list[str], *, crlf: bool = False, bom: bool = False, header: str = HEADER) -> Path:
    end = "\r\n" if crlf else "\n"
    text = ("\ufeff" if bom else "") + header + end + "".join(row + end for row in rows)
    path.write_bytes(text.encode("utf-8"))
    return path


def test_plain_rows_give_the_codecs_rows_exactly(tmp_path: Path) -> None:
    path = write(tmp_path / "plain.csv", PLAIN_ROWS, crlf=True, bom=True)
    fast = fast_rows(path, wallet="default-wallet")
    assert fast is not None, "the fast path must take plain files"
    assert fast == codec_rows(path, wallet="default-wallet")
    assert len(fast) == len(PLAIN_ROWS) - 2  # the two blank rows are skipped


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.sampled_from(PLAIN_ROWS + IRREGULAR_ROWS), min_size=1, max_size=12),
    crlf=st.booleans(),
    wallet=st.sampled_from([None, "default-wallet"]),
)
def test_the_fast_path_never_disagrees_with_the_codec(
    tmp_path: Path, rows: list[str], crlf: bool, wallet: str | None
) -> None:
    path = write(tmp_path / "mixed.csv", rows, crlf=crlf)
    fast = fast_rows(path, wallet)
    if fast is not None:
        assert fast == codec_rows(path, wallet)


@pytest.mark.parametrize("header", [
    "timestamp,type,wallet,asset,amount,amount",  # duplicate column
    "timestamp,type,wallet,asset,amount,colour",  # unknown column
    "timestamp,type,wallet,asset",  # missing column
    "timestamp, type,wallet,asset,amount",  # padded name
])
def test_headers_that_need_the_codec_are_declined(tmp_path: Path, header: str) -> None:
    path = write(tmp_path / "h.csv", [], header=header)
    with pytest.raises(NotFastPath):
        list(iter_stored_rows(path))


@pytest.mark.parametrize("moment", ["2024-12-31T23:59:60Z", "2024-12-31T23:60:00Z", "2024-12-31T24:00:00Z"])
def test_times_python_refuses_are_left_to_the_codec(tmp_path: Path, moment: str) -> None:
    path = write(tmp_path / "t.csv", [f",{moment},income,kraken,ETH,1,,,,,,,,,,,"])
    assert fast_rows(path) is None
    error = codec_rows(path)
    assert isinstance(error, InputError) and "timestamp" in str(error)


def test_lot_picks_are_left_to_the_codec(tmp_path: Path) -> None:
    path = write(tmp_path / "lots.csv", [",2025-01-01,sell,k,BTC,1,USD,1,a:1"],
                 header="id,timestamp,type,wallet,asset,amount,counter_asset,counter_amount,lots")
    assert fast_rows(path) is None
    assert isinstance(codec_rows(path), list)


def test_a_bad_row_in_a_later_block_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_ledger_csv, "BLOCK_BYTES", 200)
    good = [f"e{i},2025-01-01T00:00:{i:02d}Z,income,kraken,ETH,1,,,,,,,,,,," for i in range(40)]
    path = write(tmp_path / "late.csv", [*good, ",2025-01-01T00:00:00Z,income,kraken,ETH,1.2.3,,,,,,,,,,,"])
    with open_store(f"sqlite:///{tmp_path}/l.db") as store:
        with pytest.raises(InputError) as caught:
            import_files(store, [path])
        assert str(caught.value) == f"{path}:42: amount: not a plain decimal number: '1.2.3'"
        assert store.count() == 0
        # The same file without the bad row goes through the fast path in blocks, whole.
        path = write(tmp_path / "late.csv", good)
        summary = import_files(store, [path])
        assert (summary.added, store.count()) == (40, 40)
        assert [e.origin.row for e in store.events()][:3] == [2, 3, 4]


def test_an_id_conflict_is_worded_by_the_codec(tmp_path: Path) -> None:
    rows = ["dup,2025-01-01T00:00:00Z,income,kraken,ETH,1,,,,,,,,,,,",
            "dup,2025-01-01T00:00:00Z,income,kraken,ETH,2,,,,,,,,,,,"]
    path = write(tmp_path / "dup.csv", rows)
    with open_store(f"sqlite:///{tmp_path}/l.db") as store:
        with pytest.raises(InputError) as caught:
            import_files(store, [path])
        assert str(caught.value) == f"{path}:3: id: id 'dup' is already used by row 2 with different content"
        assert store.count() == 0


def test_default_ids_count_identical_rows_across_blocks_as_the_codec_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The occurrence count of a repeated id-less row carries over from block to block; rows
    # with their own id (same content) in between do not count.
    monkeypatch.setattr(fast_ledger_csv, "BLOCK_BYTES", 150)
    same = ",2025-01-01T00:00:00Z,income,kraken,ETH,1,,,,,,,,,,,"
    other = ",2025-01-01T00:00:00Z,income,kraken,ETH,2,,,,,,,,,,,"
    given = "g{},2025-01-01T00:00:00Z,income,kraken,ETH,1,,,,,,,,,,,"
    rows = [row for k in range(3) for row in
            (same, other, given.format(2 * k), same, same, other, given.format(2 * k + 1), same)]
    path = write(tmp_path / "repeats.csv", rows)
    fast = fast_rows(path)
    assert fast is not None and fast == codec_rows(path)
    assert len({row[0] for row in fast}) == len(rows)


def test_a_repeated_id_is_left_to_the_codec_even_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_ledger_csv, "BLOCK_BYTES", 100)
    rows = [f"e{i},2025-01-01T00:00:{i:02d}Z,income,kraken,ETH,1,,,,,,,,,,," for i in range(10)]
    rows.append("e3,2025-01-01T00:00:03Z,income,kraken,ETH,2,,,,,,,,,,,")  # e3 again, other amount
    path = write(tmp_path / "again.csv", rows)
    assert fast_rows(path) is None
    error = codec_rows(path)
    assert isinstance(error, InputError) and "id 'e3' is already used by row 5" in str(error)


def stored_rows(url: str) -> list[tuple[object, ...]]:
    """Every stored column of every event, in ledger order (``seq`` left out)."""
    with open_store(url) as store, store.engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(
            "SELECT id, ts_us, kind, wallet, asset, amount, counter_asset, counter_amount, fee_asset, "
            "fee_amount, usd_value, to_wallet, cost_basis_usd, acquired_at_us, lots, position, "
            "opened_at_us, note, source, source_row, source_ref, fingerprint FROM events ORDER BY ts_us, seq"
        )]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.sampled_from(PLAIN_ROWS), min_size=1, max_size=30),
    block_bytes=st.sampled_from([120, 400, 1 << 20]),
)
def test_an_import_through_the_fast_path_stores_what_the_codec_path_stores(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, rows: list[str], block_bytes: int
) -> None:
    # The whole import: reader blocks -> ADBC scratch file -> attached copy, against the codec
    # and the row-wise store, compared column by column in the database.
    directory = tmp_path_factory.mktemp("both")
    path = write(directory / "in.csv", rows)
    monkeypatch.setattr(fast_ledger_csv, "BLOCK_BYTES", block_bytes)
    fast_url, codec_url = f"sqlite:///{directory}/fast.db", f"sqlite:///{directory}/codec.db"
    with open_store(fast_url) as store:
        fast = import_files(store, [path], wallet="w")
    monkeypatch.setattr(fast_ledger_csv, "MIN_FILE_BYTES", 1 << 40)
    with open_store(codec_url) as store:
        codec = import_files(store, [path], wallet="w")
    assert (fast.added, fast.unchanged) == (codec.added, codec.unchanged)
    assert stored_rows(fast_url) == stored_rows(codec_url)
    assert list(directory.glob(".marginbook-import-*")) == []


def test_the_fast_path_really_stages_through_adbc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from marginbook.ledger import arrow_stage

    filled: list[int] = []
    original = arrow_stage.ScratchStage.fill

    def spy(self: arrow_stage.ScratchStage, blocks: object) -> int:
        filled.append(count := original(self, blocks))  # type: ignore[arg-type]
        return count

    monkeypatch.setattr(arrow_stage.ScratchStage, "fill", spy)
    path = write(tmp_path / "plain.csv", PLAIN_ROWS)
    with open_store(f"sqlite:///{tmp_path}/l.db") as store:
        assert import_files(store, [path], wallet="w").added == len(PLAIN_ROWS) - 2  # 2 blank rows
        # A re-import is staged too, and joined against the ledger: all unchanged.
        assert import_files(store, [path], wallet="w").unchanged == len(PLAIN_ROWS) - 2
        assert store.count() == len(PLAIN_ROWS) - 2
    assert filled == [len(PLAIN_ROWS) - 2] * 2


def test_an_export_concatenated_with_its_source_is_left_to_the_codec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An export gives every row the default id that the same row without an id gets: one id
    # twice in one file, with the same content. The ledger-shaped scratch refuses the
    # repeat; the codec then reads the file and counts the second copy unchanged.
    source = write(tmp_path / "source.csv", PLAIN_ROWS)
    with open_store(f"sqlite:///{tmp_path}/a.db") as store:
        import_files(store, [source], wallet="w")
        exported = tmp_path / "export.csv"
        with exported.open("w", newline="", encoding="utf-8") as out:
            ledger_csv.write(store.events(), out)
    header, *lines = exported.read_bytes().decode("utf-8").split("\r\n")[:-1]
    without_ids = ["," + line.split(",", 1)[1] for line in lines]
    both = tmp_path / "both.csv"
    both.write_text("\n".join([header, *without_ids, *lines]) + "\n", encoding="utf-8")
    from marginbook.ledger import arrow_stage

    refused: list[Exception] = []
    original = arrow_stage.ScratchStage.fill

    def spy(self: arrow_stage.ScratchStage, blocks: object) -> int:
        try:
            return original(self, blocks)  # type: ignore[arg-type]
        except arrow_stage.RepeatedId as error:
            refused.append(error)
            raise

    monkeypatch.setattr(arrow_stage.ScratchStage, "fill", spy)
    with open_store(f"sqlite:///{tmp_path}/fast.db") as store:
        fast = import_files(store, [both], wallet="w")
    assert len(refused) == 1, "the fast path staged the file and the scratch refused the repeat"
    monkeypatch.setattr(fast_ledger_csv, "MIN_FILE_BYTES", 1 << 40)
    with open_store(f"sqlite:///{tmp_path}/codec.db") as store:
        codec = import_files(store, [both], wallet="w")
    assert (fast.added, fast.unchanged) == (codec.added, codec.unchanged)
    assert codec.unchanged == len(lines) - 1  # all but x-1, which has its own id
    assert stored_rows(f"sqlite:///{tmp_path}/fast.db") == stored_rows(f"sqlite:///{tmp_path}/codec.db")
    assert list(tmp_path.glob(".marginbook-import-*")) == []
