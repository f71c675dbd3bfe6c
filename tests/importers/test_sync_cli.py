"""``marginbook sync``: keys from env or keyring, never shown or stored; incremental cursors."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from marginbook.cli.commands import sync as sync_command
from marginbook.cli.main import app
from marginbook.domain.errors import InputError, MarginbookError
from marginbook.domain.events import LedgerEvent
from marginbook.importers import sync_state
from tests.importers.test_ccxt_sync import RecordedKraken

API_KEY = "recorded-key-Zx81"
SECRET = "c2VjcmV0LWRvLW5vdC1wcmludA=="


class FakeStore:
    """Stands in for marginbook.ledger.store: keeps events by id, like the ledger does."""

    def __init__(self) -> None:
        self.events: dict[str, LedgerEvent] = {}
        self.urls: list[str | None] = []

    def open_store(self, url: str | None) -> FakeStore:
        self.urls.append(url)
        return self

    def add_events(self, events: list[LedgerEvent]) -> int:
        new = [e for e in events if e.id not in self.events]
        self.events.update((e.id, e) for e in new)
        return len(new)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeStore:
    fake = FakeStore()
    module = types.ModuleType("marginbook.ledger.store")
    module.open_store = fake.open_store  # type: ignore[attr-defined]
    if importlib.util.find_spec("marginbook.ledger") is None:
        monkeypatch.setitem(sys.modules, "marginbook.ledger", types.ModuleType("marginbook.ledger"))
    monkeypatch.setitem(sys.modules, "marginbook.ledger.store", module)
    monkeypatch.setenv("MARGINBOOK_SYNC_STATE", str(tmp_path / "cursors.json"))
    monkeypatch.setattr(sync_command, "make_client", lambda exchange_id, secrets: RecordedKraken(secrets))
    return fake


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, ["--db", "sqlite:///test.db", "sync", "--exchange", "kraken", *args])


def test_sync_writes_events_and_never_shows_or_stores_the_keys(
    store: FakeStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MARGINBOOK_KRAKEN_API_KEY", API_KEY)
    monkeypatch.setenv("MARGINBOOK_KRAKEN_SECRET", SECRET)
    result = _run("--kinds", "trades,ledger", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["fetched"], summary["added"]) == (9, 9)
    assert store.urls == ["sqlite:///test.db"] and len(store.events) == 9
    cursor_text = (tmp_path / "cursors.json").read_text()
    for secret in (API_KEY, SECRET):
        assert secret not in result.output and secret not in cursor_text
        assert all(secret not in event.fingerprint() for event in store.events.values())
    assert json.loads(cursor_text)["sqlite:///test.db"]["kraken"] == {
        "ledger": 1711644270000,
        "trades": 1710150317000,
    }


def test_a_second_sync_resumes_and_adds_nothing(store: FakeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINBOOK_KRAKEN_API_KEY", API_KEY)
    monkeypatch.setenv("MARGINBOOK_KRAKEN_SECRET", SECRET)
    assert _run("--kinds", "trades,ledger").exit_code == 0
    again = _run("--kinds", "trades,ledger", "--format", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["fetched"] == 0
    restarted = _run("--kinds", "trades,ledger", "--since", "2024-01-01", "--format", "json")
    assert (json.loads(restarted.stdout)["fetched"], json.loads(restarted.stdout)["added"]) == (9, 0)
    assert len(store.events) == 9


def test_keys_come_from_the_keyring_when_the_environment_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MARGINBOOK_KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("MARGINBOOK_KRAKEN_SECRET", raising=False)
    stored = {("marginbook-kraken", "api_key"): API_KEY, ("marginbook-kraken", "secret"): SECRET}
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, entry: stored.get((service, entry)))
    assert sync_state.credentials("kraken") == {"apiKey": API_KEY, "secret": SECRET}


def test_missing_keys_say_where_to_put_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MARGINBOOK_KRAKEN_API_KEY", raising=False)
    monkeypatch.setenv("MARGINBOOK_KRAKEN_SECRET", SECRET)
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, entry: None)
    with pytest.raises(MarginbookError) as caught:
        sync_state.credentials("kraken")
    assert "MARGINBOOK_KRAKEN_API_KEY" in str(caught.value) and SECRET not in str(caught.value)


def test_error_messages_are_redacted() -> None:
    assert sync_state.redact(f"bad key {API_KEY}", {"apiKey": API_KEY}) == "bad key ***"


class KrakenWithAnOddEntry(RecordedKraken):
    """The recorded Kraken plus one ledger entry that the mapping does not understand."""

    def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        document = super().fetch(url, method, headers, body)
        if url.endswith("/Ledgers") and "ofs=" not in (body or ""):
            document["result"]["ledger"]["LODD00-AAAAA-BBBBBB"] = {
                "refid": "R",
                "time": 1711700000.0,
                "type": "adjustment",
                "subtype": "",
                "aclass": "currency",
                "asset": "XXBT",
                "amount": "0.0100000000",
                "fee": "0.0000000000",
                "balance": "0.3099800000",
            }
        return document


def test_a_record_not_understood_writes_nothing(
    store: FakeStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MARGINBOOK_KRAKEN_API_KEY", API_KEY)
    monkeypatch.setenv("MARGINBOOK_KRAKEN_SECRET", SECRET)
    monkeypatch.setattr(
        sync_command, "make_client", lambda exchange_id, secrets: KrakenWithAnOddEntry(secrets)
    )
    result = _run("--kinds", "trades,ledger")
    assert isinstance(result.exception, InputError)
    assert "LODD00-AAAAA-BBBBBB" in str(result.exception) and "'adjustment'" in str(result.exception)
    assert store.events == {} and not (tmp_path / "cursors.json").exists()
