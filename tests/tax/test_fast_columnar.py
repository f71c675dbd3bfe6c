"""The columnar SQLite reader and encoder against the event encoder and the ``Decimal`` fold.

A ledger written to a SQLite file is read by the tax engine as columns
(:class:`marginbook.app.sqlite_columns.SqliteColumns`); :func:`encode_columns` encodes its
common rows vectorised and reads the others back as events. Random ledgers of every kind
(those of :mod:`tests.tax.test_fast_fold`, with some transfers made fee-less and plain so that
they take the vectorised path, USD rows, 18-decimal quantities, crypto fees, income,
transfers with fees, dates across the 2025 switch) must give the program the event encoder
writes for the same events, operation by operation, and the ``Decimal`` fold's records.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from marginbook.app.sqlite_columns import SqliteColumns
from marginbook.app.stored_events import stored_events, tax_events_from_store
from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.domain.numbers import decimal_context
from marginbook.ledger import open_store
from marginbook.tax.book import Scope, time_key
from marginbook.tax.engine import Fold, RunOptions, run_decimal_fold, run_engine
from marginbook.tax.fast import columnar as bits_of
from marginbook.tax.fast import fast_fold
from marginbook.tax.fast.columnar import encode_columns
from marginbook.tax.fast.encode import Program, encode
from marginbook.tax.methods import Method
from marginbook.tax.profile import TransferFeeTreatment
from tests.tax.test_fast_fold import PROFILE, START, assert_same, build, step

T = TypeVar("T")


def _ops(program: Program) -> list[tuple[object, ...]]:
    """Each operation by names and exact values (ids of wallets and assets may differ).

    A fact's quantity is compared only where it is read, to rank lots by unit cost (HIFO,
    LOFO): the columnar encoder leaves it zero otherwise.
    """
    ranked = program.method in (Method.HIFO, Method.LOFO)
    wallets = {number: name for name, number in program.wallets.items()}
    assets = {number: name for name, number in program.assets.items()}
    arrays = {name: column.tolist() for name, column in program.arrays.items()}
    found = []
    for index, meta in enumerate(program.meta):
        a = arrays["asset"][index]
        fact = arrays["acquisition"][index]
        found.append(
            (
                arrays["kind"][index],
                wallets.get(arrays["wallet"][index]),
                wallets.get(arrays["wallet2"][index]),
                assets.get(a),
                Decimal(arrays["quantity"][index]).scaleb(-program.scales[a] if a >= 0 else 0),
                arrays["key"][index],
                None if fact < 0 else program.facts[fact][:4 if ranked else 3],
                arrays["flag"][index],
                meta,
            )
        )
    return found


def _scales(program: Program) -> dict[str, int]:
    return {name: program.scales[number] for name, number in program.assets.items()}


def _ledger(steps: list, fine: bool, plain: list[bool], usd_rows: bool, later: int) -> list[LedgerEvent]:
    """``build``'s ledger ``later`` days later (closer to the 2025 switch), some transfers made
    plain (no fee, no value), USD rows added."""
    events = []
    flags = iter(plain * (len(steps) // max(len(plain), 1) + 1))
    for ledger_event in build(steps, fine):
        ledger_event = replace(ledger_event, timestamp=ledger_event.timestamp + timedelta(days=later))
        if ledger_event.kind is EventKind.TRANSFER and next(flags, False):
            ledger_event = replace(ledger_event, usd_value=None, fee_asset=None, fee_amount=None)
        events.append(ledger_event)
    if usd_rows and events:
        moment = events[0].timestamp
        events.insert(
            0,
            LedgerEvent(id="usd-in", timestamp=moment, kind=EventKind.DEPOSIT, wallet="kraken", asset="USD",
                        amount=Decimal("5000")),
        )
        later = events[len(events) // 2].timestamp
        events.insert(
            len(events) // 2 + 1,
            LedgerEvent(id="usd-buy", timestamp=later, kind=EventKind.BUY, wallet="kraken", asset="USD",
                        amount=Decimal("100"), counter_asset="USD", counter_amount=Decimal("100")),
        )
    return events


def _attempt(run: Callable[[], T]) -> tuple[T | None, Exception | None]:
    try:
        return run(), None
    except Exception as error:
        return None, error


def _store(directory: str, events: list[LedgerEvent]):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{Path(directory) / 'ledger.db'}")
    store.add_events(events)
    return store


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(
    st.lists(step, min_size=1, max_size=60),
    st.lists(st.booleans(), min_size=1, max_size=8),
    st.booleans(),
    st.booleans(),
    st.sampled_from(list(Scope)),
    st.sampled_from([None, None, *Method]),
    st.sampled_from([TransferFeeTreatment.DISPOSAL, TransferFeeTreatment.IGNORE]),
    st.sampled_from([None, 2025, 2026]),
    st.sampled_from([0, 150, 215]),
)
def test_columnar_program_and_records_equal_the_event_paths(
    steps: list, plain: list[bool], fine: bool, usd_rows: bool, scope: Scope, method: Method | None,
    transfer_fee: TransferFeeTreatment, end_year: int | None, later: int,
) -> None:
    events = _ledger(steps, fine, plain, usd_rows, later)
    profile = replace(PROFILE, transfer_fee=transfer_fee)
    end = None if end_year is None else datetime(end_year, 1, 1, tzinfo=UTC)
    options = RunOptions(scope=scope, method=method, end=end)
    with tempfile.TemporaryDirectory() as directory, _store(directory, events) as store:
        read = tax_events_from_store(store, end)
        columns = read.columns()  # type: ignore[attr-defined]
        assert isinstance(columns, SqliteColumns)
        stored = list(stored_events(store, end))
        # Every share of other rows (the encoder's cut-off would send most of these small
        # random ledgers to the event encoder).
        with decimal_context(), patch.object(bits_of, "MAX_OTHER_SHARE", 1.0):
            reference, refused = _attempt(lambda: encode(stored, Fold(profile, None, options)))
            columnar, failed = _attempt(lambda: encode_columns(columns, Fold(profile, None, options)))
        if failed is not None:
            # The event encoder stands aside the same way (fast_fold then returns None).
            assert refused is not None and type(failed) is type(refused), (failed, refused)
        elif columnar is None:
            hifo_across = method in (Method.HIFO, Method.LOFO) and scope is Scope.TRANSITION and end_year
            assert hifo_across or not stored
        else:
            assert refused is None, "the columnar encoder took a ledger the event encoder refuses"
        if columnar is not None and reference is not None:
            assert _ops(columnar[0]) == _ops(reference[0])
            assert _scales(columnar[0]) == _scales(reference[0])
            assert columnar[1].universal_2025 == reference[1].universal_2025
            assert columnar[1].income == reference[1].income
            assert columnar[1].expenses == reference[1].expenses
            notes = any(meta and meta[0] == "d" and meta[-1] for meta in columnar[0].meta)
            event("columnar program" + (", sales with identification notes" if notes else ""))
        try:
            exact = run_decimal_fold(stored, profile, None, options)
        except Exception as error:
            assert fast_fold(read, profile, None, options) is None
            with pytest.raises(type(error)) as raised:
                run_engine(read, profile, None, options)
            assert str(raised.value) == str(error)
            return
        fast = fast_fold(read, profile, None, options)
        if fast is None:
            fast = run_engine(read, profile, None, options)
        assert_same(fast, exact)


def test_columnar_reader_reads_the_rows_and_events_in_ledger_order(tmp_path: Path) -> None:
    """The frame's columns (nulls as ``''`` with their flags) and the events read back by ``seq``."""
    moment = START
    events = [
        LedgerEvent(id="b", timestamp=moment, kind=EventKind.BUY, wallet="w", asset="ETH",
                    amount=Decimal("1.000000000000000001"), counter_asset="USD", counter_amount=Decimal("3000"),
                    fee_asset="USD", fee_amount=Decimal("1.5")),
        LedgerEvent(id="t", timestamp=moment, kind=EventKind.TRANSFER, wallet="w", asset="ETH",
                    amount=Decimal("0.5"), to_wallet="v"),
        LedgerEvent(id="a", timestamp=moment - timedelta(days=1), kind=EventKind.INCOME, wallet="v", asset="SOL",
                    amount=Decimal("2"), usd_value=Decimal("40")),
    ]
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.add_events(events)
        columns = tax_events_from_store(store, None).columns()  # type: ignore[attr-defined]
        frame = columns.frame
        assert frame["id"].to_list() == ["a", "b", "t"]
        assert frame["fee"].to_list() == ["", "1.5", ""]
        assert frame["counter_amount"].to_list() == ["", "3000", ""]
        assert frame["to_wallet"].to_list() == ["", "", "v"]
        assert frame["amount"].to_list() == ["2", "1.000000000000000001", "0.5"]
        flags = np.array(frame["flags"].to_list())
        assert (flags & bits_of.KIND).tolist() == [0, bits_of.BUY, bits_of.TRANSFER]
        bits = {
            bits_of.FEE_ASSET_NULL: [1, 0, 1],
            bits_of.FEE_AMOUNT_NULL: [1, 0, 1],
            bits_of.COUNTER_AMOUNT_NULL: [1, 0, 1],
            bits_of.USD_VALUE_SET: [1, 0, 0],
            bits_of.LOTS_SET: [0, 0, 0],
            bits_of.FEE_IN_USD: [0, 1, 0],
            bits_of.COUNTER_IN_USD: [0, 1, 0],
            bits_of.TO_WALLET_NULL: [1, 1, 0],
        }
        for bit, expected in bits.items():
            assert ((flags & bit) > 0).astype(int).tolist() == expected, bit
        seqs = frame["seq"].to_list()
        read = columns.events([seqs[2], seqs[0]])
        assert [e.id for e in read] == ["t", "a"]
        assert read == [e for e in stored_events(store) if e.id in ("t", "a")][::-1]


