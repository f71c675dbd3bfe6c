"""Helpers that state expected events compactly, so each test lists its events row by row."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from marginbook.domain.events import LedgerEvent, format_timestamp

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

HASH_ID = re.compile(r"^h[0-9a-f]{31}$")

#: (id or "hash", timestamp, kind, asset, amount, counter_asset, counter_amount, fee_asset, fee_amount, row)
Expected = tuple[str, str, str, str, str, str | None, str | None, str | None, str | None, int]


def summary(event: LedgerEvent) -> tuple[object, ...]:
    """The fields a test states, with a content-hash id written as ``"hash"``."""
    event_id = "hash" if HASH_ID.match(event.id) else event.id
    return (
        event_id,
        format_timestamp(event.timestamp),
        event.kind.value,
        event.asset,
        event.amount,
        event.counter_asset,
        event.counter_amount,
        event.fee_asset,
        event.fee_amount,
        event.origin.row,
    )


def expected(rows: list[Expected]) -> list[tuple[object, ...]]:
    """Turn the tests' string numbers into decimals, as :func:`summary` yields them."""
    result = []
    for (
        event_id,
        stamp,
        kind,
        asset,
        amount,
        counter_asset,
        counter_amount,
        fee_asset,
        fee_amount,
        row,
    ) in rows:
        result.append(
            (
                event_id,
                stamp,
                kind,
                asset,
                Decimal(amount),
                counter_asset,
                Decimal(counter_amount) if counter_amount is not None else None,
                fee_asset,
                Decimal(fee_amount) if fee_amount is not None else None,
                row,
            )
        )
    return result


def table(text: str) -> list[tuple[object, ...]]:
    """Expected events written as a text table, one event per line, cells separated by ``|``.

    Columns: id (``hash`` for a content hash), timestamp, kind, asset, amount, counter_asset,
    counter_amount, fee_asset, fee_amount, row. An empty cell is ``None``.
    """
    rows: list[Expected] = []
    for line in text.strip().splitlines():
        cells = [cell.strip() or None for cell in line.split("|")]
        if len(cells) != 10:
            raise ValueError(f"expected 10 cells, got {len(cells)}: {line!r}")
        event_id, stamp, kind, asset, amount, c_asset, c_amount, f_asset, f_amount, row = cells
        if None in (event_id, stamp, kind, asset, amount, row):
            raise ValueError(f"a required cell is empty: {line!r}")
        rows.append(
            (
                str(event_id),
                str(stamp),
                str(kind),
                str(asset),
                str(amount),
                c_asset,
                c_amount,
                f_asset,
                f_amount,
                int(str(row)),
            )
        )
    return expected(rows)


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a CSV snippet to a file in ``tmp_path`` and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
