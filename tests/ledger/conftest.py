"""Fixtures that run the ledger tests on SQLite and on PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432, database ``test`` (override with
``MARGINBOOK_TEST_PG_URL``). Each test gets its own fresh schema, dropped afterwards, so
runs are isolated from each other and from anything else in that database. Without a server
the PostgreSQL variants skip, except under ``CI=true``, where a missing server fails them:
CI must prove both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from marginbook.ledger import LedgerStore, open_store

PG_URL = os.environ.get("MARGINBOOK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_unavailable_reason() -> str | None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    try:
        with psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password,
            dbname=url.database, connect_timeout=3,
        ):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)}: {error}".strip()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL; skips (or fails under CI=true) when the server is not there."""
    reason = _pg_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true needs the PostgreSQL server: {reason}")
        pytest.skip(reason)
    return PG_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema (dropped after the test)."""
    from sqlalchemy import create_engine, text

    schema = f"mb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """A fresh ledger URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[LedgerStore]:
    """A fresh, migrated ledger on each backend."""
    with open_store(store_url) as opened:
        yield opened
