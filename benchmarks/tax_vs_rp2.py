"""Tax engine benchmark: marginbook against RP2, and a million transactions from the ledger.

Run from the repository root (RP2 is a test-only dependency)::

    PYTHONPATH=src:. python benchmarks/tax_vs_rp2.py [--sizes 10000 50000] [--end-to-end 10000 50000]
        [--million 1000000]

1. On the same synthetic ledgers (buys, sells, transfers; ``tests/tax/synthetic.py``), at
   each size: RP2's FIFO against marginbook's FIFO in one pool per asset (``--scope
   universal``, as RP2), both from events in memory to every year's gains, and a check that
   the Form 8949 rows are identical (``tests/tax/rp2_adapter.differences``).
2. The same ledgers through each tool's command line, as its users run it (``end_to_end``):
   RP2's ``rp2_us`` from its ODS workbook to its ODS reports (every year, and the last year
   only), marginbook's ``tax`` from the ledger database to the last year's JSON (the
   median of three runs); the last year's rows of the two outputs compared lot by lot.
3. A million transactions written to a SQLite ledger (setup, not timed, then ``sync``),
   then, three times, each in a child process, ``marginbook --db URL tax --year Y --format
   json --out DIR`` (wall times, the median, and the peak memory of the children); and the floors: merely reading the same events from the ledger, and
   merely parsing the same ledger as a ledger CSV file.

Inputs are generated at run time under a temporary directory and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import machine  # noqa: E402  (benchmarks/machine.py)
from tests.tax.rp2_adapter import Rp2Match, differences, run_rp2  # noqa: E402
from tests.tax.rp2_ods import read_rp2_gains, write_rp2_input  # noqa: E402
from tests.tax.synthetic import synthetic_ledger  # noqa: E402

from marginbook.tax.book import Scope  # noqa: E402
from marginbook.tax.engine import RunOptions, run_decimal_fold, run_engine  # noqa: E402
from marginbook.tax.fast import replay  # noqa: E402, F401  (loaded before the first figure)
from marginbook.tax.methods import Method  # noqa: E402
from marginbook.tax.profile import Profile  # noqa: E402
from marginbook.tax.report import build_reports  # noqa: E402


def ours(events: list, method: str, *, decimal: bool = False) -> int:
    """marginbook from events to every year's 8949 rows; returns the number of rows.

    ``decimal``: by the ``Decimal`` fold alone (the engine's path before the fast fold).
    """
    profile = Profile()
    options = RunOptions(scope=Scope.UNIVERSAL, method=Method(method))
    fold = run_decimal_fold if decimal else run_engine
    result = fold(events, profile, None, options)
    last = max(d.disposed_at.year for d in result.disposals)
    return sum(len(r.rows) for r in build_reports(result, last, profile, options).values())


def versus_rp2(size: int, method: str) -> dict[str, object]:
    events = synthetic_ledger(size, seed=size, windows=8)
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    rows = ours(events, method)
    mine, mine_cpu = time.perf_counter() - start, time.process_time() - cpu
    decimal_start, decimal_cpu = time.perf_counter(), time.process_time()
    decimal_rows = ours(events, method, decimal=True)
    decimal = time.perf_counter() - decimal_start
    decimal_cpu = time.process_time() - decimal_cpu
    assert decimal_rows == rows
    start = time.perf_counter()
    theirs = run_rp2(events, method)
    rp2 = time.perf_counter() - start
    problems = differences(events, method, theirs)
    return {
        "transactions": len(events),
        "load_average": round(load, 2),
        "marginbook_s": round(mine, 3),
        "marginbook_cpu_s": round(mine_cpu, 3),
        "decimal_fold_s": round(decimal, 3),
        "decimal_fold_cpu_s": round(decimal_cpu, 3),
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
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(time.perf_counter() - start, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)\n"
)

#: CPU seconds of each child, by label (printed with the results: wall times are noisy here).
CPU: dict[str, float] = {}


def child(command: list[str], label: str = "", cwd: Path | None = None) -> tuple[float, float]:
    """Run ``command`` in a fresh process; return its wall time (s) and peak memory (MiB).

    A small parent process runs it, so the peak is that command's alone; its CPU seconds
    go to :data:`CPU` under ``label``.
    """
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], check=True, env=env, capture_output=True, text=True,
        cwd=cwd,
    ).stdout.split()
    CPU[label] = round(float(out[2]), 2)
    return float(out[0]), int(out[1]) / 1024


_RP2_US = "import sys; from rp2.plugin.country.us import rp2_entry; sys.exit(rp2_entry())"


def cli_differences(document: dict[str, Any], theirs: list[Rp2Match]) -> list[str]:
    """Differences between our Form 8949 JSON and RP2's report of the same year.

    Lot by lot: the same disposals and lots, quantity within 1e-8, the same term, proceeds
    and basis within a cent per lot of the row (our lots' cents are the row's cents split
    pro rata, the rest on the last lot; RP2's are its float amounts). Row by row: proceeds
    and basis within a cent of the sum of RP2's entries.
    """
    units, cent = Decimal("0.00000001"), Decimal("0.01")
    rp2 = {(m.disposal_id, m.acquisition_id): m for m in theirs}
    problems = []
    seen = 0
    for row in document["form_8949"]:
        lots = row["lots"]
        slack = cent * len(lots)
        proceeds = basis = Decimal(0)
        for lot in lots:
            seen += 1
            other = rp2.get((row["disposal_id"], lot["acquisition_id"]))
            if other is None:
                problems.append(f"{row['disposal_id']}/{lot['acquisition_id']}: not in RP2's report")
                continue
            proceeds += other.proceeds
            basis += other.cost_basis
            if (
                abs(Decimal(lot["quantity"]) - other.quantity) > units
                or abs(Decimal(lot["proceeds"]) - other.proceeds) > slack
                or abs(Decimal(lot["cost_basis"]) - other.cost_basis) > slack
                or (row["term"] == "long") != other.long_term
            ):
                problems.append(f"{row['disposal_id']}/{lot['acquisition_id']}: {lot} != {other}")
        if abs(Decimal(row["proceeds"]) - proceeds) > cent or abs(Decimal(row["cost_basis"]) - basis) > cent:
            problems.append(f"row of {row['disposal_id']}: {row['proceeds']}/{row['cost_basis']} != {proceeds}/{basis}")
    if seen != len(theirs):
        problems.append(f"{seen} lots on our rows against {len(theirs)} RP2 entries")
    return problems


def end_to_end(size: int, method: str, work: Path) -> dict[str, object]:
    """Each tool as its users run it, from its own input file to its report files, in a fresh process.

    RP2: ``rp2_us`` on its ODS workbook (``tests/tax/rp2_ods.py``), writing its three ODS
    reports for every year (its default), and again for the last year only (``-f``/``-t``).
    marginbook: ``marginbook tax`` on the ledger database, writing the last year's JSON
    (every earlier year is computed too: the carryovers need them). Same events as
    :func:`versus_rp2`. The last year's rows of both outputs are compared lot by lot.
    """
    events = synthetic_ledger(size, seed=size, windows=8)
    year = max(e.timestamp.year for e in events)
    directory = work / f"e2e-{size}"
    directory.mkdir()
    config, workbook = write_rp2_input(events, directory)
    url = f"sqlite:///{directory / 'ledger.db'}"
    from marginbook.ledger import open_store

    with open_store(url) as store:
        store.add_events(events)
    del events
    os.sync()
    load = os.getloadavg()[0]
    rp2_all, rp2_all_peak = child(
        [sys.executable, "-c", _RP2_US, "-m", method, "-o", str(directory / "rp2-all"), "-p", "all_",
         str(config), str(workbook)], f"rp2_cli_{size}", cwd=directory,
    )
    rp2_year, _peak = child(
        [sys.executable, "-c", _RP2_US, "-m", method, "-f", f"{year}-01-01", "-t", f"{year}-12-31", "-o",
         str(directory / "rp2-year"), "-p", "year_", str(config), str(workbook)], f"rp2_cli_year_{size}",
        cwd=directory,
    )
    out = directory / "ours"
    command = [sys.executable, "-m", "marginbook", "--db", url, "tax", "--year", str(year), "--scope",
               "universal", "--method", method, "--format", "json", "--out", str(out)]
    runs = [child(command, f"tax_cli_{size}_{n}")[0] for n in (1, 2, 3)]
    ours = sorted(runs)[1]
    document = json.loads((out / f"tax-{year}.json").read_text())
    theirs = read_rp2_gains(directory / "rp2-year" / f"year_{method}_tax_report_us.ods")
    problems = cli_differences(document, theirs)
    return {
        "transactions": size,
        "load_average": round(load, 2),
        "year": year,
        "rp2_cli_every_year_s": round(rp2_all, 2),
        "rp2_cli_every_year_peak_mib": round(rp2_all_peak),
        "rp2_cli_last_year_s": round(rp2_year, 2),
        "marginbook_cli_runs_s": [round(r, 3) for r in runs],
        "marginbook_cli_s": round(ours, 3),
        "speedup_vs_rp2_every_year": round(rp2_all / ours, 1),
        "speedup_vs_rp2_last_year": round(rp2_year / ours, 1),
        "rows_8949_last_year": len(document["form_8949"]),
        "rp2_entries_last_year": len(theirs),
        "identical": not problems,
        "first_difference": problems[0] if problems else None,
    }


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
    # The setup wrote ~300 MB (database and CSV); let the disk take it before timing, or the
    # first run shares the cores with the kernel's write-back (about 1 s more here).
    os.sync()
    load = os.getloadavg()[0]
    command = [python, "-m", "marginbook", "--db", url, "tax", "--year", str(year), "--format", "json",
               "--out", str(out)]
    # Three runs, each in a fresh process (none reuses another's memory); the median is the figure.
    runs = [child(command, f"tax_cli_{n}") for n in (1, 2, 3)]
    tax_wall = sorted(wall for wall, _peak in runs)[1]
    tax_peak = max(peak for _wall, peak in runs)
    document = json.loads((out / f"tax-{year}.json").read_text())
    read_wall, read_peak = child(
        [
            python,
            "-c",
            (
                "import sys; from marginbook.ledger import open_store\n"
                f"s = open_store({url!r}); n = sum(1 for _ in s.events()); print(n)"
            ),
        ],
        "read_store",
    )
    fast_wall, fast_peak = child(
        [
            python,
            "-c",
            (
                "from marginbook.ledger import open_store; from marginbook.app.stored_events import stored_events\n"
                f"s = open_store({url!r}); print(sum(1 for _ in stored_events(s)))"
            ),
        ],
        "read_store_tax_reader",
    )
    parse_wall, parse_peak = child(
        [
            python,
            "-c",
            (
                "from pathlib import Path; from marginbook.importers.ledger_csv import read\n"
                f"print(len(read(Path({str(csv_path)!r}))))"
            ),
        ],
        "parse_csv",
    )
    # The same year straight from the CSV file (``--ledger``: the vectorised reader and the
    # columnar encoder when the file is plain), which must write the same JSON.
    out_csv = work / "out-csv"
    csv_wall, csv_peak = child(
        [python, "-m", "marginbook", "tax", "--year", str(year), "--ledger", str(csv_path), "--format", "json",
         "--out", str(out_csv)],
        "tax_from_csv",
    )
    same = (out_csv / f"tax-{year}.json").read_bytes() == (out / f"tax-{year}.json").read_bytes()
    return {
        "load_average_at_tax": round(load, 2),
        "cpu_s": dict(CPU),
        "transactions": count,
        "through_year": before,
        "in_year": in_year,
        "year": year,
        "rows_8949": len(document["form_8949"]),
        "json_bytes": (out / f"tax-{year}.json").stat().st_size,
        "setup_db_insert_s": round(setup_db, 1),
        "tax_cli_runs_s": [round(wall, 2) for wall, _peak in runs],
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
        "tax_from_csv_s": round(csv_wall, 2),
        "tax_from_csv_peak_mib": round(csv_peak),
        "tax_from_csv_same_json": same,
        "ratio_tax_from_csv_to_csv_parse": round(csv_wall / parse_wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--method", default="fifo", choices=["fifo", "lifo", "hifo"])
    parser.add_argument("--million", type=int, default=1_000_000, help="0 to skip")
    parser.add_argument(
        "--end-to-end", type=int, nargs="*", default=[10_000, 50_000],
        help="sizes for the command-line comparison (none to skip)",
    )
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine.describe()}",
        flush=True,
    )
    for size in args.sizes:
        print(json.dumps({"versus_rp2": versus_rp2(size, args.method)}), flush=True)
    for size in args.end_to_end:
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps({"end_to_end": end_to_end(size, args.method, Path(work))}), flush=True)
    if args.million:
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps({"million": million(args.million, Path(work))}), flush=True)
    print(f"# after: {machine.describe()}", flush=True)


if __name__ == "__main__":
    main()