def test_in_memory_sqlite_has_no_columnar_reader() -> None:
    with open_store("sqlite://") as store:
        assert tax_events_from_store(store, None).columns() is None  # type: ignore[attr-defined]


def test_columnar_reader_in_two_halves_reads_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger read as two halves at once (split at a time that several rows share) is the
    same frame as read at once, in ledger order."""
    import marginbook.app.sqlite_columns as reader

    events = [
        LedgerEvent(id=f"e{n}", timestamp=START + timedelta(minutes=n // 3), kind=EventKind.BUY, wallet="w",
                    asset="BTC", amount=Decimal(n + 1), counter_asset="USD", counter_amount=Decimal(10 * n + 10))
        for n in range(11)
    ]
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.add_events(events)
        end = START + timedelta(minutes=3)
        monkeypatch.setattr(reader, "_SPLIT_FROM", 10**9)
        whole = tax_events_from_store(store, end).columns().frame  # type: ignore[attr-defined]
        monkeypatch.setattr(reader, "_SPLIT_FROM", 2)
        columns = tax_events_from_store(store, end).columns()  # type: ignore[attr-defined]
        assert columns._middle(time_key(end)) == (9, time_key(START + timedelta(minutes=1)))
        halves = columns.frame
    assert whole["id"].to_list() == [f"e{n}" for n in range(9)]
    assert halves.equals(whole)


def test_an_import_between_the_count_and_the_halves_makes_the_run_read_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two halves are two snapshots: rows committed after the count would show in one of
    them only. The reader notices (more rows than counted) and the engine reads the events,
    which see the ledger as it is after the import, as the Decimal fold does."""
    import marginbook.app.sqlite_columns as reader

    def buy(n: int, minute: int) -> LedgerEvent:
        return LedgerEvent(id=f"e{n}", timestamp=START + timedelta(minutes=minute), kind=EventKind.BUY,
                           wallet="w", asset="BTC", amount=Decimal(n + 1), counter_asset="USD",
                           counter_amount=Decimal(10 * n + 10))

    sale = LedgerEvent(id="s", timestamp=START + timedelta(minutes=30), kind=EventKind.SELL, wallet="w",
                       asset="BTC", amount=Decimal("2.5"), counter_asset="USD", counter_amount=Decimal("99"))
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.add_events([*(buy(n, 10 + n) for n in range(6)), sale])
        late_import = buy(99, 1)  # an older buy, imported later: FIFO sells it first
        counted = SqliteColumns._middle

        def count_then_import(self: SqliteColumns, end: int) -> tuple[int, int | None]:
            found = counted(self, end)
            store.add_events([late_import])  # another process's import commits now
            return found

        monkeypatch.setattr(reader, "_SPLIT_FROM", 2)
        monkeypatch.setattr(SqliteColumns, "_middle", count_then_import)
        columns = tax_events_from_store(store, None).columns()  # type: ignore[attr-defined]
        with pytest.raises(reader.LedgerChanged, match="7 -> 8 rows"):
            columns.frame  # noqa: B018 - the property reads the ledger
        late_import = buy(100, 2)  # and again, during the tax run
        with decimal_context():
            fast = fast_fold(tax_events_from_store(store, None), PROFILE, None, RunOptions())
        ledger = list(store.events())
    exact = run_decimal_fold(ledger, PROFILE, None, RunOptions())
    assert len(ledger) == 9 and fast is not None
    assert fast.disposals == exact.disposals
    assert [s.acquisition_id for s in fast.disposals[0].slices] == ["e99"]  # the import's lot, first in time


