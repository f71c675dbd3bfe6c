"""Whole-process time of ``marginbook risk`` (target: under 300 ms).

Runs the command as a user would, a fresh interpreter each time, and reports the minimum and
the median wall time over ``--runs`` runs (the minimum is the machine's floor; the median
shows contention), and the CPU time (user + system) of the same runs, which shared cores
disturb less. An installed package has its bytecode compiled; a shell with
``PYTHONDONTWRITEBYTECODE=1`` (as on the build machine) recompiles every marginbook module
on each run, so both are measured: the bytecode case through a cache outside the repository
(``PYTHONPYCACHEPREFIX``, warmed once). Usage::

    PYTHONPATH=src python benchmarks/margin_risk_startup.py --runs 20
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [
    "-m", "marginbook", "risk", "--venue", "binance-usdm", "--side", "long", "--entry", "20000",
    "--quantity", "1", "--leverage", "10", "--format", "json",
]  # fmt: skip


def measure(runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` fresh ``marginbook risk`` processes."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, *COMMAND], env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def _line(label: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"{label:<38} wall min {min(walls) * 1000:.0f} ms, median {statistics.median(walls) * 1000:.0f} ms; "
        f"CPU min {min(cpus) * 1000:.0f} ms, median {statistics.median(cpus) * 1000:.0f} ms "
        f"over {len(walls)} runs"
    )


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
    compiling = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory() as cache:
        installed = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
        installed["PYTHONPYCACHEPREFIX"] = cache
        measure(1, installed)  # writes the bytecode once
        cached = measure(args.runs, installed)
    recompiled = measure(args.runs, compiling)
    print(f"bare interpreter:                      min {min(bare) * 1000:.0f} ms")
    print(f"typer + its pydantic adapters (floor): min {min(framework) * 1000:.0f} ms")
    print(f"margin engine import + answer:         min {min(own) * 1000:.0f} ms (in process, after typer)")
    print(_line("marginbook risk, bytecode cached:", *cached))
    print(_line("marginbook risk, compiling sources:", *recompiled))


if __name__ == "__main__":
    main()
