"""What machine a benchmark ran on, and how fast it was at that moment.

The same code gives wall times up to 1.5x apart on two machines of the same kind (virtual
cores of varying speed) and more on a machine shared with other work. Each benchmark prints
this line before and after its figures, so a reader can tell a slower machine from slower
code.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def calibration_seconds() -> float:
    """Seconds for a 10-million-step pure-Python loop: how fast one core is right now
    (about 0.3 s on one unloaded core of a recent desktop CPU)."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def describe() -> str:
    """One line: cores, CPU, Python, load average and the calibration loop's time."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
        f"load average {load}, 10M-step Python loop {calibration_seconds():.2f} s"
    )
