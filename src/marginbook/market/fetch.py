"""Download OHLCV bars through ccxt into the on-disk price cache that the price look-up reads.

``marginbook prices fetch --exchange binance --symbol BTC/USDT --timeframe 1d --since 2024-01-01``
pages through ``fetch_ohlcv`` from ``since`` to now, drops the bar still forming, and merges the
result into ``<cache>/BTC-USDT_1d.csv`` (same layout as the bundled files). A repeated fetch
rewrites identical bars and adds new ones; nothing else in the file changes.

ccxt hands OHLCV values over as binary floats; each is written with Python's shortest
round-trip ``repr``, which gives back the exchange's own decimal text for any price of up to 15
significant digits (all prices the exchanges publish), and is read back as an exact ``Decimal``.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from marginbook.domain.errors import InputError, InputProblem, MarginbookError
from marginbook.domain.numbers import plain
from marginbook.market.prices import bar_seconds

HEADER = ("timestamp", "open", "high", "low", "close", "volume")


class OhlcvExchange(Protocol):
    """The part of a ccxt exchange that downloading bars uses."""

    id: str

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[list[Any]]:
        """Bars as ``[open ms, open, high, low, close, volume]``, oldest first."""
        ...


def public_exchange(exchange_id: str) -> OhlcvExchange:
    """A ccxt exchange without keys (OHLCV is public), rate-limited as ccxt recommends.

    Raises:
        InputError: for an id ccxt does not know.
    """
    import ccxt

    if exchange_id not in ccxt.exchanges:
        raise InputError(InputProblem("--exchange", None, "", f"ccxt knows no exchange {exchange_id!r}"))
    exchange: OhlcvExchange = getattr(ccxt, exchange_id)({"enableRateLimit": True})
    return exchange


def _number_text(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MarginbookError(f"the exchange sent a {type(value).__name__} as {what}")
    number = Decimal(repr(value) if isinstance(value, float) else str(value))
    if not number.is_finite() or number < 0:
        raise MarginbookError(f"the exchange sent {value!r} as {what}")
    return plain(number)


def fetch_bars(
    exchange: OhlcvExchange,
    symbol: str,
    timeframe: str,
    since: datetime,
    *,
    until: datetime | None = None,
    now: datetime | None = None,
    page_limit: int = 1000,
    progress: Callable[[int, datetime], None] | None = None,
) -> list[tuple[str, ...]]:
    """Every complete bar of ``symbol`` from ``since`` (inclusive) to ``until`` or now, as CSV cells.

    Args:
        exchange: a ccxt exchange (or anything with ``fetch_ohlcv``).
        symbol: a ccxt unified symbol (``BTC/USDT``).
        timeframe: a ccxt timeframe (``1h``, ``1d``).
        since: the first bar's earliest open time (timezone-aware).
        until: stop before bars opening at or after this time; default now.
        now: the current time (a test sets it); bars not closed by then are left out.
        page_limit: bars asked per request.
        progress: called with the count so far and the last bar's open time.

    Raises:
        MarginbookError: when the exchange sends something that is not a bar.
    """
    bar_ms = bar_seconds(timeframe) * 1000
    now_ms = int((now or datetime.now(UTC)).timestamp() * 1000)
    end_ms = min(now_ms, int(until.timestamp() * 1000)) if until else now_ms
    cursor = int(since.timestamp() * 1000)
    rows: dict[int, tuple[str, ...]] = {}
    while cursor < end_ms:
        page = exchange.fetch_ohlcv(symbol, timeframe, since=cursor, limit=page_limit)
        fresh = [b for b in page if isinstance(b, list | tuple) and len(b) >= 6 and int(b[0]) >= cursor]
        if not fresh:
            break
        for bar in fresh:
            opened = int(bar[0])
            if opened + bar_ms > now_ms or opened >= end_ms:
                continue  # still forming, or past the requested end
            stamp = datetime.fromtimestamp(opened / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            rows[opened] = (stamp, *(_number_text(bar[i], HEADER[i]) for i in range(1, 6)))
        cursor = int(fresh[-1][0]) + bar_ms
        if progress:
            progress(len(rows), datetime.fromtimestamp(int(fresh[-1][0]) / 1000, UTC))
    return [rows[key] for key in sorted(rows)]


def cache_file(folder: Path, symbol: str, timeframe: str) -> Path:
    """``<folder>/BASE-QUOTE_TF.csv`` for a unified symbol (``BTC/USDT`` → ``BTC-USDT_1d.csv``).

    Raises:
        InputError: for a symbol that is not ``BASE/QUOTE`` (a ``:SETTLE`` suffix is dropped).
    """
    pair = symbol.split(":", 1)[0]
    base, slash, quote = pair.partition("/")
    if not slash or not base.isalnum() or not quote.isalnum():
        problem = f"expected BASE/QUOTE like BTC/USDT, got {symbol!r}"
        raise InputError(InputProblem("--symbol", None, "", problem))
    bar_seconds(timeframe)
    return folder / f"{base.upper()}-{quote.upper()}_{timeframe}.csv"


def merge_into_cache(path: Path, bars: list[tuple[str, ...]]) -> int:
    """Merge ``bars`` into the cache file at ``path`` (new bars win), written atomically.

    Returns:
        the number of bars in the file afterwards.
    """
    merged: dict[str, tuple[str, ...]] = {}
    if path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row in reader:
                if row:
                    merged[row[0]] = tuple(row)
    for bar in bars:
        merged[bar[0]] = bar
    path.parent.mkdir(parents=True, exist_ok=True)
    handle_fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".fetch-", suffix=".csv")
    try:
        with os.fdopen(handle_fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(HEADER)
            for key in sorted(merged):
                writer.writerow(merged[key])
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(merged)
