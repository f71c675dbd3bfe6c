"""Keep the dashboard's slow results in the ledger database, so a restart does not redo them.

The portfolio's snapshot (the holdings fold and the tax engine's standing) and each year's tax
document depend only on the ledger's events, the code that computed them, the tax profile and
the price data (bundled, the user's, fetched). The ledger only grows, and ``seq`` (the import
order) only increases, so ``(event count, last seq)`` names one state of the ledger. A stored
result is used only when that pair, and a fingerprint of the code, the price files and the
profile, are all the same as now; anything else is recomputed (and replaces the stored row).

The table is the dashboard's own (``dashboard_cache``), created on first use beside the
ledger's tables; it is not part of the ledger's schema, and dropping it loses nothing but time.
Payloads are JSON with decimals as strings, so they read back exactly.
"""

from __future__ import annotations

import hashlib
import json
import logging
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, Table, Text, func, select
from sqlalchemy.exc import SQLAlchemyError

from marginbook import __version__
from marginbook.app.holdings_fold import FoldResult

log = logging.getLogger(__name__)

#: Bumped when the payload's shape changes.
PAYLOAD_VERSION = 1

_metadata = MetaData()
cache_table = Table(
    "dashboard_cache",
    _metadata,
    Column("name", Text, primary_key=True),
    Column("ledger_count", BigInteger, nullable=False),
    Column("ledger_last_seq", BigInteger, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("payload_version", Integer, nullable=False),
    Column("payload", Text, nullable=False),
)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of every file of the installed marginbook package (name, size, modification
    time): a result computed by other code, or over other bundled prices, is not reused."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    _add_files(digest, root, named_from=root)
    return digest.hexdigest()


def _add_files(digest: Any, folder: Path, *, named_from: Path | None = None) -> None:
    """Feed each file under ``folder`` (name, size, modification time; bytecode caches aside) to
    ``digest``; names are relative to ``named_from`` when given, else absolute."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            name = path.relative_to(named_from) if named_from is not None else path
            digest.update(f"{name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())


def price_files_fingerprint() -> str:
    """A digest of the price files outside the package (the user's folder and the bars of
    ``marginbook prices fetch``): the engine prices events without ``usd_value`` from them."""
    digest = hashlib.sha256()
    try:
        from marginbook.market.prices import price_cache_dir, user_prices_dir
    except ImportError:
        return digest.hexdigest()
    for folder in (user_prices_dir(), price_cache_dir()):
        if folder.is_dir():
            _add_files(digest, folder)
    return digest.hexdigest()


def fingerprint(profile_path: Path | None, *extra: str) -> str:
    """The code fingerprint with the user's price files, the profile file's content and ``extra``
    words (e.g. the year)."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(price_files_fingerprint().encode())
    if profile_path is not None:
        try:
            digest.update(profile_path.read_bytes())
        except OSError:
            digest.update(b"unreadable profile")
    for word in extra:
        digest.update(b"|" + word.encode())
    return digest.hexdigest()


class ResultCache:
    """Results stored in the ledger database under ``(name, count, last seq, fingerprint)``."""

    def __init__(self, engine: Engine, events_table: Table) -> None:
        self._engine = engine
        self._events = events_table
        self._ready = False

    @classmethod
    def for_store(cls, store: object) -> ResultCache | None:
        """A cache in ``store``'s database when it is the SQL ledger, else ``None``."""
        engine = getattr(store, "engine", None)
        if not isinstance(engine, Engine):
            return None
        from marginbook.ledger.schema import events

        return cls(engine, events)

    def _ensure(self) -> None:
        if not self._ready:
            _metadata.create_all(self._engine, checkfirst=True)
            self._ready = True

    def ledger_mark(self) -> tuple[int, int]:
        """``(event count, last seq)``: the state of the ledger a result belongs to."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(func.count(), func.coalesce(func.max(self._events.c.seq), 0)).select_from(self._events)
            ).one()
        return int(row[0]), int(row[1])

    def load(self, name: str, mark: tuple[int, int], key: str) -> Any | None:
        """The payload stored for ``name`` at ledger state ``mark`` with fingerprint ``key``, or ``None``."""
        try:
            self._ensure()
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(cache_table).where(cache_table.c.name == name)
                ).mappings().first()
        except SQLAlchemyError as error:  # a cache that cannot be read is only a slower start
            log.warning("dashboard cache not readable: %s", error)
            return None
        if row is None or (row["ledger_count"], row["ledger_last_seq"]) != mark:
            return None
        if row["fingerprint"] != key or row["payload_version"] != PAYLOAD_VERSION:
            return None
        return json.loads(row["payload"])

    def save(self, name: str, mark: tuple[int, int], key: str, payload: Any) -> None:
        """Store ``payload`` (JSON-ready) for ``name``, replacing what was stored before."""
        text = json.dumps(payload, separators=(",", ":"))
        values = {
            "name": name,
            "ledger_count": mark[0],
            "ledger_last_seq": mark[1],
            "fingerprint": key,
            "payload_version": PAYLOAD_VERSION,
            "payload": text,
        }
        try:
            self._ensure()
            with self._engine.begin() as connection:
                connection.execute(cache_table.delete().where(cache_table.c.name == name))
                connection.execute(cache_table.insert().values(**values))
        except SQLAlchemyError as error:
            log.warning("dashboard cache not writable: %s", error)


# -- payloads -------------------------------------------------------------------------------


def _pairs(values: dict[tuple[str, str], Any]) -> list[list[str]]:
    return [[a, b, str(v)] for (a, b), v in values.items()]


def fold_payload(fold: FoldResult) -> dict[str, Any]:
    """The fold as JSON (decimals as exact strings)."""
    return {
        "balances": _pairs(fold.balances),
        "last_price": {k: str(v) for k, v in fold.last_price.items()},
        "interest_by_year": {str(k): str(v) for k, v in fold.interest_by_year.items()},
        "interest_by_wallet": {k: str(v) for k, v in fold.interest_by_wallet.items()},
        "liabilities": _pairs(fold.liabilities),
        "loan_position": [[w, a, p] for (w, a), p in fold.loan_position.items()],
        "last_bought": dict(fold.last_bought),
        "value_history": [[day, str(value)] for day, value in fold.value_history],
        "events": fold.events,
    }


def fold_from_payload(payload: dict[str, Any]) -> FoldResult:
    """The fold stored by :func:`fold_payload`."""
    return FoldResult(
        balances={(w, a): Decimal(v) for w, a, v in payload["balances"]},
        last_price={k: Decimal(v) for k, v in payload["last_price"].items()},
        interest_by_year={int(k): Decimal(v) for k, v in payload["interest_by_year"].items()},
        interest_by_wallet={k: Decimal(v) for k, v in payload["interest_by_wallet"].items()},
        liabilities={(w, a): Decimal(v) for w, a, v in payload["liabilities"]},
        loan_position={(w, a): p for w, a, p in payload["loan_position"]},
        last_bought=dict(payload["last_bought"]),
        value_history=[(day, Decimal(value)) for day, value in payload["value_history"]],
        events=int(payload["events"]),
    )


def standing_payload(standing: Any) -> dict[str, Any]:
    """What the portfolio reads of a :class:`marginbook.tax.standing.Standing`: the held basis per
    pool, the realized result per year and the warnings (not the year reports)."""
    return {
        "held": [
            [wallet, asset, str(h.quantity), str(h.basis), h.basis_missing, h.lots]
            for (wallet, asset), h in standing.held.items()
        ],
        "realized_by_year": {str(k): str(v) for k, v in standing.realized_by_year.items()},
        "warnings": list(standing.warnings),
    }


def standing_from_payload(payload: dict[str, Any]) -> Any:
    """A :class:`marginbook.tax.standing.Standing` from :func:`standing_payload` (no year reports)."""
    from marginbook.tax.standing import HeldBasis, Standing

    return Standing(
        held={
            (wallet, asset): HeldBasis(Decimal(q), Decimal(basis), bool(missing), int(lots))
            for wallet, asset, q, basis, missing, lots in payload["held"]
        },
        realized_by_year={int(k): Decimal(v) for k, v in payload["realized_by_year"].items()},
        reports={},
        warnings=tuple(payload["warnings"]),
    )
