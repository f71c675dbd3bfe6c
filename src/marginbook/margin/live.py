"""A live price feed for ``marginbook paper --live``: ccxt polling, with reconnects.

The feed polls ``fetch_ohlcv`` and hands the engine each bar once it has *closed* (a bar
still forming would be filled twice under the intrabar rule). Network failures are retried
with exponential back-off (``base_delay · 2^n``, capped at ``max_delay``); after
``max_failures`` failures in a row the feed gives up with a :class:`MarginbookError`.
The exchange object is anything with ccxt's ``fetch_ohlcv`` and ``milliseconds``, so tests
pass a local fake and never touch the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from marginbook.domain.errors import MarginbookError

TIMEFRAME_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14_400, "1d": 86_400}


class OhlcvExchange(Protocol):
    """The part of a ccxt exchange the feed uses."""

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = ..., since: int | None = ..., limit: int | None = ...
    ) -> Any:
        """Candles ``[ms, open, high, low, close, volume]``, oldest first."""
        ...

    def milliseconds(self) -> int:
        """The exchange's clock, in epoch milliseconds."""
        ...


@dataclass(frozen=True, slots=True)
class LiveBar:
    """One closed bar."""

    time: datetime
    epoch: int
    open: float
    high: float
    low: float
    close: float


def _retryable() -> tuple[type[BaseException], ...]:
    """ccxt's transient errors (network, timeouts, rate limits, maintenance) plus OSError."""
    try:
        import ccxt
    except ImportError:  # pragma: no cover - ccxt is a pinned dependency
        return (OSError, TimeoutError)
    return (ccxt.NetworkError, OSError, TimeoutError)


class PollingFeed:
    """Closed bars of ``symbol`` from a ccxt exchange, polled every ``poll_seconds``.

    Args:
        exchange: a ccxt exchange (or a fake with the same two methods).
        symbol: unified symbol, e.g. ``BTC/USDT``.
        timeframe: one of :data:`TIMEFRAME_SECONDS`.
        poll_seconds: pause between polls when no new bar has closed.
        base_delay, max_delay, max_failures: the reconnect back-off.
        sleep: the pause function (tests pass a recorder instead of ``time.sleep``).
        since_ms: first bar to deliver (default: the next bar to close from now).
    """

    def __init__(
        self,
        exchange: OhlcvExchange,
        symbol: str,
        timeframe: str = "1m",
        *,
        poll_seconds: float = 10.0,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        max_failures: int = 8,
        sleep: Callable[[float], None] | None = None,
        since_ms: int | None = None,
    ) -> None:
        if timeframe not in TIMEFRAME_SECONDS:
            raise MarginbookError(f"timeframe must be one of {', '.join(TIMEFRAME_SECONDS)}")
        import time

        self.exchange = exchange
        self.symbol = symbol
        self.timeframe = timeframe
        self.step_ms = TIMEFRAME_SECONDS[timeframe] * 1000
        self.poll_seconds = poll_seconds
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_failures = max_failures
        self.sleep = sleep or time.sleep
        self.next_ms = since_ms
        self.reconnects = 0

    def _fetch(self) -> list[list[float]]:
        retryable = _retryable()
        failures = 0
        while True:
            try:
                candles = self.exchange.fetch_ohlcv(self.symbol, self.timeframe, self.next_ms, 500)
                return [list(c) for c in candles or []]
            except retryable as error:
                failures += 1
                if failures >= self.max_failures:
                    raise MarginbookError(
                        f"live feed: {failures} failures in a row from the exchange, giving up: {error}"
                    ) from error
                self.reconnects += 1
                self.sleep(min(self.max_delay, self.base_delay * 2 ** (failures - 1)))

    def bars(self) -> Iterator[LiveBar]:
        """Closed bars, in order, without gaps or repeats, forever (stop by breaking out)."""
        if self.next_ms is None:
            now = self.exchange.milliseconds()
            self.next_ms = (now // self.step_ms) * self.step_ms
        while True:
            now = self.exchange.milliseconds()
            delivered = False
            for candle in self._fetch():
                opened = int(candle[0])
                if opened < self.next_ms or opened + self.step_ms > now:
                    continue  # already delivered, or still forming
                self.next_ms = opened + self.step_ms
                delivered = True
                yield LiveBar(
                    time=datetime.fromtimestamp(opened / 1000, UTC),
                    epoch=opened // 1000,
                    open=float(candle[1]),
                    high=float(candle[2]),
                    low=float(candle[3]),
                    close=float(candle[4]),
                )
            if not delivered:
                self.sleep(self.poll_seconds)


def make_exchange(exchange_id: str) -> OhlcvExchange:
    """A public (no keys) ccxt exchange by id; an unknown id is bad input."""
    import ccxt

    from marginbook.domain.errors import InputError, InputProblem

    if exchange_id not in ccxt.exchanges:
        raise InputError(InputProblem("--exchange", None, "", f"unknown ccxt exchange {exchange_id!r}"))
    exchange: OhlcvExchange = getattr(ccxt, exchange_id)({"enableRateLimit": True})
    return exchange
