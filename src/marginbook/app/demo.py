"""The demo: a small, believable ledger imported into a fresh database, then its holdings.

The bundled ``data/demo/demo-ledger.csv`` tells two years of one trader's story: buys of BTC
and ETH on Coinbase and Kraken with fees, coins moved to a Ledger Nano (network fee paid in
coin), ETH staking income, a 2x BTC long on Kraken with borrowed USD that pays Kraken's
opening and rollover fees and is liquidated in the August 2024 crash, then a few more trades.

The demo never touches the user's real ledger: it writes a new SQLite file in a temporary
directory, or in a directory the user names.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from marginbook.app.holdings import Holding, fold_holdings
from marginbook.app.ledger_io import ImportSummary, import_files
from marginbook.ledger import open_store

DEMO_DB_NAME = "marginbook-demo.db"


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo did and found.

    Attributes:
        db_path: the SQLite file holding the demo ledger (kept, to explore further).
        summary: the import of the bundled file.
        holdings: balances per wallet and asset after every event.
        event_count: events in the demo ledger.
    """

    db_path: Path
    summary: ImportSummary
    holdings: list[Holding]
    event_count: int


def demo_ledger_path() -> Path:
    """The bundled demo ledger CSV."""
    return Path(str(resources.files("marginbook").joinpath("data", "demo", "demo-ledger.csv")))


def run_demo(directory: Path | None = None) -> DemoResult:
    """Import the demo ledger into ``directory/marginbook-demo.db`` and fold its holdings.

    Args:
        directory: where to keep the demo database; a new temporary directory when ``None``.
            Running the demo again on the same directory changes nothing (ids are stable).
    """
    target = Path(tempfile.mkdtemp(prefix="marginbook-demo-")) if directory is None else directory
    db_path = target / DEMO_DB_NAME
    with open_store(f"sqlite:///{db_path}") as store:
        summary = import_files(store, [demo_ledger_path()], format_name="marginbook")
        holdings = fold_holdings(store.events())
        count = store.count()
    return DemoResult(db_path=db_path, summary=summary, holdings=holdings, event_count=count)
