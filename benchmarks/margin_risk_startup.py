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


#: The margin engine's own share on top of the command-line framework: import and answer.
OWN_WORK = """
import time
import typer, typer._adapters
started = time.perf_counter()
from marginbook.margin import venues
from marginbook.margin.risk import RiskQuestion, assess, risk_json
risk_json(assess(RiskQuestion(venues.profile("binance-usdm"), 1, 20000.0, 1.0, 10.0, "isolated")))
print(time.perf_counter() - started)
"""


def _fresh(code: str, runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    bare = _fresh("pass", 5, env)
    framework = _fresh("import typer, typer._adapters", 10, env)
    own = [
        float(
            subprocess.run(
                [sys.executable, "-c", OWN_WORK], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(10)
    ]
    times = measure(args.runs)
    print(f"bare interpreter:                      min {min(bare) * 1000:.0f} ms")
    print(f"typer + its pydantic adapters (floor): min {min(framework) * 1000:.0f} ms")
    print(f"margin engine import + answer:         min {min(own) * 1000:.0f} ms (in process, after typer)")
    print(f"marginbook risk, whole process:        min {min(times) * 1000:.0f} ms, "
          f"median {statistics.median(times) * 1000:.0f} ms over {args.runs} runs")  # fmt: skip


if __name__ == "__main__":
    main()
