"""A fast, vectorised reader for large, plain ledger CSV files, straight to stored rows.

The codec (:mod:`marginbook.importers.ledger_csv`) checks and builds one
:class:`~marginbook.domain.events.LedgerEvent` per row; that is exact and gives the best error
messages, but costs tens of microseconds a row in Python. A file of millions of rows (an
export of a big ledger, a simulator run) is nearly always *plain*: no quoting, no padding,
no lot picks, every row valid. This module reads such files with polars, checks every rule
of the codec on whole columns at once, and produces blocks of rows in the ledger's stored
form (:data:`marginbook.ledger.rows.STORED_COLUMNS`) as polars frames, with the same ids and
fingerprints the codec would give. The frames go to the database as Arrow data
(:meth:`marginbook.ledger.EventWriter.add_blocks_staged`), so on the way from the file to
SQLite a row never becomes Python objects, except the ``bytes`` its two hashes need (and
its id, when the file gives one).

It is deliberately conservative: whenever a file, a block or a row is anything but plainly
valid (a quote character, a padded cell, an unusual time format, a bad value ...), it raises
:class:`NotFastPath` and the caller re-reads the file with the codec, which then accepts it
or reports the problem in its own words. So the fast path never decides that input is bad,
and for input it accepts, a differential test checks it against the codec row for row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from itertools import repeat
from operator import add, methodcaller
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from marginbook.domain.events import AMOUNT_MAY_BE_NEGATIVE, TRADE_KINDS, EventKind
from marginbook.importers.ledger_csv import COLUMNS, REQUIRED
from marginbook.ledger.rows import STORED_COLUMNS, StoredRow

if TYPE_CHECKING:
    import polars as pl

#: Bytes read per block (about 25,000 rows of a typical ledger): large enough for the
#: vectorised work to pay off, small enough to keep a block's Python objects few.
BLOCK_BYTES = 2 << 20
#: Below this size a file goes to the codec: importing polars would cost more than it saves.
MIN_FILE_BYTES = 1 << 20
#: Longer decimal texts go to the codec (whose fingerprint rounds beyond 60 digits).
MAX_DECIMAL_CHARS = 50

_DECIMAL_COLUMNS = ("amount", "counter_amount", "fee_amount", "usd_value", "cost_basis_usd")
_TIME_COLUMNS = ("timestamp", "acquired_at", "opened_at")
_TEXT_COLUMNS = ("wallet", "asset", "counter_asset", "fee_asset", "to_wallet", "position")
# ASCII digits only: Python's ``\d`` (in the codec) and Decimal accept other scripts' digits,
# and such rows go to the codec rather than risk a different reading here.
_DECIMAL = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: Hours, minutes and seconds in range: polars reads ``23:59:60`` as a leap second (the next
#: day's midnight) where Python, and so the codec, refuses it.
_TIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
         r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
#: Bytes that make a block unplain: quotes (quoted cells, embedded line breaks), NUL, and the
#: separators U+001C..U+001F that Python's ``str.strip`` removes and polars' does not.
_UNPLAIN_BYTES = re.compile(rb'["\x00\x1c-\x1f]')
_INTEGER_COLUMNS = frozenset({"ts_us", "acquired_at_us", "opened_at_us", "source_row"})


def _stored_schema() -> dict[str, Any]:
    import polars as pl

    return {name: pl.Int64 if name in _INTEGER_COLUMNS else pl.String for name in STORED_COLUMNS}


class NotFastPath(Exception):
    """The file is not plain enough for the fast path; read it with the codec instead."""


def is_candidate(path: Path) -> bool:
    """Worth trying the fast path: a file big enough for vectorising to pay off."""
    try:
        return path.stat().st_size >= MIN_FILE_BYTES
    except OSError:
        return False


def iter_stored_frames(path: Path, *, wallet: str | None = None) -> Iterator[pl.DataFrame]:
    """Yield the file's events as blocks of stored rows, exactly as the codec would give them.

    Each block is a polars frame with the columns of
    :data:`~marginbook.ledger.rows.STORED_COLUMNS` (integers as ``Int64``, everything else as
    text), so that it can go to the database as Arrow data without a Python object per row.

    Raises:
        NotFastPath: at the first sign that the file needs the codec (possibly after some
            blocks were yielded: the caller must undo what it did with them).
    """
    source = str(path)
    with path.open("rb") as handle:
        header = _header(handle)
        reader = _BlockReader(header, source, wallet)
        line_number = 1
        while block := handle.read(BLOCK_BYTES):
            if not block.endswith(b"\n"):
                block += handle.readline()  # whole lines only
            lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            frame = reader.frame(block, lines, first_row=line_number + 1)
            if frame.height:
                yield frame
            line_number += lines


def iter_stored_rows(path: Path, *, wallet: str | None = None) -> Iterator[list[StoredRow]]:
    """:func:`iter_stored_frames` as lists of stored-row tuples (for the row-wise paths)."""
    for frame in iter_stored_frames(path, wallet=wallet):
        yield frame.rows()


def _header(handle: BinaryIO) -> tuple[str, ...]:
    first = handle.readline()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    if _UNPLAIN_BYTES.search(first):
        raise NotFastPath("header is quoted")
    try:
        text = first.decode("utf-8").rstrip("\n").removesuffix("\r")
    except UnicodeDecodeError:
        raise NotFastPath("header is not UTF-8") from None
    names = tuple(text.split(","))
    if (
        len(set(names)) != len(names)
        or not set(names) <= set(COLUMNS)
        or not set(REQUIRED) <= set(names)
    ):
        raise NotFastPath("header needs the codec's checks")
    return names


class _BlockReader:
    """Turns blocks of lines into stored rows; keeps the per-file state the codec keeps."""

    def __init__(self, names: tuple[str, ...], source: str, wallet: str | None) -> None:
        self.names = names
        self.source = source
        self.wallet = wallet
        #: Fingerprints of rows without an id seen so far (for default ids), as their SHA-256
        #: (32 bytes rather than the whole text: a million rows); a set, because nearly every
        #: fingerprint occurs once ...
        self.seen: set[bytes] = set()
        #: ... and the count of those seen more than once.
        self.repeats: dict[bytes, int] = {}
        #: ``hash()`` of every id the file gave so far: a repeated id goes to the codec, which
        #: refuses it when the content differs (an int a row, not the id text; a collision
        #: only sends the file to the codec needlessly).
        self.given_ids: set[int] = set()

    def frame(self, block: bytes, lines: int, first_row: int) -> pl.DataFrame:
        """The stored rows of ``block``: ``lines`` whole lines, the first being ``first_row``."""
        import polars as pl

        if _UNPLAIN_BYTES.search(block) or block.count(b"\r") != block.count(b"\r\n"):
            raise NotFastPath("quoted cells or unusual line breaks")
        cells = self._cells(block, lines, first_row)
        if cells is None:
            cells = self._cells_line_by_line(block, lines, first_row)
        if cells.height == 0:
            return pl.DataFrame(schema=_stored_schema())
        return self._stored(self._canonical(cells))

    def _cells(self, block: bytes, lines: int, first_row: int) -> pl.DataFrame | None:
        """The cells of a block in which every line has exactly the header's cells, read by
        polars' CSV reader (with quoting off: the block has no quote); ``None`` for any other
        block (blank lines, short or long rows), which is then split line by line.

        Each line is one row: the block holds ``lines * (cells - 1)`` commas, polars refuses a
        row with too many cells, and it must give ``lines`` rows, so no row has too few.
        """
        import polars as pl

        width = len(self.names)
        if block.count(b",") != lines * (width - 1):
            return None
        try:
            cells = pl.read_csv(
                block, has_header=False, schema={f"_raw_{name}": pl.String for name in self.names},
                quote_char=None, infer_schema=False, comment_prefix=None, null_values=None,
                empty_string_is_null=True, truncate_ragged_lines=False, encoding="utf8",
            )
        except pl.exceptions.PolarsError:
            return None
        if cells.height != lines:
            return None
        cells = cells.with_columns(row=pl.int_range(first_row, first_row + lines, dtype=pl.Int64))
        # The codec skips rows whose cells are all blank (they still count as rows).
        return cells.filter(~pl.all_horizontal(pl.exclude("row").is_null()))

    def _cells_line_by_line(self, block: bytes, lines: int, first_row: int) -> pl.DataFrame:
        """The cells of any other block: split into lines and cells by polars string functions."""
        import polars as pl

        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            raise NotFastPath("not UTF-8") from None
        # One string split by polars, rather than a Python string per line.
        split = pl.Series("line", [text.removesuffix("\n")], dtype=pl.String).str.split("\n").explode()
        frame = pl.DataFrame({
            "line": split.str.strip_suffix("\r"),
            "row": pl.int_range(first_row, first_row + lines, eager=True),
        })
        # The codec skips rows whose cells are all blank (they still count as rows).
        frame = frame.filter(~pl.col("line").str.contains(r"^[ \t,]*$"))
        width = len(self.names)
        if (frame["line"].str.count_matches(",") != width - 1).any():
            raise NotFastPath("a row has another number of cells than the header")
        cells = frame["line"].str.split_exact(",", width - 1).struct.unnest()
        cells.columns = [f"_raw_{name}" for name in self.names]
        return cells.with_columns(frame["row"])

    def _canonical(self, cells: pl.DataFrame) -> pl.DataFrame:
        """Check every rule on whole columns; return the canonical columns (null = absent),
        the row numbers and each row's fingerprint text (``fp``).

        All of it is one lazy polars query, so the columns are worked on in parallel and
        shared sub-expressions are computed once.
        """
        import polars as pl

        present = {name.removeprefix("_raw_") for name in cells.columns}
        checks: list[tuple[pl.Expr, str]] = []

        def column(name: str) -> pl.Expr:
            if name not in present:
                return pl.lit(None, dtype=pl.String)
            value = pl.col(f"_raw_{name}")
            if name != "note":
                checks.append((value.str.contains(r"^\s|\s$"), f"padded cells in {name}"))
            return pl.when(value != "").then(value)

        # Three stages, each a set of columns computed once (in parallel): the cells as
        # values (null = absent) with the parts of decimals and the parsed times; then the
        # canonical forms; then the flags of the checks (broadcast, one value per check).
        first: dict[str, pl.Expr] = {}
        second: dict[str, pl.Expr] = {}
        first["kind"] = column("type")
        for name in _TEXT_COLUMNS:
            first[name] = column(name)
        if self.wallet:
            first["wallet"] = first["wallet"].fill_null(pl.lit(self.wallet))
        for name in _DECIMAL_COLUMNS:
            _plain_decimal(column(name), name, first, second, checks)
        for name in _TIME_COLUMNS:
            _time(column(name), name, first, second, checks)
        checks.append((column("lots").is_not_null(), "lot picks"))
        first["note"] = column("note")
        first["id"] = column("id")
        flags = {f"_check{i}": check.fill_null(False).any() for i, (check, _) in enumerate(checks)}
        canonical = (
            cells.lazy().with_columns(**first).with_columns(**second).with_columns(**flags).collect()
        )
        _refuse_if(canonical.row(0, named=True), checks, "_check")
        rules = _event_rules()
        found = canonical.select(
            **{f"_rule{i}": rule.fill_null(False).any() for i, (rule, _) in enumerate(rules)}
        ).row(0, named=True)
        _refuse_if(found, rules, "_rule")
        canonical = canonical.select(pl.exclude("^_.*$"))
        return canonical.with_columns(fp=pl.concat_str(
            [pl.col(name).fill_null("") for name in (
                "timestamp_text", "kind", "wallet", "asset", "amount", "counter_asset",
                "counter_amount", "fee_asset", "fee_amount", "usd_value", "to_wallet",
                "cost_basis_usd", "acquired_at_text")]
            + [pl.lit("")]  # lots: none on the fast path
            + [pl.col(name).fill_null("") for name in ("position", "opened_at_text", "note")],
            separator="\x1f",
        ))

    def _stored(self, c: pl.DataFrame) -> pl.DataFrame:
        """The stored rows: fingerprint digests and default ids hashed, the rest by column.

        Python's ``hashlib`` computes the two SHA-256 a row needs (polars has none; DuckDB's
        ``sha256`` measured no cheaper): ``map`` over the rows' bytes, with no Python code per row.
        Counting occurrences, hex encoding and assembling the frame are done by polars.
        """
        import polars as pl

        given = c["id"].drop_nulls()
        if given.len():
            given_keys = set(map(hash, given.to_list()))
            if len(given_keys) != given.len() or not self.given_ids.isdisjoint(given_keys):
                raise NotFastPath("an id repeats: the codec checks whether its content differs")
            self.given_ids |= given_keys
        fingerprints = c["fp"]
        texts = fingerprints.cast(pl.Binary).to_list()
        raw = list(map(_DIGEST, map(hashlib.sha256, texts)))
        digests = pl.Series(raw, dtype=pl.Binary).bin.encode("hex")
        ids = c["id"]
        missing = ids.is_null()
        if missing.any():
            if given.len():
                positions = missing.arg_true().to_list()
                keys, texts = [raw[i] for i in positions], [texts[i] for i in positions]
            else:
                keys = raw
            occurrence = self._occurrences(keys)
            if occurrence is None:  # the usual case: every row's first occurrence
                hashed = list(map(add, texts, repeat(b"\x1e0")))
            else:
                hashed = (fingerprints.filter(missing) + "\x1e" + occurrence).cast(pl.Binary).to_list()
            default_ids = pl.Series(list(map(_DIGEST, map(hashlib.sha256, hashed))), dtype=pl.Binary)
            fresh = "h" + default_ids.bin.encode("hex").str.slice(0, 31)
            ids = fresh if given.len() == 0 else ids.scatter(missing.arg_true(), fresh)
        nothing = pl.lit(None, dtype=pl.String)
        return c.select(
            id=ids, ts_us="timestamp_us", kind="kind", wallet="wallet", asset="asset", amount="amount",
            counter_asset="counter_asset", counter_amount="counter_amount", fee_asset="fee_asset",
            fee_amount="fee_amount", usd_value="usd_value", to_wallet="to_wallet",
            cost_basis_usd="cost_basis_usd", acquired_at_us="acquired_at_us", lots=nothing,
            position="position", opened_at_us="opened_at_us", note="note",
            source=pl.lit(self.source, dtype=pl.String), source_row="row", source_ref=nothing,
            fingerprint=digests,
        )

    def _occurrences(self, keys: list[bytes]) -> pl.Series | None:
        """Each key's count of earlier rows with the same fingerprint (in the file so far), as
        text, and those counts updated; ``None`` when every count is 0. Most files repeat no
        fingerprint: then this is a few set operations in C."""
        import polars as pl

        unique = set(keys)
        if len(unique) == len(keys) and self.seen.isdisjoint(unique):
            self.seen |= unique
            return None

        def count(key: bytes) -> int:
            return self.repeats.get(key, 1 if key in self.seen else 0)

        keyed = pl.DataFrame({"key": pl.Series(keys, dtype=pl.Binary)})
        within = keyed.select(pl.int_range(pl.len(), dtype=pl.Int64).over("key")).to_series()
        earlier = pl.Series([count(key) for key in keys], dtype=pl.Int64)
        counts = keyed.group_by("key").len()
        for key, n in zip(counts["key"].to_list(), counts["len"].to_list(), strict=True):
            total = count(key) + n
            if total > 1:
                self.repeats[key] = total
        self.seen |= unique
        return (earlier + within).cast(pl.String)


_DIGEST = methodcaller("digest")


def _refuse_if(flags: dict[str, Any], checks: list[tuple[pl.Expr, str]], prefix: str) -> None:
    for i, (_, why) in enumerate(checks):
        if flags[f"{prefix}{i}"]:
            raise NotFastPath(why)


def _event_rules() -> list[tuple[pl.Expr, str]]:
    """The checks of ``LedgerEvent.__post_init__`` (and the required cells), on whole columns."""
    import polars as pl

    kind, amount, to_wallet = pl.col("kind"), pl.col("amount"), pl.col("to_wallet")
    signed = kind.is_in([k.value for k in AMOUNT_MAY_BE_NEGATIVE])
    transfer = kind == EventKind.TRANSFER.value
    rules = [
        (~kind.is_in([k.value for k in EventKind]) | kind.is_null(), "unknown or missing type"),
        (pl.col("wallet").is_null() | pl.col("asset").is_null(), "missing wallet or asset"),
        (pl.col("timestamp_us").is_null() | amount.is_null(), "missing timestamp or amount"),
        (~signed & ((amount == "0") | amount.str.starts_with("-")), "amount not positive"),
        (kind.is_in([k.value for k in TRADE_KINDS])
         & (pl.col("counter_asset").is_null() | pl.col("counter_amount").is_null()), "trade without counter"),
        (pl.col("counter_asset").is_null() != pl.col("counter_amount").is_null(), "half a counter"),
        (pl.col("fee_asset").is_null() != pl.col("fee_amount").is_null(), "half a fee"),
        (transfer & (to_wallet.is_null() | (to_wallet == pl.col("wallet")).fill_null(False)), "bad transfer"),
        (~transfer & to_wallet.is_not_null(), "to_wallet on a non-transfer"),
    ]
    rules += [(pl.col(name).str.starts_with("-"), f"negative {name}")
              for name in ("counter_amount", "fee_amount", "usd_value", "cost_basis_usd")]
    return rules


def _plain_decimal(
    value: pl.Expr, name: str, first: dict[str, pl.Expr], second: dict[str, pl.Expr],
    checks: list[tuple[pl.Expr, str]],
) -> None:
    """``plain(Decimal(text))`` of a cell as column ``name``: no sign for zero, no leading or
    trailing zeros (its parts in ``first``, the result in ``second``)."""
    import polars as pl

    checks.append((value.is_not_null() & ~value.str.contains(_DECIMAL), f"not a plain decimal in {name}"))
    checks.append((value.str.len_chars() > MAX_DECIMAL_CHARS, f"very long decimal in {name}"))
    # The cell is checked against _DECIMAL (above): one optional sign, digits, at most one dot.
    body = value.str.strip_chars_start("+-")
    body = pl.when(body.str.contains(".", literal=True)).then(
        body.str.strip_chars_end("0").str.strip_chars_end(".")
    ).otherwise(body)
    first[f"_negative_{name}"] = value.str.starts_with("-")
    first[f"_body_{name}"] = body.str.strip_chars_start("0")
    digits = pl.col(f"_body_{name}")
    magnitude = (
        pl.when(digits == "").then(pl.lit("0"))
        .when(digits.str.starts_with(".")).then(pl.lit("0") + digits)
        .otherwise(digits)
    )
    second[name] = (
        pl.when(magnitude == "0").then(pl.lit("0"))
        .when(pl.col(f"_negative_{name}")).then(pl.lit("-") + magnitude)
        .otherwise(magnitude)
    )


def _time(
    value: pl.Expr, name: str, first: dict[str, pl.Expr], second: dict[str, pl.Expr],
    checks: list[tuple[pl.Expr, str]],
) -> None:
    """Microseconds since the epoch (``NAME_us``) and ``format_timestamp`` text (``NAME_text``)
    of a time cell (the parsed time in ``first``, the two forms in ``second``)."""
    import polars as pl

    is_date = value.str.contains(_DATE)
    unusual = value.is_not_null() & ~is_date & ~value.str.contains(_TIME)
    checks.append((unusual, f"unusual time format in {name}"))
    full = pl.when(is_date).then(value + "T00:00:00+00:00").otherwise(value.str.replace(r"Z$", "+00:00"))
    parsed = full.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
    first[f"_time_{name}"] = parsed.dt.convert_time_zone("UTC")
    utc = pl.col(f"_time_{name}")
    checks.append((value.is_not_null() & utc.is_null(), f"a time that does not exist in {name}"))
    # Python writes years before 1000 without padding; leave such rare times to the codec.
    checks.append((utc.dt.year() < 1001, f"a year before 1001 in {name}"))
    micro = utc.dt.microsecond()
    fraction = (
        pl.when(micro > 0)
        .then(pl.lit(".") + micro.cast(pl.String).str.zfill(6).str.strip_chars_end("0"))
        .otherwise(pl.lit(""))
    )
    second[name + "_us"] = utc.dt.epoch("us")
    second[name + "_text"] = utc.dt.strftime("%Y-%m-%dT%H:%M:%S") + fraction + pl.lit("Z")
