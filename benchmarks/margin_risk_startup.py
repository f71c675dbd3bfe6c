"""Whole-process time of ``marginbook risk`` (target: under 300 ms).

Runs the command as a user would, a fresh interpreter each time, and reports the minimum and
the median wall time over ``--runs`` runs (the minimum is the machine's floor; the median
shows contention). Usage::

    PYTHONPATH=src python benchmarks/margin_risk_startup.py --runs 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMAND = [
    "-m", "marginbook", "risk", "--venue", "binance-usdm", "--side", "long", "--entry", "20000",
    "--quantity", "1", "--leverage", "10", "--format", "json",
]  # fmt: skip


def measure(runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh ``marginbook risk`` processes."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, *COMMAND], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    baseline = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - started)
    times = measure(args.runs)
    print(f"bare interpreter: min {min(baseline) * 1000:.0f} ms")
    print(f"marginbook risk:  min {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms "
          f"over {args.runs} runs")  # fmt: skip


if __name__ == "__main__":
    main()
