"""Benchmark: render a year of N disposals to PDF (filled IRS forms + statements); time and peak memory.

Usage: ``PYTHONPATH=src python benchmarks/forms_render.py [--rows 100000] [--mode detail|summary|both]``

The document is generated at run time (seeded, so runs are comparable): 2025 rows split
between box I (short-term) and box L (long-term), one to three lots each, amounts with
distinct cents so that no two rows print alike (the filler caches appearances by value, so
repeated values would flatter the result). Each mode runs in a fresh child process, so the
peak resident set size printed is that mode's alone.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def make_document(rows: int, seed: int = 2025) -> dict[str, Any]:
    """A tax document with ``rows`` Form 8949 rows of 2025 and a consistent Schedule D."""
    rng = random.Random(seed)
    form_rows: list[dict[str, Any]] = []
    totals = {"I": [0, 0, 0], "L": [0, 0, 0]}
    start = date(2025, 1, 1)
    for index in range(rows):
        box = "I" if index % 3 else "L"
        sold = start + timedelta(days=rng.randrange(365))
        lot_count = rng.choice((1, 1, 1, 2, 3))
        lots = []
        basis_total = 0
        units_total = 0
        for lot in range(lot_count):
            units = rng.randrange(1, 10**8)
            basis = rng.randrange(100, 5_000_000)
            acquired = sold - timedelta(
                days=rng.randrange(1, 360) if box == "I" else rng.randrange(370, 1500)
            )
            lots.append(
                {
                    "acquisition_id": f"ev-buy-{index}-{lot}",
                    "quantity": f"0.{units:08d}",
                    "cost_basis": _money(basis),
                    "acquired_at": f"{acquired.isoformat()}T12:00:00Z",
                }
            )
            basis_total += basis
            units_total += units
        proceeds = basis_total + rng.randrange(-2_000_000, 2_000_000)
        proceeds = max(proceeds, 1)
        gain = proceeds - basis_total
        for column, value in enumerate((proceeds, basis_total, gain)):
            totals[box][column] += value
        form_rows.append(
            {
                "box": box,
                "term": "short" if box == "I" else "long",
                "description": f"0.{units_total:08d} ETH",
                "asset": "ETH",
                "wallet": rng.choice(("ledger", "metamask", "trezor")),
                "quantity": f"0.{units_total:08d}",
                "date_acquired": lots[0]["acquired_at"][:10] if lot_count == 1 else "VARIOUS",
                "date_sold": sold.isoformat(),
                "proceeds": _money(proceeds),
                "cost_basis": _money(basis_total),
                "adjustment_code": "",
                "adjustment": "0.00",
                "gain": _money(gain),
                "disposal_id": f"ev-sell-{index}",
                "lots": lots,
            }
        )

    def line(box: str) -> dict[str, str]:
        p, c, g = totals[box]
        return {"proceeds": _money(p), "cost_basis": _money(c), "adjustment": "0.00", "gain": _money(g)}

    zero = {"proceeds": "0.00", "cost_basis": "0.00", "adjustment": "0.00", "gain": "0.00"}
    short, long = totals["I"][2], totals["L"][2]
    return {
        "year": 2025,
        "method": "fifo",
        "form_8949": form_rows,
        "schedule_d": {
            "line_1b": zero,
            "line_2": zero,
            "line_3": line("I"),
            "line_8b": zero,
            "line_9": zero,
            "line_10": line("L"),
            "line_6": "0.00",
            "line_7": _money(short),
            "line_14": "0.00",
            "line_15": _money(long),
            "line_16": _money(short + long),
            "line_21": "0.00",
            "carryover_to_next_year": {"short_term": "0.00", "long_term": "0.00"},
        },
        "form_4952": None,
        "income": [],
        "gifts_and_donations": [],
        "warnings": [],
    }


def _child(document_path: Path, out_dir: Path, mode: str) -> None:
    from pypdf import PdfReader

    from marginbook.reports.exports import write_export

    document = json.loads(document_path.read_text())
    started = time.perf_counter()
    paths = write_export("pdf", document, out_dir, None, form_8949_mode=mode)
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    files = {
        path.name: {"pages": len(PdfReader(path).pages), "mib": round(path.stat().st_size / 2**20, 1)}
        for path in paths
    }
    print(
        json.dumps(
            {"mode": mode, "seconds": round(elapsed, 1), "peak_rss_mib": round(peak_mib), "files": files}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mode", choices=("detail", "summary", "both"), default="both")
    parser.add_argument("--child", nargs=3, metavar=("DOCUMENT", "OUT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), Path(args.child[1]), args.child[2])
        return
    with tempfile.TemporaryDirectory() as folder:
        document_path = Path(folder) / "document.json"
        document_path.write_text(json.dumps(make_document(args.rows)))
        print(f"{args.rows} rows, document {document_path.stat().st_size / 2**20:.1f} MiB", flush=True)
        for mode in ("summary", "detail") if args.mode == "both" else (args.mode,):
            subprocess.run(
                [sys.executable, __file__, "--child", str(document_path), str(Path(folder) / mode), mode],
                check=True,
            )


if __name__ == "__main__":
    main()
