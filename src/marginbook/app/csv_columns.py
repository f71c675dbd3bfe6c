"""Plain ledger CSV files for the tax engine as columns, without a Python event per row.

``marginbook tax --ledger FILE.csv`` used to read every row with the codec
(:func:`marginbook.importers.ledger_csv.read`), tens of seconds for a million rows before any
tax work. When every file is large and plain, :func:`plain_ledger_events` reads them with the
import path's vectorised reader (:func:`marginbook.app.fast_ledger_csv.iter_stored_frames`:
the ledger's stored rows, the codec's ids) and gives the engine what a SQLite ledger file
gives it (:class:`marginbook.app.stored_events.StoredEvents`): an iterable of events with a
length and a ``columns()`` method, whose :class:`CsvColumns` is the
:class:`~marginbook.tax.fast.columnar.EventColumns` of the rows.

The rows are in the codec path's order: the files' rows in the order given, stably sorted by
time (``seq`` is a row's position in that concatenation). The frame is the SQLite reader's
statement (:data:`marginbook.app.sqlite_columns.COLUMNS_SQL`) evaluated by polars' SQL on
the stored rows, so the flags have one definition; a test checks that both readers give the
same frame for the same ledger. The events (iterated, or read back by ``seq``) are built by
:func:`marginbook.app.stored_events.row_event`, as from the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marginbook.app.stored_events import COLUMNS, StoredEvent, row_event

if TYPE_CHECKING:
    import polars as pl

#: Rows turned into events at a time when the events are iterated.
_CHUNK = 5000


class CsvColumns:
    """The rows of plain ledger CSV files as :class:`~marginbook.tax.fast.columnar.EventColumns`.

    Args:
        rows: the files' stored rows (:data:`~marginbook.app.stored_events.COLUMNS` and
            ``seq``, the position of each), in the order of the files and of their rows.
    """

    def __init__(self, rows: pl.DataFrame) -> None:
        self._rows = rows
        self._frame: pl.DataFrame | None = None

    @property
    def frame(self) -> pl.DataFrame:
        """:data:`~marginbook.tax.fast.columnar.FRAME_COLUMNS` in ledger order (time, then ``seq``)."""
        if self._frame is None:
            import polars as pl

            from marginbook.app.sqlite_columns import COLUMNS_SQL

            with pl.SQLContext(events=self._rows) as context:
                frame = context.execute(f"{COLUMNS_SQL} ORDER BY ts_us, seq", eager=True)
            # polars types the sum of the flag bits as a 32-bit integer, SQLite as a 64-bit one.
            self._frame = frame.with_columns(pl.col("flags").cast(pl.Int64))
        return self._frame

    def events(self, seqs: Sequence[int]) -> list[StoredEvent]:
        """The full events of the rows ``seqs``, in that order."""
        return list(map(row_event, self._rows[list(seqs)].select(COLUMNS).iter_rows()))


class CsvLedgerEvents:
    """The events of plain ledger CSV files in ledger order, with their columns.

    Like :class:`~marginbook.app.stored_events.StoredEvents`: ``len()`` counts the rows, each
    iteration builds the events again (the engine may read them twice), and ``columns()``
    gives the rows as columns for the fast fold.
    """

    def __init__(self, rows: pl.DataFrame) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return self._rows.height

    def __iter__(self) -> Iterator[StoredEvent]:
        import numpy as np

        # A stable sort by time: ties keep the order of the files and of their rows.
        order = np.argsort(self._rows["ts_us"].to_numpy(), kind="stable")
        stored = self._rows.select(COLUMNS)
        for start in range(0, len(order), _CHUNK):
            yield from map(row_event, stored[order[start : start + _CHUNK]].iter_rows())

    def columns(self) -> CsvColumns:
        """The rows as columns (:class:`CsvColumns`)."""
        return CsvColumns(self._rows)


def plain_ledger_events(paths: Sequence[Path]) -> CsvLedgerEvents | None:
    """The events of ledger CSV files read by the vectorised reader, or ``None`` for the codec.

    ``None`` unless every file is worth it (:func:`~marginbook.app.fast_ledger_csv.is_candidate`)
    and reads plainly (no :class:`~marginbook.app.fast_ledger_csv.NotFastPath`), and polars is
    installed: the codec then reads the files, accepting them or reporting their problems.
    """
    from marginbook.app import fast_ledger_csv

    if not paths or not all(fast_ledger_csv.is_candidate(path) for path in paths):
        return None
    if find_spec("polars") is None:
        return None
    import polars as pl

    blocks: list[Any] = []
    try:
        for path in paths:
            blocks.extend(frame.select(COLUMNS) for frame in fast_ledger_csv.iter_stored_frames(path))
    except fast_ledger_csv.NotFastPath:
        return None
    if not blocks:
        return None
    rows = pl.concat(blocks, rechunk=True)
    return CsvLedgerEvents(rows.with_columns(seq=pl.int_range(rows.height, dtype=pl.Int64)))
