"""Opening a ledger: where the default file goes, which URLs work, and the migrated schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from marginbook.domain.errors import InputError, MarginbookError
from marginbook.ledger import open_store
from marginbook.ledger.migrate import HEAD_REVISION, current_revision, head_revision
from marginbook.ledger.schema import metadata
from tests.ledger.builders import event


def test_default_ledger_is_a_file_in_the_user_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with open_store() as store:
        store.add_events([event("a")])
    assert (tmp_path / "data" / "marginbook" / "marginbook.db").is_file()
    with open_store() as reopened:
        assert reopened.count() == 1


def test_missing_directories_of_a_sqlite_file_are_created(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "ledger.db"
    with open_store(f"sqlite:///{target}") as store:
        assert store.count() == 0
    assert target.is_file()


@pytest.mark.parametrize("url", ["not a url", "mysql://root@localhost/x", "oracle://u@h/db"])
def test_an_unusable_url_is_bad_input(url: str) -> None:
    with pytest.raises(InputError, match="--db"):
        open_store(url)


def test_an_unreachable_server_is_a_failure_not_a_crash() -> None:
    with pytest.raises(MarginbookError, match="cannot open the ledger at postgresql"):
        open_store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")


def test_password_is_not_shown_in_errors() -> None:
    with pytest.raises(MarginbookError) as caught:
        open_store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")
    assert "secret" not in str(caught.value)


def test_migrations_build_exactly_the_schema_the_code_queries(store_url: str) -> None:
    with open_store(store_url) as store, store.engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
        assert set(inspect(connection).get_table_names()) == {"events", "alembic_version"}


def test_reopening_a_migrated_ledger_keeps_its_events(store_url: str) -> None:
    with open_store(store_url) as store:
        store.add_events([event("kept")])
    with open_store(store_url) as again:
        assert [e.id for e in again.events()] == ["kept"]


def test_the_written_down_head_is_alembics_head() -> None:
    # A new migration that does not update HEAD_REVISION would be skipped on open: fail here.
    assert head_revision() == HEAD_REVISION


def test_opening_an_up_to_date_sqlite_ledger_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:  # creates and migrates
        store.add_events([event("kept")])
    probe = (
        "import sys\n"
        "from marginbook.ledger import open_store\n"
        f"with open_store({url!r}) as store:\n"
        "    print(store.count(), 'alembic' in sys.modules)\n"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.split() == ["1", "False"]
    # A ledger without Alembic's stamp is still migrated (through Alembic) on open.
    fresh = f"sqlite:///{tmp_path / 'new.db'}"
    found = subprocess.run([sys.executable, "-c", probe.replace(repr(url), repr(fresh))], capture_output=True,
                           text=True, check=True)
    assert found.stdout.split() == ["0", "True"]
