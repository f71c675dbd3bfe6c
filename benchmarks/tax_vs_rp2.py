"""Tax engine benchmark: marginbook against RP2, and a million transactions from the ledger.

Run from the repository root (RP2 is a test-only dependency)::

    PYTHONPATH=src:. python benchmarks/tax_vs_rp2.py [--sizes 10000 50000] [--million 1000000]

1. On the same synthetic ledgers (buys, sells, transfers; ``tests/tax/synthetic.py``), at
   each size: RP2's FIFO against marginbook's FIFO in one pool per asset (``--scope
   universal``, as RP2), both from events in memory to every year's gains, and a check that
   the Form 8949 rows are identical (``tests/tax/rp2_adapter.differences``).
2. A million transactions written to a SQLite ledger (setup, not timed), then, in a child
   process, ``marginbook --db URL tax --year Y --format json --out DIR`` (wall time and peak
   memory of the child); and the floors: merely reading the same events from the ledger, and
   merely parsing the same ledger as a ledger CSV file.

Inputs are generated at run time under a temporary directory and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.tax.rp2_adapter import differences, run_rp2  # noqa: E402
from tests.tax.synthetic import synthetic_ledger  # noqa: E402

from marginbook.tax.book import Scope  # noqa: E402
from marginbook.tax.engine import RunOptions, run_engine  # noqa: E402
from marginbook.tax.methods import Method  # noqa: E402
from marginbook.tax.profile import Profile  # noqa: E402
from marginbook.tax.report import build_reports  # noqa: E402


def ours(events: list, method: str) -> int:
    """marginbook from events to every year's 8949 rows; returns the number of rows."""
    profile = Profile()
    options = RunOptions(scope=Scope.UNIVERSAL, method=Method(method))
    result = run_engine(events, profile, None, options)
    last = max(d.disposed_at.year for d in result.disposals)
    return sum(len(r.rows) for r in build_reports(result, last, profile, options).values())


def versus_rp2(size: int, method: str) -> dict[str, object]:
    events = synthetic_ledger(size, seed=size, windows=8)
    start = time.perf_counter()
    rows = ours(events, method)
    mine = time.perf_counter() - start
    start = time.perf_counter()
    theirs = run_rp2(events, method)
    rp2 = time.perf_counter() - start
    problems = differences(events, method, theirs)
    return {
        "transactions": len(events),
        "marginbook_s": round(mine, 3),
        "rp2_s": round(rp2, 2),
        "speedup": round(rp2 / mine, 1),
        "rows_8949": rows,
        "rp2_matches": len(theirs),
        "identical": not problems,
        "first_difference": problems[0] if problems else None,
    }


_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def child(command: list[str]) -> tuple[float, float]:
    """Run ``command`` in a fresh process; return its wall time (s) and peak memory (MiB).

    A small parent process runs it, so the peak is that command's alone.
    """
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], check=True, env=env, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def million(count: int, work: Path) -> dict[str, object]:
    from marginbook.importers.ledger_csv import write
    from marginbook.ledger import open_store

    events = synthetic_ledger(count, seed=1, windows=8)
    year = 2025
    in_year = sum(1 for e in events if e.timestamp.year == year)
    before = sum(1 for e in events if e.timestamp.year <= year)
    url = f"sqlite:///{work / 'ledger.db'}"
    start = time.perf_counter()
    with open_store(url) as store:
        store.add_events(events)
    setup_db = time.perf_counter() - start
    csv_path = work / "ledger.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        write(events, handle)
    del events
    python = sys.executable
    out = work / "out"
    tax_wall, tax_peak = child(
        [
            python,
            "-m",
            "marginbook",
            "--db",
            url,
            "tax",
            "--year",
            str(year),
            "--format",
            "json",
            "--out",
            str(out),
        ]
    )
    document = json.loads((out / f"tax-{year}.json").read_text())
    read_wall, read_peak = child(
        [
            python,
            "-c",
            (
                "import sys; from marginbook.ledger import open_store\n"
                f"s = open_store({url!r}); n = sum(1 for _ in s.events()); print(n)"
            ),
        ]
    )
    fast_wall, fast_peak = child(
        [
            python,
            "-c",
            (
                "from marginbook.ledger import open_store; from marginbook.app.stored_events import stored_events\n"
                f"s = open_store({url!r}); print(sum(1 for _ in stored_events(s)))"
            ),
        ]
    )
    parse_wall, parse_peak = child(
        [
            python,
            "-c",
            (
                "from pathlib import Path; from marginbook.importers.ledger_csv import read\n"
                f"print(len(read(Path({str(csv_path)!r}))))"
            ),
        ]
    )
    return {
        "transactions": count,
        "through_year": before,
        "in_year": in_year,
        "year": year,
        "rows_8949": len(document["form_8949"]),
        "json_bytes": (out / f"tax-{year}.json").stat().st_size,
        "setup_db_insert_s": round(setup_db, 1),
        "tax_cli_s": round(tax_wall, 2),
        "tax_peak_mib": round(tax_peak),
        "read_store_s": round(read_wall, 2),
        "read_store_peak_mib": round(read_peak),
        "read_store_tax_reader_s": round(fast_wall, 2),
        "read_store_tax_reader_peak_mib": round(fast_peak),
        "parse_csv_s": round(parse_wall, 2),
        "parse_csv_peak_mib": round(parse_peak),
        "ratio_tax_to_store_read": round(tax_wall / read_wall, 2),
        "ratio_tax_to_tax_reader": round(tax_wall / fast_wall, 2),
        "ratio_tax_to_csv_parse": round(tax_wall / parse_wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--method", default="fifo", choices=["fifo", "lifo", "hifo"])
    parser.add_argument("--million", type=int, default=1_000_000, help="0 to skip")
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        flush=True,
    )
    for size in args.sizes:
        print(json.dumps({"versus_rp2": versus_rp2(size, args.method)}), flush=True)
    if args.million:
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps({"million": million(args.million, Path(work))}), flush=True)


if __name__ == "__main__":
    main()
