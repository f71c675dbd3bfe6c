"""Benchmark: import a generated 1,000,000-row ledger CSV into SQLite through the real path.

Usage (from the repository root, with marginbook importable)::

    python benchmarks/ledger_import.py [--rows 1000000] [--with-ids] [--keep DIR]

Generates the CSV at run time in a temporary directory (never committed), then measures,
each in a fresh child process so that peak memory is that phase's own:

1. ``parse``: the import path's reader alone (no database) over the whole file;
2. ``codec``: the row-by-row codec (:func:`marginbook.importers.ledger_csv.iter_events`)
   on the first 100,000 rows, for comparison;
3. ``import``: ``open_store`` + :func:`marginbook.app.ledger_io.import_files` into a new
   SQLite file: the whole ``marginbook import`` minus argument parsing and printing;
4. ``reimport``: the same file again (every event unchanged).

Prints one JSON object per phase and a summary. Peak RSS is ``ru_maxrss`` of the child, and
``cpu_seconds`` its user + system CPU time (all threads, start-up included): on a machine
shared with other work, that moves far less than the wall time.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe

CODEC_SAMPLE_ROWS = 100_000
TARGET_ROWS_PER_SECOND = 100_000
TARGET_PEAK_RSS_MB = 1024

_HEADER = ["id", "timestamp", "type", "wallet", "asset", "amount", "counter_asset", "counter_amount",
           "fee_asset", "fee_amount", "usd_value", "to_wallet", "position", "note"]
_PRICES = {"BTC": 60_000, "ETH": 3_000, "SOL": 150}


def generate(path: Path, rows: int, *, with_ids: bool, seed: int = 2025) -> None:
    """Write a believable ledger: mostly trades with fees, some income, transfers, interest."""
    rng = random.Random(seed)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    wallets = ["kraken", "coinbase", "binance"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(_HEADER)
        for i in range(rows):
            when += timedelta(seconds=rng.randint(0, 40), microseconds=rng.choice([0, 0, 0, 250_000]))
            asset = rng.choice(list(_PRICES))
            wallet = rng.choice(wallets)
            quantity = f"{rng.randint(1, 5 * 10**8) / 10**8:.8f}"
            price = _PRICES[asset] * rng.uniform(0.7, 1.3)
            usd = f"{float(quantity) * price:.2f}"
            fee = f"{float(usd) * 0.0026:.2f}"
            roll = rng.random()
            row: dict[str, str] = {"timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "wallet": wallet,
                                   "asset": asset, "amount": quantity}
            if roll < 0.45:
                row |= {"type": "buy", "counter_asset": "USD", "counter_amount": usd, "fee_asset": "USD",
                        "fee_amount": fee}
            elif roll < 0.85:
                row |= {"type": "sell", "counter_asset": "USD", "counter_amount": usd, "fee_asset": "USD",
                        "fee_amount": fee}
            elif roll < 0.93:
                row |= {"type": "income", "usd_value": usd, "note": "staking reward"}
            elif roll < 0.97:
                to = rng.choice([w for w in [*wallets, "ledger-nano"] if w != wallet])
                row |= {"type": "transfer", "to_wallet": to, "fee_asset": asset, "fee_amount": "0.0001"}
            else:
                interest = f"{max(float(usd) * 0.0002, 0.01):.2f}"
                row |= {"type": "interest", "asset": "USD", "amount": interest, "position": f"pos-{i // 1000}"}
            if with_ids:
                row["id"] = f"bench-{i}"
            writer.writerow([row.get(name, "") for name in _HEADER])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def phase_parse(csv_path: Path) -> dict[str, object]:
    from marginbook.app import fast_ledger_csv

    start = time.perf_counter()
    count = sum(block.height for block in fast_ledger_csv.iter_stored_frames(csv_path))
    return {"rows": count, "seconds": time.perf_counter() - start}


def phase_codec(csv_path: Path) -> dict[str, object]:
    from itertools import islice

    from marginbook.importers import ledger_csv

    start = time.perf_counter()
    count = sum(1 for _ in islice(ledger_csv.iter_events(csv_path), CODEC_SAMPLE_ROWS))
    return {"rows": count, "seconds": time.perf_counter() - start}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(owner: object, name: str, label: str, spent: dict[str, float]) -> None:
    """Wrap ``owner.name`` so that the process CPU seconds (all threads) spent in it add up
    under ``label``: the per-phase split of an import, measured without changing it."""
    original = getattr(owner, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        start = _cpu()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = round(spent.get(label, 0.0) + _cpu() - start, 2)

    setattr(owner, name, wrapper)


def phase_import(csv_path: Path, db_path: Path) -> dict[str, object]:
    from marginbook.app.ledger_io import import_files
    from marginbook.ledger import arrow_stage, open_store, staging
    from marginbook.ledger.store import EventWriter

    spent: dict[str, float] = {}
    _timed(arrow_stage.ScratchStage, "fill", "read_and_stage", spent)  # reader + ADBC thread
    _timed(staging._Stage, "copy", "copy_into_events", spent)
    _timed(EventWriter, "add_rows", "chunked_path", spent)  # a re-import
    _timed(EventWriter, "finish", "index_rebuild", spent)
    start, cpu_start = time.perf_counter(), _cpu()
    with open_store(f"sqlite:///{db_path}") as store:
        opened = _cpu()
        summary = import_files(store, [csv_path])
        stored = store.count()
    spent["open_store"] = round(opened - cpu_start, 2)
    spent["commit_close_and_rest"] = round(_cpu() - cpu_start - sum(spent.values()), 2)
    return {"rows": summary.added + summary.unchanged, "added": summary.added,
            "unchanged": summary.unchanged, "stored": stored, "seconds": time.perf_counter() - start,
            "cpu_by_phase": spent}


def _child(phase: str, csv_path: Path, db_path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--csv", str(csv_path), "--db", str(db_path)],
        check=True, capture_output=True, text=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--with-ids", action="store_true", help="give every row an id (as an export does)")
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep the files")
    parser.add_argument("--phase", choices=["parse", "codec", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        runner = {"parse": lambda: phase_parse(args.csv), "codec": lambda: phase_codec(args.csv),
                  "import": lambda: phase_import(args.csv, args.db)}[args.phase]
        result = runner()
        result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # CPU seconds (all threads) move far less with other processes' load than wall time.
        result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
        print(json.dumps(result))
        return

    directory = args.keep or Path(tempfile.mkdtemp(prefix="marginbook-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, db_path = directory / "ledger-1m.csv", directory / "bench.db"
    for stale in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        stale.unlink(missing_ok=True)
    print(f"machine: {describe()}", flush=True)
    start = time.perf_counter()
    generate(csv_path, args.rows, with_ids=args.with_ids)
    print(f"generated {args.rows} rows ({csv_path.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    results = {}
    for phase in ("parse", "codec", "import", "reimport"):
        results[phase] = _child("import" if phase == "reimport" else phase, csv_path, db_path)
        rate = float(results[phase]["rows"]) / float(results[phase]["seconds"])  # type: ignore[arg-type]
        results[phase]["rows_per_second"] = round(rate)
        print(phase, json.dumps(results[phase]), flush=True)
    imported = results["import"]
    verdict = (
        f"import: {imported['rows_per_second']} rows/s (target {TARGET_ROWS_PER_SECOND}), "
        f"peak RSS {imported['peak_rss_mb']} MB (target <= {TARGET_PEAK_RSS_MB}); "
        f"machine after: {describe()}"
    )
    print(verdict)
    if not args.keep:
        csv_path.unlink()
        db_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
