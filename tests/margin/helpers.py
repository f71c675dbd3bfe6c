"""Small builders for margin-engine tests: bars and orders written as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from marginbook.margin.broker.engine import RunConfig
from marginbook.margin.orders import Order, read_orders
from marginbook.margin.prices import Bars
from marginbook.margin.venues import VenueProfile

START = datetime(2025, 3, 1, tzinfo=UTC)


def bars(
    rows: list[tuple[float, float, float, float]], *, start: datetime = START, step_hours: float = 1.0
) -> Bars:
    """Bars from (open, high, low, close) rows, ``step_hours`` apart from ``start``."""
    times = [start + timedelta(hours=step_hours * i) for i in range(len(rows))]
    return Bars(
        times=times,
        epochs=[int(t.timestamp()) for t in times],
        open=[r[0] for r in rows],
        high=[r[1] for r in rows],
        low=[r[2] for r in rows],
        close=[r[3] for r in rows],
    )


def orders(tmp_path: Path, text: str) -> list[Order]:
    """Orders from CSV text (a header line first)."""
    path = tmp_path / "orders.csv"
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return read_orders(path)


def config(venue: VenueProfile, *, mode: str = "isolated", deposit: str = "10000", leverage: float = 1.0,
           quote: str = "USDT", topup: str | None = None, funding_rate: float = 0.0) -> RunConfig:  # fmt: skip
    """A run configuration with test defaults."""
    return RunConfig(
        venue=venue,
        mode=mode,  # type: ignore[arg-type]
        base="BTC",
        quote=quote,
        deposit=Decimal(deposit),
        leverage=leverage,
        run_id="test",
        wallet="paper-test",
        topup=Decimal(topup) if topup else None,
        funding_rate=funding_rate,
    )
