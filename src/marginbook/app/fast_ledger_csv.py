"""A fast, vectorised reader for large, plain ledger CSV files, straight to stored rows.

The codec (:mod:`marginbook.importers.ledger_csv`) checks and builds one
:class:`~marginbook.domain.events.LedgerEvent` per row; that is exact and gives the best error
messages, but costs tens of microseconds a row in Python. A file of millions of rows (an
export of a big ledger, a simulator run) is nearly always *plain*: no quoting, no padding,
no lot picks, every row valid. This module reads such files with polars, checks every rule
of the codec on whole columns at once, and produces rows in the ledger's stored form
(:data:`marginbook.ledger.rows.STORED_COLUMNS`) with the same ids and fingerprints the codec
would give.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from marginbook.domain.events import AMOUNT_MAY_BE_NEGATIVE, TRADE_KINDS, EventKind
from marginbook.importers.ledger_csv import COLUMNS, REQUIRED
from marginbook.ledger.rows import StoredRow

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
_TIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
         r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
#: Bytes that make a block unplain: quotes (quoted cells, embedded line breaks), NUL, and the
#: separators U+001C..U+001F that Python's ``str.strip`` removes and polars' does not.
_UNPLAIN_BYTES = re.compile(rb'["\x00\x1c-\x1f]')


class NotFastPath(Exception):
    """The file is not plain enough for the fast path; read it with the codec instead."""


def is_candidate(path: Path) -> bool:
    """Worth trying the fast path: a file big enough for vectorising to pay off."""
    try:
        return path.stat().st_size >= MIN_FILE_BYTES
    except OSError:
        return False


def iter_stored_rows(path: Path, *, wallet: str | None = None) -> Iterator[list[StoredRow]]:
    """Yield the file's events as blocks of stored rows, exactly as the codec would give them.

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
            yield reader.rows(block, lines, first_row=line_number + 1)
            line_number += lines


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
        #: How many rows without an id had each fingerprint so far (for default ids), keyed by
        #: the fingerprint's SHA-256 (32 bytes rather than the whole text: a million rows).
        self.occurrences: dict[bytes, int] = {}
        #: ``hash()`` of every id the file gave so far: a repeated id goes to the codec, which
        #: refuses it when the content differs (an int a row, not the id text; a collision
        #: only sends the file to the codec needlessly).
        self.given_ids: set[int] = set()

    def rows(self, block: bytes, lines: int, first_row: int) -> list[StoredRow]:
        """The stored rows of ``block``: ``lines`` whole lines, the first being ``first_row``."""
        import polars as pl

        if _UNPLAIN_BYTES.search(block) or block.count(b"\r") != block.count(b"\r\n"):
            raise NotFastPath("quoted cells or unusual line breaks")
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
        if frame.height == 0:
            return []
        width = len(self.names)
        if (frame["line"].str.count_matches(",") != width - 1).any():
            raise NotFastPath("a row has another number of cells than the header")
        cells = frame["line"].str.split_exact(",", width - 1).struct.unnest()
        cells.columns = list(self.names)
        cells = cells.with_columns(frame["row"])
        columns, fingerprints = self._canonical(cells)
        return self._stored(columns, fingerprints)

    def _canonical(self, cells: pl.DataFrame) -> tuple[dict[str, list[Any]], pl.Series]:
        """Check every rule on whole columns; return canonical column values (None = absent)
        and each row's fingerprint text."""
        import polars as pl

        def fail_if(mask: pl.Series, why: str) -> None:
            if mask.any():
                raise NotFastPath(why)

        height = cells.height
        none = pl.Series([None] * height, dtype=pl.String)

        def column(name: str) -> pl.Series:
            if name not in cells.columns:
                return none
            values = cells[name]
            if name != "note":
                fail_if(values.str.contains(r"^\s|\s$"), f"padded cells in {name}")
            return pl.select(pl.when(values == "").then(None).otherwise(values)).to_series().alias(name)

        out: dict[str, pl.Series] = {}
        kind = column("type")
        fail_if(~kind.is_in([k.value for k in EventKind]) | kind.is_null(), "unknown or missing type")
        out["kind"] = kind
        for name in _TEXT_COLUMNS:
            out[name] = column(name)
        if self.wallet:
            out["wallet"] = out["wallet"].fill_null(self.wallet)
        fail_if(out["wallet"].is_null() | out["asset"].is_null(), "missing wallet or asset")
        for name in _DECIMAL_COLUMNS:
            out[name] = _plain_decimals(column(name), fail_if)
        for name in _TIME_COLUMNS:
            out[name + "_us"], out[name + "_text"] = _times(column(name), fail_if)
        fail_if(out["timestamp_us"].is_null() | out["amount"].is_null(), "missing timestamp or amount")
        lots = column("lots")
        fail_if(lots.is_not_null(), "lot picks")
        out["note"] = column("note")
        out["id"] = column("id")
        self._check_event_rules(out, fail_if)
        fingerprints = pl.DataFrame(out).select(
            pl.concat_str(
                [pl.col(name).fill_null("") for name in (
                    "timestamp_text", "kind", "wallet", "asset", "amount", "counter_asset",
                    "counter_amount", "fee_asset", "fee_amount", "usd_value", "to_wallet",
                    "cost_basis_usd", "acquired_at_text")]
                + [pl.lit("")]  # lots: none on the fast path
                + [pl.col(name).fill_null("") for name in ("position", "opened_at_text", "note")],
                separator="\x1f",
            )
        ).to_series()
        result = {name: series.to_list() for name, series in out.items()}
        result["row"] = cells["row"].to_list()
        return result, fingerprints

    @staticmethod
    def _check_event_rules(out: dict[str, pl.Series], fail_if: Any) -> None:
        """The checks of ``LedgerEvent.__post_init__``, on whole columns."""
        kind = out["kind"]
        signed = kind.is_in([k.value for k in AMOUNT_MAY_BE_NEGATIVE])
        amount = out["amount"]
        fail_if(~signed & ((amount == "0") | amount.str.starts_with("-")), "amount not positive")
        for name in ("counter_amount", "fee_amount", "usd_value", "cost_basis_usd"):
            fail_if(out[name].str.starts_with("-").fill_null(False), f"negative {name}")
        trade = kind.is_in([k.value for k in TRADE_KINDS])
        no_counter = out["counter_asset"].is_null() | out["counter_amount"].is_null()
        fail_if(trade & no_counter, "trade without counter")
        fail_if(out["counter_asset"].is_null() != out["counter_amount"].is_null(), "half a counter")
        fail_if(out["fee_asset"].is_null() != out["fee_amount"].is_null(), "half a fee")
        transfer = kind == EventKind.TRANSFER.value
        to_wallet = out["to_wallet"]
        same_wallet = (to_wallet == out["wallet"]).fill_null(False)
        fail_if(transfer & (to_wallet.is_null() | same_wallet), "bad transfer")
        fail_if(~transfer & to_wallet.is_not_null(), "to_wallet on a non-transfer")

    def _stored(self, c: dict[str, list[Any]], fingerprints: pl.Series) -> list[StoredRow]:
        """Build the rows: digests and default ids hashed in tight loops, the rest by column.

        Python's ``hashlib`` is the only SHA-256 at hand (polars has none), so the two hashes
        a row needs run as bare comprehensions over bytes; counting occurrences, hex encoding
        and assembling the tuples are done by polars and ``zip`` rather than per-row code.
        """
        import polars as pl

        given = [hash(event_id) for event_id in c["id"] if event_id is not None]
        if given:
            given_keys = set(given)
            if len(given_keys) != len(given) or not self.given_ids.isdisjoint(given_keys):
                raise NotFastPath("an id repeats: the codec checks whether its content differs")
            self.given_ids |= given_keys
        sha256 = hashlib.sha256
        raw = [sha256(text).digest() for text in fingerprints.cast(pl.Binary).to_list()]
        digests = pl.Series(raw, dtype=pl.Binary).bin.encode("hex").to_list()
        ids = pl.Series("id", c["id"], dtype=pl.String)
        missing = ids.is_null().arg_true()
        if missing.len():
            keys = [raw[i] for i in missing.to_list()]
            seen = self.occurrences.get
            earlier = pl.Series([seen(key, 0) for key in keys], dtype=pl.Int64)
            keyed = pl.DataFrame({"key": pl.Series(keys, dtype=pl.Binary)})
            within = keyed.select(pl.int_range(pl.len(), dtype=pl.Int64).over("key")).to_series()
            occurrence = (earlier + within).cast(pl.String)
            counts = keyed.group_by("key").len()
            unique_keys = counts["key"].to_list()
            totals = [seen(key, 0) + n for key, n in zip(unique_keys, counts["len"].to_list(), strict=True)]
            self.occurrences.update(zip(unique_keys, totals, strict=True))
            hashed_texts = (fingerprints.gather(missing) + "\x1e" + occurrence).cast(pl.Binary).to_list()
            default_ids = pl.Series([sha256(text).digest() for text in hashed_texts], dtype=pl.Binary)
            ids = ids.scatter(missing, "h" + default_ids.bin.encode("hex").str.slice(0, 31))
        nothing = repeat(None)
        return list(zip(
            ids.to_list(), c["timestamp_us"], c["kind"], c["wallet"], c["asset"], c["amount"],
            c["counter_asset"], c["counter_amount"], c["fee_asset"], c["fee_amount"], c["usd_value"],
            c["to_wallet"], c["cost_basis_usd"], c["acquired_at_us"], nothing, c["position"],
            c["opened_at_us"], c["note"], repeat(self.source), c["row"], nothing, digests,
        ))


