"""``tax_year`` on a SQLite ledger file: an up-to-date file is read directly with ``sqlite3``
(read-only, no SQLAlchemy), every other ledger through ``open_store`` as before.

What a fresh process imports is checked in ``tests/cli/test_start_imports.py``.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import marginbook.ledger.sqlite_read as sqlite_read
from marginbook.app.tax_year import TaxRequest, tax_year
from marginbook.ledger import open_store
from marginbook.ledger.revision import HEAD_REVISION
from marginbook.ledger.sqlite_read import up_to_date_file
from marginbook.tax.book import Scope
from marginbook.tax.document import to_document
from marginbook.tax.methods import Method
from tests.ledger.builders import event

REQUEST = TaxRequest(year=2025, method=Method.FIFO, scope=Scope.UNIVERSAL)
EVENTS = [
    event("b1", "2024-03-01T00:00:00Z", counter_amount=Decimal("20000")),
    event("b2", "2024-09-01T00:00:00Z", counter_amount=Decimal("25000")),
    event("s1", "2025-05-01T00:00:00Z", "sell", amount=Decimal("1.5"), counter_amount=Decimal("60000")),
    event("later", "2026-02-01T00:00:00Z", "sell", amount=Decimal("0.1"), counter_amount=Decimal("9000")),
]


def _ledger(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:
        store.add_events(EVENTS)
    return url


def _state(path: Path) -> tuple[int, int, str]:
    """The file's modification time, size and contents."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size, hashlib.sha256(path.read_bytes()).hexdigest()


def _gains(url: str) -> list[tuple[str, str]]:
    return [(row["description"], row["gain"]) for row in to_document(tax_year(url, REQUEST))["form_8949"]]


def test_an_up_to_date_file_is_read_directly_without_writing_and_as_through_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _ledger(tmp_path)
    path = tmp_path / "ledger.db"
    assert up_to_date_file(url) == path
    before = _state(path)
    direct = to_document(tax_year(url, REQUEST))
    assert _state(path) == before  # the read wrote nothing to the ledger file
    # FIFO: 1 BTC at 20,000 and 0.5 at 12,500 sold for 60,000.
    assert direct["schedule_d"]["line_16"] == "27500.00"
    monkeypatch.setattr(sqlite_read, "up_to_date_file", lambda url: None)  # as before: open_store
    assert to_document(tax_year(url, REQUEST)) == direct


def test_a_fresh_empty_file_goes_through_open_store(tmp_path: Path) -> None:
    """No Alembic table: not read directly; ``open_store`` migrates it as it always did."""
    path = tmp_path / "empty.db"
    path.touch()
    assert up_to_date_file(f"sqlite:///{path}") is None
    assert _gains(f"sqlite:///{path}") == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
    connection.close()


def test_a_ledger_at_an_older_revision_goes_through_open_store(tmp_path: Path) -> None:
    """A ledger stamped at no revision (Alembic's base, before any migration) is migrated by
    ``open_store``, then taxed; a missing file is created as before."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    connection.close()
    assert up_to_date_file(f"sqlite:///{path}") is None
    assert _gains(f"sqlite:///{path}") == []
    assert up_to_date_file(f"sqlite:///{path}") == path  # migrated to the head
    missing = tmp_path / "sub" / "missing.db"
    assert _gains(f"sqlite:///{missing}") == []
    assert missing.is_file()


def test_a_ledger_of_an_unknown_revision_fails_as_open_store_does(tmp_path: Path) -> None:
    url = _ledger(tmp_path)
    with sqlite3.connect(tmp_path / "ledger.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffff'")
    connection.close()
    with pytest.raises(Exception) as direct:  # whatever open_store raises
        tax_year(url, REQUEST)
    with pytest.raises(type(direct.value)) as opened:
        open_store(url)
    assert str(direct.value) == str(opened.value)


def test_a_wal_ledger_being_written_by_another_process_is_read(tmp_path: Path) -> None:
    """Another process holds a write transaction open (an import not committed yet): the
    direct read neither waits for it nor sees its rows, and leaves the file alone."""
    url = _ledger(tmp_path)
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE')\n"
         "c.execute(\"UPDATE events SET counter_amount = '1' WHERE id = 's1'\")\n"
         "print('writing', flush=True)\n"
         "sys.stdin.readline()\n"
         "c.execute('ROLLBACK')\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        before = _state(path)
        assert _gains(url) == [("0.5 BTC", "7500.00"), ("1 BTC", "20000.00")]
        assert _state(path) == before
    finally:
        writer.communicate("done\n", timeout=30)
    assert writer.returncode == 0
