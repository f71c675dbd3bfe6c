"""The stages a tax run reports (``marginbook.tax.progress``), which the command line shows as
a progress bar on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from marginbook.app.stored_events import tax_events_from_store
from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.ledger import open_store
from marginbook.tax import fast, progress
from marginbook.tax.book import Scope
from marginbook.tax.engine import RunOptions
from marginbook.tax.profile import Profile
from marginbook.tax.report import compute_tax_report
from tests.tax.synthetic import synthetic_ledger

SRC = str(Path(__file__).resolve().parents[2] / "src")
Heard = list[tuple[str, int | None, int | None]]


def _heard(events: object, end_year: int) -> Heard:
    heard: Heard = []
    with progress.listen(lambda stage, done, total: heard.append((stage, done, total))):
        compute_tax_report(events, end_year, Profile(), None, RunOptions(scope=Scope.UNIVERSAL))  # type: ignore[arg-type]
    return heard


def _stages(heard: Heard) -> list[str]:
    """The stages in order, each once (a counted stage reports many times)."""
    return [stage for n, (stage, _done, _total) in enumerate(heard) if n == 0 or heard[n - 1][0] != stage]


def test_a_columnar_run_reports_its_stages_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast fold on a small ledger.
    monkeypatch.setattr(fast, "MIN_EVENTS", 0)
    events = synthetic_ledger(400, seed=3, windows=2)
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.add_events(events)
        last = max(e.timestamp.year for e in events)
        heard = _heard(tax_events_from_store(store), last)
    stages = _stages(heard)
    first = min(e.timestamp.year for e in events)
    assert stages == [
        "reading the ledger", "encoding 400 rows", "matching lots", "exact basis of the lots taken",
        "building the records", *[f"forms of {year}" for year in range(first, last + 1)],
    ]  # fmt: skip
    basis = [(done, total) for stage, done, total in heard if stage == "exact basis of the lots taken"]
    assert basis and basis[0][0] == 0 and basis[0][1] is not None and basis[0][1] > 0


def test_the_decimal_fold_counts_its_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "EVERY", 100)
    events = synthetic_ledger(450, seed=4, windows=2)
    # A borrow of a coin (a short sale's): the fast fold stands aside, the Decimal fold walks
    # the events one by one. (A USD borrow the fast fold runs.)
    start = events[0].timestamp - timedelta(days=1)
    borrow = LedgerEvent(
        id="loan", timestamp=start, kind=EventKind.BORROW, wallet="wallet0", asset="DOGE", amount=Decimal(1)
    )
    ledger = [borrow, *events]
    heard = _heard(ledger, max(e.timestamp.year for e in events))
    counts = [(done, total) for stage, done, total in heard if stage == "folding events"]
    assert counts[0] == (0, 451)
    assert [done for done, _total in counts[1:-1]] == [100, 200, 300, 400]
    assert counts[-1] == (451, 451)


def test_nobody_listening_hears_nothing_and_changes_nothing() -> None:
    events = synthetic_ledger(120, seed=5, windows=2)
    year = max(e.timestamp.year for e in events)
    options = RunOptions(scope=Scope.UNIVERSAL)
    quiet = compute_tax_report(events, year, Profile(), None, options)
    heard: Heard = []
    with progress.listen(lambda stage, done, total: heard.append((stage, done, total))):
        shown = compute_tax_report(events, year, Profile(), None, options)
    assert heard and not progress.listening()
    assert shown.rows == quiet.rows and shown.schedule_d == quiet.schedule_d


def test_the_command_line_shows_the_stages_on_a_terminal_only(tmp_path: Path) -> None:
    """On a terminal (a pseudo-terminal here) stderr shows the stages; the files are the same
    as without one."""
    events = synthetic_ledger(300, seed=6, windows=2)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url) as store:
        store.add_events(events)
    year = str(max(e.timestamp.year for e in events))
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "120"}

    def tax(out: Path, terminal: bool) -> str:
        command = [sys.executable, "-m", "marginbook", "--db", url, "tax", "--year", year, "--format", "json",
                   "--out", str(out)]  # fmt: skip
        if not terminal:
            return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stderr
        leader, follower = pty.openpty()
        child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=follower)  # fmt: skip
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            seen += chunk
        os.close(leader)
        assert child.wait(timeout=60) == 0
        return seen.decode("utf-8", "replace")

    plain = tax(tmp_path / "plain", terminal=False)
    shown = tax(tmp_path / "shown", terminal=True)
    # 300 events: the fast fold's stages (from MIN_EVENTS = 100 events).
    assert "matching lots" in shown and "writing json" in shown
    assert "matching lots" not in plain and "writing" not in plain
    name = f"tax-{year}.json"
    assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "shown" / name).read_bytes()
    assert json.loads((tmp_path / "shown" / name).read_text())["form_8949"]
