"""Venue profiles: each venue's margin parameters, with the page they come from.

A profile is data only; the formulas live in :mod:`marginbook.margin.rules` and the profile's
``liquidation_rule`` names which one applies. Numbers are as published by the venue on the
date noted; venues change them (Kraken moves its thresholds with volatility), so every one
is a field a run may override.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from marginbook.domain.errors import InputError, InputProblem
from marginbook.margin.rules import margin as rules_margin

#: Which liquidation rule of :mod:`marginbook.margin.rules` a venue uses.
LiquidationRule = Literal["binance_usdm", "bybit", "okx", "kraken", "spot_margin_level"]
#: How the venue settles a position: as profit and loss in the quote asset (futures, Kraken
#: margin positions) or as real spot trades on borrowed funds (Binance margin).
Settlement = Literal["pnl", "spot"]
#: What a liquidation costs: a rate of the liquidated notional, or the whole remaining
#: margin of the position (the venue closes at the bankruptcy price).
LiquidationFeeKind = Literal["rate", "remaining_margin"]


@dataclass(frozen=True, slots=True)
class VenueProfile:
    """A venue's margin parameters.

    Attributes:
        name: the profile name used on the command line.
        source: the venue help pages the numbers come from.
        liquidation_rule: the formula family (see :data:`LiquidationRule`).
        settlement: ``pnl`` (futures, Kraken) or ``spot`` (Binance margin).
        perpetual: funding payments apply.
        max_leverage: the venue's leverage cap for this market.
        tier_floors: notional floor of each maintenance tier, ascending (``[0.0]`` = one tier).
        tier_mmrs: maintenance margin rate of each tier.
        tier_max_leverage: leverage cap of each tier.
        mm_deduction: fixed maintenance deduction (Bybit's "MM deduction") when one tier.
        margin_call_level: futures: margin ratio (MM / margin balance) of the call, e.g. 0.8;
            margin-level venues: the margin level of the call, e.g. 1.3 (Binance) or 0.8 (Kraken).
        liquidation_level: futures 1.0; Binance margin 1.1; Kraken 0.4.
        margin_call_deadline_hours: how long the trader has to answer a call (0 = none).
        liquidation_fee_kind: see :data:`LiquidationFeeKind`.
        liquidation_fee_rate: rate of the liquidated notional (``rate`` kind).
        liquidate_oldest_first: close positions oldest first only until the margin level is
            back above ``liquidation_stop_level`` (Kraken's FIFO partial liquidation).
        liquidation_stop_level: see above (1.0 = 100 %).
        partial_liquidation: a position in a tier above the lowest is first reduced to a
            lower tier's bound when that makes it margin compliant, and closed whole only
            when no lower tier does (Bybit, Binance USDⓈ-M; rule
            :func:`~marginbook.margin.rules.partial_liquidation_quantity`).
        partial_liquidation_fee_rate: fee rate on the part a partial liquidation sells;
            ``None`` = the taker fee (neither venue publishes a separate rate for it: Bybit's
            reduction is an ordinary FillOrKill order, Binance charges its fee "on the amount
            liquidated only").
        maker_fee: fee rate of limit and take-profit fills.
        taker_fee: fee rate of market, stop and liquidation fills.
        interest_rate: interest per ``interest_rate_period`` seconds on the amount lent.
        interest_rate_period: seconds the quoted rate covers (3600, 86400, 14400).
        interest_charge_period: seconds between charges (3600 Binance, 14400 Kraken).
        interest_clock_aligned: charges fall on clock multiples (Binance) or every period
            after opening (Kraken).
        interest_charge_at_open: one charge at the moment of borrowing.
        opening_fee_rate: Kraken's opening fee (a separate rate from the rollover).
        funding_interval_hours: hours between funding times (8 on most perpetuals).
        default_mode: the margin mode when a run names none (Kraken and Binance margin
            accounts are account-wide: cross).
        extra: venue-specific numbers (Kraken's rates when BTC is lent).
    """

    name: str
    source: str
    liquidation_rule: LiquidationRule
    settlement: Settlement
    perpetual: bool
    max_leverage: float
    tier_floors: tuple[float, ...] = (0.0,)
    tier_mmrs: tuple[float, ...] = (0.0,)
    tier_max_leverage: tuple[float, ...] = ()
    mm_deduction: float = 0.0
    margin_call_level: float = 0.8
    liquidation_level: float = 1.0
    margin_call_deadline_hours: float = 0.0
    liquidation_fee_kind: LiquidationFeeKind = "rate"
    liquidation_fee_rate: float = 0.0
    liquidate_oldest_first: bool = False
    liquidation_stop_level: float = 1.0
    partial_liquidation: bool = False
    partial_liquidation_fee_rate: float | None = None
    maker_fee: float = 0.0
    taker_fee: float = 0.0
    interest_rate: float = 0.0
    interest_rate_period: int = 3600
    interest_charge_period: int = 3600
    interest_clock_aligned: bool = True
    interest_charge_at_open: bool = True
    opening_fee_rate: float = 0.0
    funding_interval_hours: float = 8.0
    default_mode: Literal["isolated", "cross"] = "isolated"
    extra: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def uses_margin_level(self) -> bool:
        """True for venues that measure risk by margin level (equity / used), not margin ratio."""
        return self.liquidation_rule in ("kraken", "spot_margin_level")

    @property
    def partial_fee_rate(self) -> float:
        """The fee rate of a partial liquidation's sale (see ``partial_liquidation_fee_rate``)."""
        rate = self.partial_liquidation_fee_rate
        return self.taker_fee if rate is None else rate

    def with_overrides(self, **changes: object) -> VenueProfile:
        """A copy with some parameters replaced (flags such as ``--mmr`` or ``--taker-fee``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


BINANCE_USDM = VenueProfile(
    name="binance-usdm",
    source=(
        "Binance, 'How to Calculate Liquidation Price of USDⓈ-M Futures Contracts' (FAQ); "
        "'Leverage and Margin of USDⓈ-M Futures' (maintenance amount formula); BTCUSDT tiers from "
        "'Updates to Leverage and Margin Tiers of Binance Futures Contracts (2021-03-18)'; "
        "fees: 'What fees are generated in Binance Futures trading' (0.02 % maker, 0.05 % taker, VIP 0); "
        "'Binance Futures Liquidation Protocols' (partial liquidation by one reducing order)."
    ),
    liquidation_rule="binance_usdm",
    settlement="pnl",
    perpetual=True,
    max_leverage=125.0,
    tier_floors=(
        0.0,
        50_000.0,
        250_000.0,
        1_000_000.0,
        10_000_000.0,
        20_000_000.0,
        50_000_000.0,
        100_000_000.0,
        200_000_000.0,
        300_000_000.0,
    ),
    tier_mmrs=(0.004, 0.005, 0.01, 0.025, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50),
    tier_max_leverage=(125.0, 100.0, 50.0, 20.0, 10.0, 5.0, 4.0, 3.0, 2.0, 1.0),
    margin_call_level=0.8,
    liquidation_level=1.0,
    liquidation_fee_kind="remaining_margin",
    partial_liquidation=True,
    maker_fee=0.0002,
    taker_fee=0.0005,
)
"""Binance USDⓈ-M BTCUSDT perpetual, one-way mode.

Liquidation at margin ratio 100 %; the position's remaining margin at the liquidation price
goes to the insurance fund as the clearance fee ("a portion of the remaining collateral will
go to the Insurance Fund"), so an isolated position loses its whole margin, never more.

Partial liquidation (Binance FAQ "Binance Futures Liquidation Protocols", "Smart
Liquidation"): the engine cancels open orders, then sends one immediate-or-cancel order that
reduces the position without closing it; if the account is margin compliant after the
realized loss and the liquidation fee (charged "on the amount liquidated only"), liquidation
stops, else the rest is closed at the bankruptcy price. Binance does not publish the size of
that order, so marginbook sizes it as Bybit documents: down to the upper bound of the highest
lower tier at which the rest is compliant. Its fee rate is not published either:
``partial_liquidation_fee_rate`` (default the taker fee, 0.05 %).
"""

BINANCE_MARGIN = VenueProfile(
    name="binance-margin",
    source=(
        "Binance, 'Binance Margin Level and Margin Call' (FAQ 360030493931: cross 3x call at 1.3, "
        "liquidation at 1.1; cross 5x call at 1.16); 'Margin Interest Rate' (hourly interest, first "
        "hour at borrowing, then every full clock hour); 'Binance Margin liquidation fees' "
        "(announcement 2024-08-12: 2 % of liquidated assets); spot fee 0.1 %."
    ),
    liquidation_rule="spot_margin_level",
    settlement="spot",
    perpetual=False,
    max_leverage=3.0,
    margin_call_level=1.3,
    liquidation_level=1.1,
    margin_call_deadline_hours=24.0,
    default_mode="cross",
    liquidation_fee_kind="rate",
    liquidation_fee_rate=0.02,
    maker_fee=0.001,
    taker_fee=0.001,
    interest_rate=0.0002,
    interest_rate_period=86_400,
    interest_charge_period=3600,
    interest_clock_aligned=True,
    interest_charge_at_open=True,
)
"""Binance spot margin, cross 3x: margin level = assets / (liabilities + interest)."""

KRAKEN_MARGIN = VenueProfile(
    name="kraken-margin",
    source=(
        "Kraken, 'Margin call level and margin liquidation level' (article 203325763: call ≈80 %, "
        "liquidation ≈40 %, FIFO liquidation until the level is above 100 %); 'What are the fees "
        "(opening and rollover) for trading using margin?' (article 206161568: 0.025 % when USD is "
        "lent, 0.01 % when BTC is lent, rollover every 4 hours); taker fee 0.40 %, maker 0.25 %."
    ),
    liquidation_rule="kraken",
    settlement="pnl",
    perpetual=False,
    max_leverage=5.0,
    margin_call_level=0.8,
    liquidation_level=0.4,
    default_mode="cross",
    liquidation_fee_kind="rate",
    liquidation_fee_rate=0.0,
    liquidate_oldest_first=True,
    liquidation_stop_level=1.0,
    maker_fee=0.0025,
    taker_fee=0.004,
    interest_rate=0.00025,
    interest_rate_period=14_400,
    interest_charge_period=14_400,
    interest_clock_aligned=False,
    interest_charge_at_open=False,
    opening_fee_rate=0.00025,
    extra={"short_interest_rate": 0.0001, "short_opening_fee_rate": 0.0001},
)
"""Kraken spot margin: margin level = equity / used margin; long valued at opening cost,
short at current value (the only reading under which Kraken's two examples agree).
Kraken's fee page lists no separate liquidation fee (the trade fee applies)."""

BYBIT_LINEAR = VenueProfile(
    name="bybit-linear",
    source=(
        "Bybit, 'Liquidation Price (USDT Contract)' (isolated: LP = EP ∓ (IM − MM)/size ∓ extra/size; "
        "example long 1 BTC at 20,000, 50x, MMR 0.5 % → 19,700; the position is closed at the "
        "bankruptcy price); 'Liquidation Process (USDT Contract)' (partial liquidation down to a lower "
        "risk limit by a FillOrKill order); 'Risk Limit (USDT Contract)' (BTCUSDT: 2,000,000 USDT base and "
        "increment, MMR 0.5 % + 0.5 %, IMR 1 % + 0.75 % per level); fees 0.02 % maker, 0.055 % taker."
    ),
    liquidation_rule="bybit",
    settlement="pnl",
    perpetual=True,
    max_leverage=100.0,
    tier_floors=(0.0, 2_000_000.0, 4_000_000.0, 6_000_000.0, 8_000_000.0),
    tier_mmrs=(0.005, 0.01, 0.015, 0.02, 0.025),
    tier_max_leverage=(100.0, 100.0 / 1.75, 100.0 / 2.5, 100.0 / 3.25, 100.0 / 4.0),
    mm_deduction=0.0,
    margin_call_level=0.8,
    liquidation_fee_kind="remaining_margin",
    partial_liquidation=True,
    maker_fee=0.0002,
    taker_fee=0.00055,
)
"""Bybit USDT perpetual, BTCUSDT, with its risk-limit tiers.

Risk limits (Bybit "Risk Limit (USDT Contract)": a base value and an increment per level, for
BTCUSDT 2,000,000 USDT each; maintenance margin 0.5 % plus 0.5 % per level, initial margin
1 % plus 0.75 % per level, i.e. 100x, then 57.14x at 4,000,000 as Bybit's announcement of the
raised BTCUSDT limits states): five levels up to 10,000,000 USDT are in the profile; a
position above that is charged the fifth level's rates. The maintenance margin is
``value · MMR − MM deduction`` with the deduction that keeps it continuous across levels
(Bybit's "MM deduction"; zero on the first level, where the venue's 19,700 example lives).

Liquidation (Bybit "Liquidation Process (USDT Contract)"): on the lowest level the position
is closed whole at the bankruptcy price; above it the engine first lowers the risk limit,
then sends a FillOrKill order for the value between the position and the lower level that
satisfies the maintenance margin, and takes the whole position only if that fails
(``partial_liquidation``). The FillOrKill order pays the taker fee
(``partial_liquidation_fee_rate``, default the taker fee, 0.055 %).
"""

OKX_SWAP = VenueProfile(
    name="okx-swap",
    source=(
        "OKX, 'Tiered maintenance margin ratio rules' and 'Isolated margin mode' (help center): "
        "liquidation when margin ratio reaches 100 % of maintenance margin plus the closing fee; "
        "BTC-USDT-SWAP tier 1 MMR 0.4 %; fees 0.02 % maker, 0.05 % taker."
    ),
    liquidation_rule="okx",
    settlement="pnl",
    perpetual=True,
    max_leverage=100.0,
    tier_mmrs=(0.004,),
    margin_call_level=0.8,
    liquidation_fee_kind="remaining_margin",
    maker_fee=0.0002,
    taker_fee=0.0005,
)
"""OKX USDT-margined perpetual swap; isolated LP = (EP ∓ WB/Q) / (1 ∓ (MMR + taker))."""

GENERIC = VenueProfile(
    name="generic",
    source="No venue: every parameter comes from the flags; a rate not given is zero.",
    liquidation_rule="binance_usdm",
    settlement="pnl",
    perpetual=True,
    max_leverage=1_000.0,
    tier_mmrs=(0.0,),
    margin_call_level=0.8,
)
"""A futures-style venue whose every parameter is given by flags (maintenance rate and
amount, fees); liquidation at margin ratio 100 % with the Binance formula."""

PROFILES: dict[str, VenueProfile] = {
    p.name: p for p in (BINANCE_USDM, BINANCE_MARGIN, KRAKEN_MARGIN, BYBIT_LINEAR, OKX_SWAP, GENERIC)
}


def profile(name: str) -> VenueProfile:
    """The profile named ``name``; an unknown name is bad input that lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise InputError(
            InputProblem("--venue", None, "", f"unknown venue {name!r}; known: {known}")
        ) from None


def tier_max_leverage(venue: VenueProfile, notional: float) -> float:
    """The leverage cap for a position of ``notional`` (the tier's cap, else the venue's).

    The rule itself is :func:`marginbook.margin.rules.tier_leverage_cap`, which the backtest
    kernel compiles too, so both refuse the same entries.
    """
    return rules_margin.tier_leverage_cap(
        notional, venue.tier_floors, venue.tier_max_leverage, venue.max_leverage  # type: ignore[arg-type]
    )
