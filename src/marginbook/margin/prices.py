"""Price bars for the simulator: the CSV ``timestamp,open,high,low,close[,volume]`` of ../data/.

Read with the standard library (no polars import), because ``marginbook paper`` should start
fast and a 100,000-row file parses in a fraction of a second this way. Every bad row is
reported with its file, row and column, and nothing is simulated.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from marginbook.domain.errors import InputError, InputProblem

REQUIRED = ("timestamp", "open", "high", "low", "close")
OPTIONAL = ("volume",)


@dataclass(frozen=True, slots=True)
class Bars:
    """Price bars as parallel lists, oldest first (the engine's hot loop reads plain lists).

    Attributes:
        times: bar open times, UTC.
        epochs: the same as integer seconds since the epoch.
        open, high, low, close: prices.
    """

    times: list[datetime]
    epochs: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]

    def __len__(self) -> int:
        return len(self.times)


def parse_time(text: str) -> datetime:
    """An ISO-8601 time with a zone (``Z`` or an offset), or a bare date (00:00 UTC), in UTC.

    Raises:
        ValueError: when the text is not such a time or has no zone.
    """
    text = text.strip()
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    value = datetime.fromisoformat(text.replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError("a time needs a zone (write Z or +00:00)")
    return value.astimezone(UTC)


def read_bars(path: Path) -> Bars:
    """Read a price file; bad input raises :class:`InputError` naming every bad row (up to 50)."""
    source = str(path)
    problems: list[InputProblem] = []
    bars = Bars([], [], [], [], [], [])
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(InputProblem(source, None, "", f"cannot read the file: {error.strerror}")) from None
    with handle:
        reader = csv.reader(handle)
        header = [cell.strip().lower() for cell in next(reader, [])]
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
        if missing or unknown:
            what = (
                f"missing column(s) {', '.join(missing)}"
                if missing
                else f"unknown column(s) {', '.join(unknown)}"
            )
            raise InputError(
                InputProblem(source, 1, "", f"{what}; expected timestamp,open,high,low,close[,volume]")
            )
        columns = [header.index(c) for c in REQUIRED]
        last: datetime | None = None
        for row_number, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            try:
                cells = [row[i] for i in columns]
            except IndexError:
                problems.append(InputProblem(source, row_number, "", "too few cells"))
                continue
            try:
                at = parse_time(cells[0])
            except ValueError as error:
                problems.append(InputProblem(source, row_number, "timestamp", str(error)))
                continue
            values: list[float] = []
            for name, text in zip(REQUIRED[1:], cells[1:], strict=True):
                try:
                    number = float(text)
                except ValueError:
                    problems.append(InputProblem(source, row_number, name, f"not a number: {text!r}"))
                    break
                if not number > 0.0 or number == float("inf"):
                    problems.append(
                        InputProblem(source, row_number, name, f"must be a positive price, got {text}")
                    )
                    break
                values.append(number)
            if len(values) < 4:
                continue
            o, h, low, c = values
            if h < max(o, c, low) or low > min(o, c):
                problems.append(
                    InputProblem(source, row_number, "high", "high/low do not bracket open and close")
                )
                continue
            if last is not None and at <= last:
                problems.append(
                    InputProblem(source, row_number, "timestamp", "bars must be in increasing time order")
                )
                continue
            last = at
            bars.times.append(at)
            bars.epochs.append(int(at.timestamp()))
            bars.open.append(o)
            bars.high.append(h)
            bars.low.append(low)
            bars.close.append(c)
            if len(problems) >= 50:
                break
    if problems:
        raise InputError(problems)
    if not bars.times:
        raise InputError(InputProblem(source, None, "", "the file has no price rows"))
    return bars
