"""Benchmark: latency of every dashboard page and API call on a 100,000-event ledger.

Usage (from the repository root, with marginbook importable)::

    python benchmarks/web_latency.py [--events 100000] [--requests 40]

What it does, all on this machine:

1. generates a ledger of ``--events`` events at run time (deposits, buys and sells against
   USD with fees, staking income, transfers between wallets, a margin loan with interest)
   and adds it to a new SQLite file in a temporary directory through ``open_store``;
2. starts ``marginbook serve`` on 127.0.0.1 (a child process, so the load loop does not share
   its interpreter) with a generated daily price file for the charts;
3. stores one backtest run (sma-cross on the bundled BTC bars) for the Backtests page when the
   backtest engine is installed;
4. calls each page and endpoint once to warm the caches (reported as ``cold``: the first view
   after start or after an import folds the ledger and runs the tax engine), then
   ``--requests`` times in a bounded sequential loop with httpx2, and reports p50/p95/max.

Prints a Markdown table and a JSON line. The loop is bounded in count and time and only
talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

TARGET_P95_MS = 300.0
TIME_BUDGET_S = 1200.0


def generate_events(count: int, seed: int = 7) -> list:  # type: ignore[type-arg]
    """A believable, always-feasible ledger: nothing is sold that is not held."""
    from marginbook.domain.events import EventKind, LedgerEvent

    rng = random.Random(seed)
    wallets = ["kraken", "coinbase", "binance"]
    prices = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0}
    held = {(w, a): Decimal(0) for w in wallets for a in prices}
    when = datetime(2024, 7, 1, tzinfo=UTC)
    step = timedelta(seconds=int(540 * 86400 / count))  # spread over 18 months
    events = []

    def add(kind: EventKind, wallet: str, asset: str, amount: Decimal, **fields: object) -> None:
        events.append(LedgerEvent(id=f"b{len(events)}", timestamp=when, kind=kind, wallet=wallet, asset=asset,
                                  amount=amount, **fields))  # type: ignore[arg-type]

    for wallet in wallets:
        add(EventKind.DEPOSIT, wallet, "USD", Decimal("100000000"))
    add(EventKind.BORROW, "kraken", "USD", Decimal("50000"), position="loan-1")
    while len(events) < count:
        when += step
        for asset in prices:
            prices[asset] *= math.exp(rng.gauss(0, 0.002))
        asset = rng.choice(list(prices))
        wallet = rng.choice(wallets)
        price = Decimal(f"{prices[asset]:.2f}")
        roll = rng.random()
        quantity = Decimal(rng.randint(1, 10**6)) / Decimal(10**6)
        if roll < 0.5 or held[(wallet, asset)] < quantity:
            fee = (quantity * price * Decimal("0.0026")).quantize(Decimal("0.01"))
            add(EventKind.BUY, wallet, asset, quantity, counter_asset="USD",
                counter_amount=(quantity * price).quantize(Decimal("0.01")), fee_asset="USD", fee_amount=fee)
            held[(wallet, asset)] += quantity
        elif roll < 0.9:
            fee = (quantity * price * Decimal("0.0026")).quantize(Decimal("0.01"))
            add(EventKind.SELL, wallet, asset, quantity, counter_asset="USD",
                counter_amount=(quantity * price).quantize(Decimal("0.01")), fee_asset="USD", fee_amount=fee)
            held[(wallet, asset)] -= quantity
        elif roll < 0.95:
            units = quantity / 100
            add(EventKind.INCOME, wallet, asset, units, usd_value=(units * price).quantize(Decimal("0.01")))
            held[(wallet, asset)] += units
        elif roll < 0.98:
            other = rng.choice([w for w in wallets if w != wallet])
            moved = held[(wallet, asset)] / 2
            if moved > 0:
                add(EventKind.TRANSFER, wallet, asset, moved, to_wallet=other)
                held[(wallet, asset)] -= moved
                held[(other, asset)] += moved
        else:
            add(EventKind.INTEREST, "kraken", "USD", Decimal("1.25"), position="loan-1")
    return events


def write_prices(path: Path, days: int = 800) -> None:
    """A daily BTC-USDT-like OHLCV file for the charts."""
    rng = random.Random(3)
    close = 40_000.0
    day = datetime(2023, 10, 1, tzinfo=UTC)
    lines = ["timestamp,open,high,low,close,volume"]
    for _ in range(days):
        opened = close
        close = opened * math.exp(rng.gauss(0, 0.03))
        lines.append(f"{day:%Y-%m-%dT%H:%M:%SZ},{opened:.2f},{max(opened, close) * 1.01:.2f},"
                     f"{min(opened, close) * 0.99:.2f},{close:.2f},100")
        day += timedelta(days=1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Server:
    """``marginbook serve`` on a free loopback port, as a child process (stopped on exit)."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.command = [*command, "--port", str(self.port)]
        self.env = env
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        import httpx2 as httpx

        self.process = subprocess.Popen(self.command, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        started = time.perf_counter()
        for _ in range(600):
            try:
                httpx.get(self.base + "/api/health", timeout=5)
                self.start_s = round(time.perf_counter() - started, 1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a background engine run can outlast the graceful stop
            self.process.kill()
            self.process.wait(timeout=20)


def caller(client: Any, token: str, upload: str) -> Any:
    """``call(method, path) -> (status, milliseconds)``."""

    def call(method: str, path: str) -> tuple[int, float]:
        started = time.perf_counter()
        if method == "POST":
            response = client.post(path, files={"file": ("bench.csv", upload, "text/csv")},
                                   headers={"X-CSRF-Token": token})
        else:
            response = client.get(path)
        return response.status_code, round((time.perf_counter() - started) * 1000, 1)

    return call


def resolve(client: Any, path: str, keys: dict[str, str]) -> str:
    """``{first}`` → the row key of the first 8949 row of 2025 (a dummy while it is computing)."""
    if "{first}" not in path:
        return path
    if "first" not in keys:
        answer = client.get("/api/tax/2025/form-8949?limit=1")
        rows = answer.json() if answer.status_code == 200 else []
        keys["first"] = rows[0]["row_key"] if rows else "none~short"
    return path.replace("{first}", keys["first"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    import httpx2 as httpx

    from marginbook.ledger import open_store

    folder = Path(tempfile.mkdtemp(prefix="marginbook-web-bench-"))
    db_url = f"sqlite:///{folder / 'ledger.db'}"
    started = time.perf_counter()
    events = generate_events(args.events)
    generated_s = time.perf_counter() - started
    started = time.perf_counter()
    with open_store(db_url) as store:
        store.add_events(events)
        stored = store.count()
    stored_s = time.perf_counter() - started
    write_prices(folder / "prices.csv")
    serve_extra: list[str] = []
    try:  # a stored backtest run for the Backtests page, when the engine is installed
        from marginbook.app.demo_report import run_backtest_section
        from marginbook.app.features import bundled_price_file

        data = bundled_price_file("BTC")
        if data is not None:
            run = run_backtest_section("sma-cross", data)
            (folder / "backtests").mkdir()
            (folder / "backtests" / "sma-cross.json").write_text(json.dumps(run.document), encoding="utf-8")
            serve_extra = ["--backtests", str(folder / "backtests")]
    except ImportError:
        pass
    upload = "timestamp,type,wallet,asset,amount\n2025-01-01T00:00:00Z,deposit,bench,USD,1\n"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    command = [sys.executable, "-m", "marginbook", "--db", db_url, "serve", "--prices", str(folder / "prices.csv"),
               *serve_extra]
    targets = [
        ("GET", "/"), ("GET", "/ledger"), ("GET", "/positions"),
        ("GET", "/positions?entry=60000&quantity=0.5&leverage=5"), ("GET", "/backtests"),
        ("GET", "/taxes/2025"), ("GET", "/taxes/2025/downloads/csv"), ("GET", "/import"), ("GET", "/api/health"),
        ("GET", "/api/status"), ("GET", "/api/portfolio"),
        ("GET", "/api/events?limit=100"), ("GET", "/api/events?wallet=coinbase&asset=ETH&limit=100"),
        ("GET", "/api/tax/2025/form-8949?wallet=kraken&term=short&limit=100"),
        ("GET", "/api/tax/2025/rows/{first}"), ("GET", "/api/tax/2025/downloads/csv/form-8949-2025.csv"),
        ("GET", "/api/candles?bars=180"),
        ("GET", "/api/risk?entry=60000&quantity=0.5&leverage=5"), ("GET", "/api/backtests"),
        ("GET", "/api/openapi.json"), ("POST", "/api/import"),
    ]
    results: dict[str, dict[str, object]] = {}
    notes: dict[str, object] = {"load_before": os.getloadavg()}
    deadline = time.monotonic() + TIME_BUDGET_S

    with Server(command, env) as server, httpx.Client(base_url=server.base, timeout=120) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        call = caller(client, token, upload)
        keys: dict[str, str] = {}
        for method, path in targets:  # 1. cold: each once, right after the server answers
            status, ms = call(method, resolve(client, path, keys))
            results[f"{method} {path}"] = {"method": method, "path": path, "cold_status": status, "cold_ms": ms}
        started = time.perf_counter()  # 2. until the background work is done
        while client.get("/api/status").json()["jobs"] and time.monotonic() < deadline:
            time.sleep(0.25)
        notes["ready_after_cold_s"] = round(time.perf_counter() - started, 1)
        notes["server_cpu_s_to_ready"] = server.cpu_seconds()
        notes["start_s"] = server.start_s
        keys.clear()
        for method, path in targets:  # 3. warm: a bounded sequential loop
            target = resolve(client, path, keys)
            call(method, target)
            timings, statuses = [], set()
            for _ in range(args.requests):
                if time.monotonic() > deadline:
                    break
                status, ms = call(method, target)
                timings.append(ms)
                statuses.add(status)
            timings.sort()
            p95 = timings[max(math.ceil(0.95 * len(timings)) - 1, 0)]
            results[f"{method} {path}"].update({"status": sorted(statuses), "p50_ms": round(statistics.median(timings), 1),
                                               "p95_ms": round(p95, 1), "max_ms": round(timings[-1], 1),
                                               "n": len(timings)})
        started = time.perf_counter()  # 4. the PDF forms of 2025, written on request
        while time.monotonic() < deadline:
            answer = client.get("/api/tax/2025/downloads/pdf")
            if answer.status_code != 202:
                break
            time.sleep(1)
        notes["pdf_status"] = answer.status_code
        notes["pdf_s"] = round(time.perf_counter() - started, 1)
        if answer.status_code == 200:
            notes["pdf_files"] = {f["name"]: f["bytes"] for f in answer.json()["files"]}
        notes["server_cpu_s"] = server.cpu_seconds()
    with Server(command, env) as server, httpx.Client(base_url=server.base, timeout=120) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        call = caller(client, token, upload)
        keys = {}
        for method, path in targets:  # 5. a restart over the same ledger: the stored results
            status, ms = call(method, resolve(client, path, keys))
            results[f"{method} {path}"].update({"restart_status": status, "restart_ms": ms})
        notes["restart_server_cpu_s"] = server.cpu_seconds()
        notes["restart_start_s"] = server.start_s
    notes["load_after"] = os.getloadavg()

    print(f"ledger: {stored} events (generated in {generated_s:.1f} s, stored in {stored_s:.1f} s); "
          f"{args.requests} sequential requests per target after one warm-up; "
          f"{platform.python_version()}, {os.cpu_count()} cores\n")
    print("| request | cold: status, ms | warm p50 (ms) | warm p95 (ms) | warm max (ms) | restart: status, ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results.values():
        mark = "" if float(r["p95_ms"]) < TARGET_P95_MS else " ✗"  # type: ignore[arg-type]
        print(f"| {r['method']} `{r['path']}` | {r['cold_status']}, {r['cold_ms']} | {r['p50_ms']} | "
              f"{r['p95_ms']}{mark} | {r['max_ms']} | {r['restart_status']}, {r['restart_ms']} |")
    print()
    print(json.dumps(notes))
    print(json.dumps({"events": stored, "results": list(results.values())}))


if __name__ == "__main__":
    main()
