"""What ``marginbook sync`` keeps between runs: API keys (read, never stored) and sync cursors.

Keys come from the environment (``MARGINBOOK_<EXCHANGE>_API_KEY``, ``…_SECRET`` and, for
exchanges that need one, ``…_PASSWORD``), else from the system keyring (service
``marginbook-<exchange>``, entries ``api_key``, ``secret``, ``password``). They are handed to
ccxt and to nothing else: not to the ledger, not to the cursor file, not to any message.

The cursor of each (database, exchange, kind) is the time of the newest record synced. The
ledger store has no place for it, so it lives in a small JSON file in the user data directory
(``sync-cursors.json``, or ``$MARGINBOOK_SYNC_STATE``), keyed by the database URL.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from marginbook.domain.errors import MarginbookError

_FIELDS = (
    ("apiKey", "API_KEY", "api_key"),
    ("secret", "SECRET", "secret"),
    ("password", "PASSWORD", "password"),
)


def _env_prefix(exchange_id: str) -> str:
    return "MARGINBOOK_" + re.sub(r"[^A-Z0-9]", "_", exchange_id.upper()) + "_"


def credentials(exchange_id: str) -> dict[str, str]:
    """The API credentials of ``exchange_id`` as ccxt expects them (``apiKey``, ``secret`` …).

    Raises:
        MarginbookError: when neither the environment nor the keyring has a key and a secret;
            the message says where to put them and never shows a value.
    """
    prefix = _env_prefix(exchange_id)
    found = {
        name: os.environ[prefix + suffix] for name, suffix, _ in _FIELDS if os.environ.get(prefix + suffix)
    }
    if "apiKey" not in found or "secret" not in found:
        found = _from_keyring(exchange_id) or found
    if "apiKey" not in found or "secret" not in found:
        raise MarginbookError(
            f"no API key for {exchange_id}: set {prefix}API_KEY and {prefix}SECRET, or store them in the "
            f"system keyring (service 'marginbook-{exchange_id}', entries 'api_key' and 'secret')"
        )
    return found


def _from_keyring(exchange_id: str) -> dict[str, str]:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return {}
    found: dict[str, str] = {}
    try:
        for name, _, entry in _FIELDS:
            value = keyring.get_password(f"marginbook-{exchange_id}", entry)
            if value:
                found[name] = value
    except (KeyringError, RuntimeError):
        return {}
    return found


def redact(text: str, secrets: dict[str, str]) -> str:
    """``text`` with every credential value replaced by ``***`` (for error messages)."""
    for value in secrets.values():
        if value:
            text = text.replace(value, "***")
    return text


def cursor_file() -> Path:
    """``$MARGINBOOK_SYNC_STATE``, else ``sync-cursors.json`` in the user data directory."""
    configured = os.environ.get("MARGINBOOK_SYNC_STATE")
    if configured:
        return Path(configured)
    from platformdirs import user_data_dir

    return Path(user_data_dir("marginbook")) / "sync-cursors.json"


def _read_all(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MarginbookError(
            f"{path}: the sync cursor file is unreadable ({error}); remove it to sync anew"
        ) from None
    return document if isinstance(document, dict) else {}


def load_cursors(db_url: str | None, exchange_id: str, path: Path | None = None) -> dict[str, int]:
    """kind → last synced time (ms) of ``exchange_id`` into the ledger at ``db_url``."""
    entry = _read_all(path or cursor_file()).get(db_url or "default", {}).get(exchange_id, {})
    return {kind: int(value) for kind, value in entry.items() if isinstance(value, int)}


def save_cursors(
    db_url: str | None, exchange_id: str, cursors: dict[str, int], path: Path | None = None
) -> None:
    """Record the cursors after the events were written (atomically: a crash keeps the old file)."""
    target = path or cursor_file()
    document = _read_all(target)
    document.setdefault(db_url or "default", {}).setdefault(exchange_id, {}).update(cursors)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".cursors-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2, sort_keys=True)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
