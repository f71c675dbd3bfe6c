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
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from marginbook.domain.events import AMOUNT_MAY_BE_NEGATIVE, TRADE_KINDS, EventKind, default_event_id
from marginbook.importers.ledger_csv import COLUMNS, REQUIRED
from marginbook.ledger.rows import StoredRow

if TYPE_CHECKING:
    import polars as pl

#: Bytes read per block (about 100,000 rows of a typical ledger).
BLOCK_BYTES = 8 << 20
#: Below this size a file goes to the codec: importing polars would cost more than it saves.
MIN_FILE_BYTES = 1 << 20
#: Longer decimal texts go to the codec (whose fingerprint rounds beyond 60 digits).
MAX_DECIMAL_CHARS = 50

_DECIMAL_COLUMNS = ("amount", "counter_amount", "fee_amount", "usd_value", "cost_basis_usd")
_TIME_COLUMNS = ("timestamp", "acquired_at", "opened_at")
_TEXT_COLUMNS = ("wallet", "asset", "counter_asset", "fee_asset", "to_wallet", "position")
_DECIMAL = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
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
        while lines := handle.readlines(BLOCK_BYTES):
            yield reader.rows(lines, first_row=line_number + 1)
            line_number += len(lines)


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
        #: How many rows without an id had each fingerprint so far (for default ids).
        self.occurrences: dict[str, int] = {}

    def rows(self, lines: list[bytes], first_row: int) -> list[StoredRow]:
        import polars as pl

        block = b"".join(lines)
        if _UNPLAIN_BYTES.search(block) or block.count(b"\r") != block.count(b"\r\n"):
            raise NotFastPath("quoted cells or unusual line breaks")
        try:
            texts = [line.decode("utf-8") for line in lines]
        except UnicodeDecodeError:
            raise NotFastPath("not UTF-8") from None
        frame = pl.DataFrame({
            "line": pl.Series(texts, dtype=pl.String).str.strip_suffix("\n").str.strip_suffix("\r"),
            "row": pl.int_range(first_row, first_row + len(texts), eager=True),
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
        columns = self._canonical(cells)
        return self._stored(columns)

    def _canonical(self, cells: pl.DataFrame) -> dict[str, list[Any]]:
        """Check every rule on whole columns; return canonical column values (None = absent)."""
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
        result["fingerprint"] = fingerprints.to_list()
        result["row"] = cells["row"].to_list()
        return result

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

    def _stored(self, c: dict[str, list[Any]]) -> list[StoredRow]:
        occurrences = self.occurrences
        source = self.source
        rows: list[StoredRow] = []
        sha256 = hashlib.sha256
        for (given_id, ts_us, kind, wallet, asset, amount, counter_asset, counter_amount, fee_asset,
             fee_amount, usd_value, to_wallet, cost_basis, acquired_us, position, opened_us, note,
             row, fingerprint) in zip(
            c["id"], c["timestamp_us"], c["kind"], c["wallet"], c["asset"], c["amount"],
            c["counter_asset"], c["counter_amount"], c["fee_asset"], c["fee_amount"], c["usd_value"],
            c["to_wallet"], c["cost_basis_usd"], c["acquired_at_us"], c["position"], c["opened_at_us"],
            c["note"], c["row"], c["fingerprint"], strict=True,
        ):
            digest = sha256(fingerprint.encode()).hexdigest()
            if given_id is None:
                seen = occurrences.get(digest, 0)
                occurrences[digest] = seen + 1
                given_id = default_event_id(fingerprint, seen)
            rows.append((
                given_id, ts_us, kind, wallet, asset, amount, counter_asset, counter_amount, fee_asset,
                fee_amount, usd_value, to_wallet, cost_basis, acquired_us, None, position, opened_us, note,
                source, row, None, digest,
            ))
        return rows


def _plain_decimals(values: pl.Series, fail_if: Any) -> pl.Series:
    """``plain(Decimal(text))`` for every cell: no sign for zero, no leading or trailing zeros."""
    import polars as pl

    present = values.is_not_null()
    fail_if(present & ~values.str.contains(_DECIMAL).fill_null(False), "not a plain decimal")
    fail_if(present & (values.str.len_chars() > MAX_DECIMAL_CHARS).fill_null(False), "very long decimal")
    parts = values.str.extract_groups(r"^([+-]?)(\d*)(?:\.(\d*))?$").struct.unnest()
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