def test_a_ledger_of_mostly_other_rows_is_encoded_from_its_events(tmp_path: Path) -> None:
    """Rows the columns don't encode are held as events at once; when they are most of the
    ledger, the columns are not used (the event encoder streams), with the same result."""
    income = [
        LedgerEvent(id=f"i{n}", timestamp=START + timedelta(minutes=n), kind=EventKind.INCOME, wallet="w",
                    asset="BTC", amount=Decimal("0.5"), usd_value=Decimal(100 + n))
        for n in range(6)
    ]
    sales = [
        LedgerEvent(id=f"s{n}", timestamp=START + timedelta(minutes=10 + n), kind=EventKind.SELL, wallet="w",
                    asset="BTC", amount=Decimal("0.25"), counter_asset="USD", counter_amount=Decimal(70 + n))
        for n in range(3)
    ]
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.add_events([*income, *sales])
        read = tax_events_from_store(store, None)
        with decimal_context():
            assert encode_columns(read.columns(), Fold(PROFILE, None, RunOptions())) is None  # type: ignore[attr-defined]
            with patch.object(bits_of, "MAX_OTHER_SHARE", 1.0):
                assert encode_columns(read.columns(), Fold(PROFILE, None, RunOptions())) is not None  # type: ignore[attr-defined]
            fast = fast_fold(read, PROFILE, None, RunOptions())
        exact = run_decimal_fold([*income, *sales], PROFILE, None, RunOptions())
    assert fast is not None and fast.disposals == exact.disposals and len(fast.disposals) == 3