def _plain_decimals(values: pl.Series, fail_if: Any) -> pl.Series:
    """``plain(Decimal(text))`` for every cell: no sign for zero, no leading or trailing zeros."""
    import polars as pl

    present = values.is_not_null()
    fail_if(present & ~values.str.contains(_DECIMAL).fill_null(False), "not a plain decimal")
    fail_if(present & (values.str.len_chars() > MAX_DECIMAL_CHARS).fill_null(False), "very long decimal")
    parts = values.str.extract_groups(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?$").struct.unnest()
    parts.columns = ["sign", "whole", "fraction"]
    frame = parts.select(
        sign=pl.col("sign"),
        whole=pl.col("whole").str.strip_chars_start("0"),
        fraction=pl.col("fraction").fill_null("").str.strip_chars_end("0"),
    ).select(
        sign=pl.col("sign"),
        magnitude=pl.when(pl.col("whole") == "").then(pl.lit("0")).otherwise(pl.col("whole"))
        + pl.when(pl.col("fraction") == "").then(pl.lit("")).otherwise(pl.lit(".") + pl.col("fraction")),
    ).select(
        pl.when(pl.col("magnitude") == "0").then(pl.lit("0"))
        .when(pl.col("sign") == "-").then(pl.lit("-") + pl.col("magnitude"))
        .otherwise(pl.col("magnitude"))
    )
    return frame.to_series().alias(values.name)


def _times(values: pl.Series, fail_if: Any) -> tuple[pl.Series, pl.Series]:
    """Microseconds since the epoch and ``format_timestamp`` text of every time cell."""
    import polars as pl

    present = values.is_not_null()
    is_date = values.str.contains(_DATE).fill_null(False)
    fail_if(present & ~is_date & ~values.str.contains(_TIME).fill_null(False), "unusual time format")
    full = (
        pl.when(is_date).then(values + "T00:00:00+00:00")
        .otherwise(values.str.replace(r"Z$", "+00:00"))
    )
    pattern = "%Y-%m-%dT%H:%M:%S%.f%:z"
    parsed = pl.select(full.str.to_datetime(pattern, time_unit="us", strict=False)).to_series()
    fail_if(present & parsed.is_null(), "a time that does not exist")
    utc = parsed.dt.convert_time_zone("UTC")
    # Python writes years before 1000 without padding; leave such rare times to the codec.
    fail_if(present & (utc.dt.year() < 1001).fill_null(False), "a year before 1001")
    micro = utc.dt.microsecond()
    fraction = (
        pl.when(micro > 0)
        .then(pl.lit(".") + micro.cast(pl.String).str.zfill(6).str.strip_chars_end("0"))
        .otherwise(pl.lit(""))
    )
    text = pl.select(utc.dt.strftime("%Y-%m-%dT%H:%M:%S") + fraction + pl.lit("Z")).to_series()
    return utc.dt.epoch("us"), text
