"""Importer and price look-up throughput on generated files (written to a temporary folder).

Run: ``PYTHONPATH=src python benchmarks/bench_importers.py``. Prints a Markdown table for
docs/benchmarks.md. Inputs are generated here, never committed.
"""

from __future__ import annotations

import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from marginbook.importers import binance, kraken
from marginbook.market.prices import SeriesPriceSource, bundled_series

KRAKEN_HEADER = '"txid","refid","time","type","subtype","aclass","asset","wallet","amount","fee","balance"\n'


def kraken_ledger(path: Path, trades: int) -> int:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    lines = [KRAKEN_HEADER]
    for n in range(trades):
        stamp = (start + timedelta(seconds=37 * n)).strftime("%Y-%m-%d %H:%M:%S")
        usd = f"{random.randint(10, 99999)}.{random.randint(0, 9999):04d}"
        btc = f"0.{random.randint(1, 99999999):08d}"
        lines.append(
            f'"LA{n:06d}-X","T{n:06d}","{stamp}","trade","","currency","ZUSD","","-{usd}","0.5","0"\n'
        )
        lines.append(f'"LB{n:06d}-X","T{n:06d}","{stamp}","trade","","currency","XXBT","","{btc}","0","0"\n')
        if n % 4 == 0:
            lines.append(
                f'"LR{n:06d}-X","P{n:06d}","{stamp}","rollover","","currency","ZUSD","","0","1.2","0"\n'
            )
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines) - 1


def binance_trades(path: Path, rows: int) -> int:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    lines = ["Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n"]
    for n in range(rows):
        stamp = (start + timedelta(seconds=11 * n)).strftime("%Y-%m-%d %H:%M:%S")
        side = "BUY" if n % 2 else "SELL"
        lines.append(
            f"{stamp},BTCUSDT,{side},42500.00,0.0{n % 97 + 1:02d}BTC,{n % 977 + 1}.25USDT,0.0001BNB\n"
        )
    path.write_text("".join(lines), encoding="utf-8")
    return rows


def timed(action: object) -> float:
    begin = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - begin


def main() -> None:
    random.seed(7)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        ledger = Path(folder) / "ledgers.csv"
        rows = kraken_ledger(ledger, 25_000)
        events: list[object] = []
        seconds = timed(lambda: events.extend(kraken.read(ledger)))
        results.append(("Kraken ledgers export", rows, len(events), seconds))
        trades = Path(folder) / "trades.csv"
        rows = binance_trades(trades, 50_000)
        events = []
        seconds = timed(lambda: events.extend(binance.read(trades)))
        results.append(("Binance trade history", rows, len(events), seconds))
    source = SeriesPriceSource(bundled_series())
    load = timed(lambda: source.usd_price("BTC", datetime(2020, 1, 1, tzinfo=UTC)))
    moments = [
        datetime(2018, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randint(0, 3_000_000))
        for _ in range(100_000)
    ]
    lookups = timed(lambda: [source.usd_price("BTC", moment) for moment in moments])
    print(f"Python {platform.python_version()}, {platform.machine()}, {datetime.now(UTC):%Y-%m-%d}\n")
    print("| input | rows | events | seconds | rows/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, rows, count, seconds in results:
        print(f"| {name} | {rows:,} | {count:,} | {seconds:.2f} | {rows / seconds:,.0f} |")
    print(
        f"\nPrice look-up: first BTC look-up (reads the 58,418-row hourly file) {load:.2f} s; "
        f"100,000 look-ups at random times 2018-2023 {lookups:.2f} s ({lookups * 1e6 / 100_000:.1f} µs each)."
    )


if __name__ == "__main__":
    main()