def test_open_lots_are_ordered_by_wallet_asset_and_acquisition_time(tmp_path: Path) -> None:
    """Open lots in ``LotBook.open_lots`` order: by wallet and asset name, then acquisition
    time before creation order (a deposit of older coins after a buy comes first)."""
    moment = START
    events = [
        LedgerEvent(id="b1", timestamp=moment, kind=EventKind.BUY, wallet="w", asset="SOL", amount=Decimal("3"),
                    counter_asset="USD", counter_amount=Decimal("300")),
        LedgerEvent(id="b2", timestamp=moment, kind=EventKind.BUY, wallet="w", asset="BTC", amount=Decimal("1"),
                    counter_asset="USD", counter_amount=Decimal("100")),
        LedgerEvent(id="d", timestamp=moment + timedelta(days=1), kind=EventKind.DEPOSIT, wallet="w", asset="SOL",
                    amount=Decimal("2"), cost_basis_usd=Decimal("50"), acquired_at=moment - timedelta(days=9)),
        LedgerEvent(id="b3", timestamp=moment + timedelta(days=2), kind=EventKind.BUY, wallet="a", asset="SOL",
                    amount=Decimal("1"), counter_asset="USD", counter_amount=Decimal("90")),
    ]
    options = RunOptions(scope=Scope.WALLET)
    exact = run_decimal_fold(events, PROFILE, None, options)
    assert [(w, lot.acquisition_id) for w, lot in exact.open_lots] == [
        ("a", "b3"), ("w", "b2"), ("w", "d"), ("w", "b1")
    ]
    fast = fast_fold(events, PROFILE, None, options)
    assert fast is not None
    assert_same(fast, exact)
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.add_events(events)
        columnar = fast_fold(tax_events_from_store(store, None), PROFILE, None, options)
    assert columnar is not None
    assert_same(columnar, exact)


