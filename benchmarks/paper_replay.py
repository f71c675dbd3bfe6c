"""``marginbook paper`` on 100,000 price rows with positions open throughout (target: under 5 s).

Generates a one-minute random walk and an orders file (a cross account holding a long and a
short the whole time, plus a bracketed trade every 500 bars) in a temporary directory, then
times (1) the whole ``marginbook paper`` process and (2) the in-process replay alone.
Usage::

    PYTHONPATH=src python benchmarks/paper_replay.py --rows 100000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def write_inputs(directory: Path, rows: int, seed: int = 7) -> tuple[Path, Path]:
    """Write ``BTC-USDT_1m.csv`` and ``orders.csv`` into ``directory``."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    prices = directory / "BTC-USDT_1m.csv"
    price = 40_000.0
    with prices.open("w", encoding="utf-8") as out:
        out.write("timestamp,open,high,low,close,volume\n")
        for i in range(rows):
            open_ = price
            close = open_ * (1 + rng.gauss(0, 0.0015))
            high = max(open_, close) * (1 + abs(rng.gauss(0, 0.0007)))
            low = min(open_, close) * (1 - abs(rng.gauss(0, 0.0007)))
            stamp = (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.write(f"{stamp},{open_:.2f},{high:.2f},{low:.2f},{close:.2f},1\n")
            price = close
    orders = directory / "orders.csv"
    with orders.open("w", encoding="utf-8") as out:
        out.write("timestamp,side,type,quantity,price,stop_price,trail,leverage,position\n")
        first = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.write(f"{first},buy,market,0.5,,,,3,core-long\n")
        out.write(f"{first},sell,market,0.2,,,,3,core-short\n")
        for i in range(500, rows - 1, 500):
            stamp = (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            side, exit_side = ("buy", "sell") if (i // 500) % 2 else ("sell", "buy")
            out.write(f"{stamp},{side},market,0.1,,,,5,swing\n")
            out.write(f"{stamp},{exit_side},trailing_stop,0.1,,,0.01,,swing\n")
            out.write(
                f"{stamp},{exit_side},take_profit,0.1,{'1' if side == 'sell' else '1000000'},,,,swing\n"
            )
    return prices, orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--venue", default="binance-usdm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prices, orders = write_inputs(Path(tmp), args.rows)
        src = str(Path(__file__).resolve().parents[1] / "src")
        command = [sys.executable, "-m", "marginbook", "paper", "--venue", args.venue, "--mode", "cross",
                   "--prices", str(prices), "--orders", str(orders), "--deposit", "100000USDT",
                   "--funding-rate", "0.0001", "--format", "json", "--export-ledger", str(Path(tmp) / "run.csv")]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, env={**os.environ, "PYTHONPATH": src}, check=True, capture_output=True)
        whole = time.perf_counter() - started

        sys.path.insert(0, src)
        from marginbook.margin import venues
        from marginbook.margin.broker.engine import RunConfig
        from marginbook.margin.paper import load_inputs, replay

        started = time.perf_counter()
        bars, order_list = load_inputs(prices, orders)
        loaded = time.perf_counter() - started
        config = RunConfig(venue=venues.profile(args.venue), mode="cross", base="BTC", quote="USDT",
                           deposit=__import__("decimal").Decimal(100_000), leverage=1.0, run_id="bench",
                           wallet="bench", funding_rate=0.0001)  # fmt: skip
        started = time.perf_counter()
        _, result = replay(config, bars, order_list)
        replayed = time.perf_counter() - started
    import json

    summary = json.loads(done.stdout)
    print(f"rows {args.rows}, venue {args.venue} cross, {len(order_list)} orders, "
          f"{len(summary['trades'])} trades, {summary['events']} events, "
          f"{len(result.open_positions)} positions open at the end")  # fmt: skip
    print(f"whole process (read, replay, JSON, ledger CSV export): {whole:.2f} s")
    print(f"in process: read files {loaded:.2f} s, replay {replayed:.2f} s")


if __name__ == "__main__":
    main()
