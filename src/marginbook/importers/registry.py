"""The import formats by name, and detection of a file's format by its header.

Each format module is imported only when used, so the command line stays fast. A format
module provides:

- ``FORMAT_NAME: str`` and ``DESCRIPTION: str``;
- ``matches(header: list[str]) -> bool`` — does this header belong to the format?;
- ``read(path: Path, *, wallet: str | None) -> list[LedgerEvent]`` — every event of the
  file, or :class:`~marginbook.domain.errors.InputError` naming every bad row (then the
  caller writes nothing).
"""

from __future__ import annotations

import csv
import importlib
from pathlib import Path
from types import ModuleType

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import LedgerEvent

#: Format name → module. ``marginbook`` (the ledger CSV) is tried first by detection.
FORMATS: dict[str, str] = {
    "marginbook": "marginbook.importers.ledger_csv",
    "coinbase": "marginbook.importers.coinbase",
    "kraken": "marginbook.importers.kraken",
    "binance": "marginbook.importers.binance",
    "gemini": "marginbook.importers.gemini",
    "bybit": "marginbook.importers.bybit",
}


def format_module(name: str) -> ModuleType:
    """The module of format ``name``; an unknown name is bad input."""
    if name not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise InputError(InputProblem("--format", None, "", f"unknown format {name!r}; known: {known}"))
    return importlib.import_module(FORMATS[name])


def _available_modules() -> list[tuple[str, ModuleType]]:
    found = []
    for name, module_path in FORMATS.items():
        try:
            found.append((name, importlib.import_module(module_path)))
        except ModuleNotFoundError:
            continue
    return found


def read_header(path: Path) -> list[str]:
    """The first CSV row of ``path`` that is not blank, as stripped cells.

    Raises:
        InputError: naming the file (and the row, when the CSV is broken) for a file that
            is missing, not UTF-8 text or not readable as CSV, so that detection reports bad
            input the same way every reader does rather than with a raw traceback.
    """
    source = str(path)
    reader = None
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            for row in reader:
                if any(cell.strip() for cell in row):
                    return [cell.strip() for cell in row]
    except FileNotFoundError:
        raise InputError(InputProblem(source, None, "", "no such file")) from None
    except UnicodeDecodeError as error:
        raise InputError(InputProblem(source, None, "", f"not UTF-8 text: {error.reason}")) from None
    except csv.Error as error:
        row_number = reader.line_num if reader is not None and reader.line_num else None
        raise InputError(InputProblem(source, row_number, "", f"malformed CSV: {error}")) from None
    return []


def detect_format(path: Path) -> str:
    """The name of the format whose header ``path`` has; bad input when none matches."""
    header = read_header(path)
    if not header:
        raise InputError(InputProblem(str(path), 1, "", "the file is empty"))
    for name, module in _available_modules():
        if module.matches(header):
            return name
    raise InputError(
        InputProblem(str(path), 1, "", "header matches no known format: " + ",".join(header[:12]))
    )


def read_events(path: Path, *, format_name: str = "auto", wallet: str | None = None) -> list[LedgerEvent]:
    """Read every event of ``path`` in format ``format_name`` (``auto`` detects it)."""
    name = detect_format(path) if format_name == "auto" else format_name
    module = format_module(name)
    events: list[LedgerEvent] = module.read(path, wallet=wallet)
    return events
