"""Detection reads a file's header: a file it cannot read is bad input naming the file (and row)."""

from __future__ import annotations

from pathlib import Path

import pytest

from marginbook.domain.errors import InputError
from marginbook.importers import registry


def _problem(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        registry.read_header(path)
    [problem] = caught.value.problems
    return str(problem)


def test_a_latin_1_file_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Date,Caf\xe9,Amount\n".encode("latin-1"))
    assert _problem(path).startswith(f"{path}: not UTF-8 text")


def test_a_broken_quote_is_bad_input_naming_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('\n\n"Date"x,Amount\n', encoding="utf-8")  # header on row 3, after blank rows
    assert _problem(path).startswith(f"{path}:3: malformed CSV")


def test_a_quote_left_open_at_the_end_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text('Date,"Amount\n', encoding="utf-8")
    message = _problem(path)
    assert message.startswith(f"{path}:") and "malformed CSV" in message


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    assert _problem(path) == f"{path}: no such file"


def test_detection_reports_the_undecodable_file_through_read_events(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("timestamp,type\n".encode("utf-16"))
    with pytest.raises(InputError) as caught:
        registry.read_events(path)
    assert str(caught.value.problems[0]).startswith(f"{path}: not UTF-8 text")


def test_a_good_header_still_reads_after_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("\ufeff\n , \n timestamp , type \n1,2\n", encoding="utf-8")
    assert registry.read_header(path) == ["timestamp", "type"]