def test_hifo_across_the_2025_allocation_does_not_read_the_columns() -> None:
    """HIFO/LOFO in the transition scope through 2025 needs the Decimal fold as soon as a lot is
    taken: the events are encoded one by one (as before), the columns are not read."""

    class Unread:
        @property
        def frame(self) -> object:
            raise AssertionError("the columns were read")

        def events(self, seqs: object) -> list[object]:
            raise AssertionError("the events were read")

    for method in (Method.HIFO, Method.LOFO):
        options = RunOptions(method=method, end=datetime(2026, 1, 1, tzinfo=UTC))
        assert encode_columns(Unread(), Fold(PROFILE, None, options)) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("first", ["common", "other"])
def test_identification_warnings_name_the_first_sale_in_ledger_order(tmp_path: Path, first: str) -> None:
    """LIFO sales from 2025 without a standing order: each carries its note and the year's
    warning names the first such sale, whether it was encoded from the columns (a sale
    against USD) or as an event (a sale paying its fee in BTC), as the Decimal fold does."""
    moment = datetime(2025, 2, 1, tzinfo=UTC)

    def sale(n: int, other: bool) -> LedgerEvent:
        fee = {"fee_asset": "BTC", "fee_amount": Decimal("0.001")} if other else {}
        return LedgerEvent(id=f"s{n}", timestamp=moment + timedelta(days=n), kind=EventKind.SELL, wallet="w",
                           asset="BTC", amount=Decimal("0.1"), counter_asset="USD", counter_amount=Decimal(3000 + n),
                           **fee)  # type: ignore[arg-type]

    buy = LedgerEvent(id="b", timestamp=moment - timedelta(days=60), kind=EventKind.BUY, wallet="w", asset="BTC",
                      amount=Decimal("2"), counter_asset="USD", counter_amount=Decimal("50000"))
    starts_with_other = first == "other"
    events = [buy, *(sale(n, other=(n % 2 == 0) == starts_with_other) for n in range(1, 6))]
    options = RunOptions(method=Method.LIFO, scope=Scope.WALLET)
    exact = run_decimal_fold(events, PROFILE, None, options)
    assert any("(first: s1)" in warning for warning in exact.warnings)
    assert all(disposal.warnings for disposal in exact.disposals if disposal.kind == "sell")
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.add_events(events)
        read = tax_events_from_store(store, None)
        with decimal_context():
            encoded = encode_columns(read.columns(), Fold(PROFILE, None, options))  # type: ignore[attr-defined]
        assert encoded is not None
        fast = fast_fold(read, PROFILE, None, options)
    assert fast is not None
    assert_same(fast, exact)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(2**40), max_value=5_000_000_000 * 10**6), min_size=1, max_size=50))
def test_time_keys_become_the_exact_utc_times(micros: list[int]) -> None:
    """The columnar encoder's times from microseconds equal ``epoch + timedelta`` to the
    microsecond, inside the range it builds by float division and outside it."""
    from marginbook.tax.fast.columnar import _moments

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    found = _moments(np.array(micros, dtype=np.int64))
    assert found == [epoch + timedelta(microseconds=m) for m in micros]
    assert all(moment.tzinfo is UTC for moment in found)


def test_time_keys_near_the_edges_of_the_float_range_are_exact() -> None:
    from marginbook.tax.fast.columnar import _FLOAT_EXACT_UNTIL_US, _moments

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    # Every microsecond of a second near the end of the range (the doubles are coarsest there).
    last = _FLOAT_EXACT_UNTIL_US - 1
    micros = list(range(last - 999_999, last + 1))
    assert _moments(np.array(micros, dtype=np.int64)) == [epoch + timedelta(microseconds=m) for m in micros]
