"""A backtest's settings, and their translation into the kernel's settings vector.

The venue's numbers (tiers, thresholds, fees, interest schedule) come from the margin
engine's venue profiles (:mod:`marginbook.margin.venues`); the run's choices (leverage,
mode, sizing, stops, rates given on the command line) override them. Rates are fractions
(``0.0002`` = 0.02 %), never percents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from marginbook.backtest import layout as L
from marginbook.domain.errors import InputError, InputProblem
from marginbook.margin.rules.interest import rate_per_charge
from marginbook.margin.venues import VenueProfile, profile

FloatArray = npt.NDArray[np.float64]

RATE_PERIODS: dict[str, int] = {"hour": 3600, "4h": 14_400, "day": 86_400}

_MODELS = {
    "binance_usdm": L.MODEL_MARGIN_RATIO,
    "bybit": L.MODEL_BYBIT,
    "okx": L.MODEL_OKX,
    "spot_margin_level": L.MODEL_SPOT_MARGIN,
    "kraken": L.MODEL_KRAKEN,
}


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """What a backtest run decides; ``None`` means "the venue's value".

    Attributes:
        venue: a venue profile name (``binance-usdm``, ``binance-margin``, ``kraken-margin``,
            ``bybit-linear``, ``okx-swap``, ``generic``).
        leverage: notional / initial margin.
        mode: ``isolated`` (each position risks its own margin) or ``cross`` (the whole balance).
        cash: starting balance in the quote asset.
        size_units: fixed position size in base units; else ``size_fraction`` applies.
        size_fraction: the fraction of current equity each entry commits as initial margin
            (with the entry fee); default 1.
        fee: trading fee rate for every fill (default: the venue's taker fee, and its maker
            fee for take-profits).
        stop_loss, take_profit, trailing_stop: distances as fractions of the signal bar's close.
        interest_rate: interest rate per ``rate_period`` on the amount lent (default: venue's).
        rate_period: ``hour``, ``4h`` or ``day``.
        funding_rate: funding rate per funding time (perpetuals; positive: longs pay).
        liquidation_fee: liquidation fee rate of the notional (default: the venue's rule).
        mmr: one maintenance margin rate replacing the venue's tiers.
    """

    venue: str = "generic"
    leverage: float = 1.0
    mode: Literal["isolated", "cross"] = "isolated"
    cash: float = 10_000.0
    size_units: float | None = None
    size_fraction: float | None = None
    fee: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    interest_rate: float | None = None
    rate_period: str | None = None
    funding_rate: float = 0.0
    liquidation_fee: float | None = None
    mmr: float | None = None

    def validate(self) -> VenueProfile:
        """Check the settings against each other and the venue; return the venue profile.

        Raises:
            InputError: naming the flag at fault.
        """
        venue = profile(self.venue)

        def bad(flag: str, problem: str) -> InputError:
            return InputError(InputProblem(flag, None, "", problem))

        if not 1.0 <= self.leverage <= venue.max_leverage:
            raise bad("--leverage", f"must be between 1 and {venue.max_leverage:g} on {venue.name}, "
                                    f"got {self.leverage:g}")
        if self.mode not in ("isolated", "cross"):
            raise bad("--mode", f"must be isolated or cross, got {self.mode!r}")
        if not self.cash > 0:
            raise bad("--cash", f"must be positive, got {self.cash:g}")
        if self.size_units is not None and self.size_fraction is not None:
            raise bad("--size", "give --size or --size-fraction, not both")
        if self.size_units is not None and not self.size_units > 0:
            raise bad("--size", f"must be positive, got {self.size_units:g}")
        if self.size_fraction is not None and not 0 < self.size_fraction <= 1:
            raise bad("--size-fraction", f"must be in (0, 1], got {self.size_fraction:g}")
        for flag, value in (("--fee", self.fee), ("--interest-rate", self.interest_rate),
                            ("--liquidation-fee", self.liquidation_fee), ("--mmr", self.mmr)):
            if value is not None and not 0 <= value < 1:
                raise bad(flag, f"must be a fraction in [0, 1), got {value:g}")
        for flag, value in (("--stop-loss", self.stop_loss), ("--trailing-stop", self.trailing_stop)):
            if value is not None and not 0 < value < 1:
                raise bad(flag, f"must be a fraction in (0, 1), got {value:g}")
        if self.take_profit is not None and not self.take_profit > 0:
            raise bad("--take-profit", f"must be positive, got {self.take_profit:g}")
        if self.rate_period is not None and self.rate_period not in RATE_PERIODS:
            raise bad("--rate-period", f"must be one of {', '.join(RATE_PERIODS)}, got {self.rate_period!r}")
        if self.funding_rate and not venue.perpetual:
            raise bad("--funding-rate", f"{venue.name} is not a perpetual-futures venue")
        return venue


def kernel_config(settings: BacktestSettings) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The kernel's settings vector and tier arrays (floors, rates, leverage caps) for ``settings``.

    ``--mmr`` replaces the maintenance tiers by one tier without a cap of its own (only the
    venue's maximum leverage applies), as ``marginbook risk --mmr`` does.

    Raises:
        InputError: when the settings are inconsistent (see :meth:`BacktestSettings.validate`).
    """
    venue = settings.validate()
    cfg = np.zeros(L.CFG_SIZE)
    cfg[L.CFG_MODEL] = _MODELS[venue.liquidation_rule]
    cfg[L.CFG_LEVERAGE] = settings.leverage
    cfg[L.CFG_CROSS] = 1.0 if settings.mode == "cross" else 0.0
    cfg[L.CFG_CASH] = settings.cash
    cfg[L.CFG_SIZE_UNITS] = settings.size_units or 0.0
    cfg[L.CFG_SIZE_FRACTION] = 1.0 if settings.size_fraction is None else settings.size_fraction
    cfg[L.CFG_FEE] = venue.taker_fee if settings.fee is None else settings.fee
    cfg[L.CFG_MAKER_FEE] = venue.maker_fee if settings.fee is None else settings.fee
    cfg[L.CFG_TAKER_FEE] = venue.taker_fee
    cfg[L.CFG_STOP_LOSS] = settings.stop_loss or 0.0
    cfg[L.CFG_TAKE_PROFIT] = settings.take_profit or 0.0
    cfg[L.CFG_TRAILING_STOP] = settings.trailing_stop or 0.0

    charge_period = venue.interest_charge_period
    quoted_period = venue.interest_rate_period
    long_rate = venue.interest_rate
    short_rate = venue.extra.get("short_interest_rate", venue.interest_rate)
    long_opening = venue.opening_fee_rate
    short_opening = venue.extra.get("short_opening_fee_rate", venue.opening_fee_rate)
    if settings.interest_rate is not None:
        # A rate given on the command line replaces the venue's, for longs and shorts alike.
        quoted_period = RATE_PERIODS[settings.rate_period or "day"]
        long_rate = short_rate = settings.interest_rate
        long_opening = short_opening = rate_per_charge(settings.interest_rate, quoted_period, charge_period)
    per_charge = rate_per_charge(long_rate, quoted_period, charge_period)
    short_per_charge = rate_per_charge(short_rate, quoted_period, charge_period)
    cfg[L.CFG_INTEREST_PER_CHARGE] = per_charge
    cfg[L.CFG_SHORT_INTEREST_PER_CHARGE] = short_per_charge
    if venue.opening_fee_rate > 0:
        # Kraken: an opening fee at opening, then a rollover every period after it.
        cfg[L.CFG_CHARGE_AT_OPEN] = 1.0
        cfg[L.CFG_OPENING_RATE] = long_opening
        cfg[L.CFG_SHORT_OPENING_RATE] = short_opening
    elif venue.interest_charge_at_open:
        # Binance: the first hour is charged at borrowing, at the hourly rate.
        cfg[L.CFG_CHARGE_AT_OPEN] = 1.0
        cfg[L.CFG_OPENING_RATE] = per_charge
        cfg[L.CFG_SHORT_OPENING_RATE] = short_per_charge
    cfg[L.CFG_CHARGE_PERIOD] = charge_period
    cfg[L.CFG_CLOCK_ALIGNED] = 1.0 if venue.interest_clock_aligned else 0.0
    cfg[L.CFG_QUOTE_INTEREST] = 1.0 if venue.settlement == "pnl" else 0.0

    cfg[L.CFG_FUNDING_RATE] = settings.funding_rate
    cfg[L.CFG_FUNDING_PERIOD] = venue.funding_interval_hours * 3600 if venue.perpetual else 0.0
    if settings.liquidation_fee is not None:
        cfg[L.CFG_LIQUIDATION_FEE] = settings.liquidation_fee
    else:
        # A venue without its own liquidation fee charges its taker fee on the forced close.
        cfg[L.CFG_LIQUIDATION_FEE] = venue.liquidation_fee_rate or venue.taker_fee
        remaining = venue.liquidation_fee_kind == "remaining_margin"
        cfg[L.CFG_LIQUIDATION_FEE_REMAINING] = 1.0 if remaining else 0.0
    cfg[L.CFG_CALL_LEVEL] = venue.margin_call_level
    cfg[L.CFG_LIQUIDATION_LEVEL] = venue.liquidation_level
    cfg[L.CFG_MAX_LEVERAGE] = venue.max_leverage
    cfg[L.CFG_PARTIAL_LIQUIDATION] = 1.0 if venue.partial_liquidation else 0.0
    # The reducing order is a market order: the run's fee when given, else the venue's rate.
    if venue.partial_liquidation_fee_rate is None and settings.fee is not None:
        cfg[L.CFG_PARTIAL_FEE] = settings.fee
    else:
        cfg[L.CFG_PARTIAL_FEE] = venue.partial_fee_rate
    if settings.mmr is not None:
        floors, mmrs, caps = np.zeros(1), np.array([settings.mmr]), np.zeros(0)
    else:
        floors = np.asarray(venue.tier_floors, dtype=np.float64)
        mmrs = np.asarray(venue.tier_mmrs, dtype=np.float64)
        caps = np.asarray(venue.tier_max_leverage, dtype=np.float64)
    return cfg, floors, mmrs, caps
