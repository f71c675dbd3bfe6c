"""A run's configuration and the per-bar valuation snapshot of the broker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marginbook.margin.account import MarginMode
from marginbook.margin.venues import VenueProfile


@dataclass(frozen=True, slots=True)
class RunConfig:
    """How a run trades.

    Attributes:
        venue: the venue profile (with any overrides applied).
        mode: ``isolated`` or ``cross``.
        base: traded asset; quote: cash asset.
        deposit: the opening deposit, in quote.
        leverage: default leverage of an entry without its own.
        topup: the answer to a margin call: ``None`` (do nothing) or an amount to deposit.
        funding_rate: funding rate per funding interval (perpetuals; 0 = none).
        base_deposit: units of the base asset deposited too, as collateral (cross accounts
            count them at the price; isolated positions are backed by quote only).
        run_id: the run's id (event origins ``sim:<run_id>``).
        wallet: the wallet of every event.
    """

    venue: VenueProfile
    mode: MarginMode
    base: str
    quote: str
    deposit: Decimal
    leverage: float
    run_id: str
    wallet: str
    topup: Decimal | None = None
    funding_rate: float = 0.0
    base_deposit: Decimal = Decimal(0)


@dataclass(slots=True)
class Snapshot:
    """The account after one bar, for the invariant checks."""

    time: datetime
    price: float
    cash: float
    collateral: float
    value: float
    debt: float
    accrued: float
    equity: float
