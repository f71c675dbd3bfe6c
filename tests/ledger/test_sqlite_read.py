"""Reading a SQLite ledger file without SQLAlchemy: which URLs name a file, and when a file is
up to date enough to be read directly (:mod:`marginbook.ledger.sqlite_read`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from marginbook.ledger import open_store
from marginbook.ledger.engine import resolve_url, sqlite_file
from marginbook.ledger.location import plain_sqlite_file
from marginbook.ledger.revision import HEAD_REVISION
from marginbook.ledger.sqlite_read import reading, revision, up_to_date_file
from tests.ledger.builders import event

URLS = [
    "sqlite:///ledger.db",
    "sqlite:////tmp/some dir/ledger.db",
    "sqlite:////tmp/a%20b/l%3Fx.db",
    "sqlite:///~/ledger.db",
    "sqlite:///a@b.db",
    "sqlite:///ledger.db?timeout=5",
    "sqlite+pysqlite:///ledger.db",
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
    "sqlite:///file:ledger.db?mode=ro&uri=true",
    "postgresql+psycopg://u@h/db",
]


@pytest.mark.parametrize("url", URLS)
def test_a_plain_sqlite_url_names_the_file_sqlalchemy_would_open(url: str) -> None:
    """The SQLAlchemy-free rule is the engine's rule where it answers at all."""
    plain = plain_sqlite_file(url)
    if plain is not None:
        assert plain == sqlite_file(resolve_url(url))
    assert (plain is not None) == (url.startswith("sqlite:///") and "?" not in url and url != "sqlite:///"
                                   and ":memory:" not in url and "file:" not in url)


def test_no_url_is_the_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert plain_sqlite_file(None) == sqlite_file(resolve_url(None)) == tmp_path / "marginbook" / "marginbook.db"


def test_an_opened_ledger_is_up_to_date_and_read_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:
        store.add_events([event("a")])
    assert up_to_date_file(url) == tmp_path / "ledger.db"
    with reading(tmp_path / "ledger.db") as connection:
        assert revision(connection) == HEAD_REVISION
        with pytest.raises(sqlite3.OperationalError, match=r"readonly"):
            connection.execute("DELETE FROM events")


@pytest.mark.parametrize(
    "stamp", [None, [], ["0000"], ["9999"], [HEAD_REVISION, HEAD_REVISION]], ids=["no-table", "empty", "older",
                                                                                  "newer", "two-rows"]
)
def test_a_file_at_another_revision_is_not_read_directly(tmp_path: Path, stamp: list[str] | None) -> None:
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY)")
        if stamp is not None:
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            connection.executemany("INSERT INTO alembic_version VALUES (?)", [(v,) for v in stamp])
    connection.close()
    assert up_to_date_file(f"sqlite:///{path}") is None


def test_other_ledgers_are_left_to_open_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:
        store.add_events([event("a")])
    for other in (
        f"sqlite:///{tmp_path / 'missing.db'}",  # open_store creates it
        f"sqlite:///{tmp_path / 'ledger.db'}?timeout=5",
        f"sqlite+pysqlite:///{tmp_path / 'ledger.db'}",
        "sqlite://",
        "postgresql+psycopg://u@127.0.0.1:1/db",
    ):
        assert up_to_date_file(other) is None, other
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "text.db").write_text("not a database")
    assert up_to_date_file(f"sqlite:///{tmp_path / 'text.db'}") is None
    (tmp_path / "empty.db").touch()
    assert up_to_date_file(f"sqlite:///{tmp_path / 'empty.db'}") is None
