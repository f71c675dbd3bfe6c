"""The taxpayer profile: what the ledger cannot know (filing status, methods, carryovers ...).

The file is TOML (spec/cli.md), read by :mod:`marginbook.tax.profile_file`. Unknown keys
are an error naming the key, because a typo in ``metod = "hifo"`` must not silently compute
a FIFO return. Amounts are strings so that they
stay exact decimals. Every open question of the rules spec (section 9) that the engine can
answer two ways is a setting here with a documented default (docs/tax.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from marginbook.domain.numbers import ZERO
from marginbook.tax.methods import Method


class TaxpayerKind(StrEnum):
    """Investor (interest on Form 4952) or trader (interest and fees on Schedule C)."""

    INVESTOR = "investor"
    TRADER = "trader"


class FilingStatus(StrEnum):
    """Form 1040 filing status; married filing separately halves the capital loss limit."""

    SINGLE = "single"
    MARRIED_JOINT = "married_joint"
    MARRIED_SEPARATE = "married_separate"
    HEAD_OF_HOUSEHOLD = "head_of_household"


class TransferFeeTreatment(StrEnum):
    """A crypto network fee on a transfer between own wallets (rules spec 7, [U])."""

    DISPOSAL = "disposal"  # the fee units are disposed of at FMV (a Form 8949 row)
    IGNORE = "ignore"  # no row; the fee units' basis moves onto the units that arrive


class LiquidationFeeTreatment(StrEnum):
    """A liquidation fee: a transaction cost of the forced sale, or interest ([U])."""

    COST = "cost"
    INTEREST = "interest"


class Character(StrEnum):
    """How perpetual funding payments and realized PnL are characterised ([U])."""

    CAPITAL = "capital"
    ORDINARY = "ordinary"


class MonthEndRule(StrEnum):
    """When an asset bought on the last day of a month becomes long-term ([S/U])."""

    THIRTEENTH_MONTH = "thirteenth_month"  # Rev. Rul. 66-7: the first day of the 13th month after
    ANNIVERSARY = "anniversary"  # the day after the same calendar date a year later


class ShortSaleTerm(StrEnum):
    """The holding period of a closed short sale (§1233 and crypto is [U])."""

    DELIVERED_LOTS = "delivered_lots"  # the delivered lots' own holding period
    SHORT_TERM = "short_term"  # always short-term, as §1233(b) would make most shorts


class AllocationDeadline(StrEnum):
    """Which Rev. Proc. 2024-28 deadline a specific-unit allocation is checked against ([U])."""

    START_OF_2025 = "start_of_2025"  # made by 2025-01-01T00:00Z
    FIRST_DISPOSAL_OR_DUE_DATE = "first_disposal_or_due_date"  # earlier of first 2025 disposal, 2026-04-15


class Form1099DA(StrEnum):
    """What a custodial wallet's broker reports on Form 1099-DA."""

    NONE = "none"
    GROSS_ONLY = "gross_only"
    BASIS_REPORTED = "basis_reported"


DEFAULT_STABLECOINS = frozenset({"USDT", "USDC", "DAI", "BUSD", "TUSD", "USDP", "PYUSD", "FDUSD", "GUSD"})


@dataclass(frozen=True, slots=True)
class WalletSettings:
    """A wallet's custody and 1099-DA status, which choose its Form 8949 box from 2025.

    Attributes:
        custodial: a broker's account (``True``) or self-custody.
        form_1099da: what the broker reports for the wallet's disposals.
    """

    custodial: bool = False
    form_1099da: Form1099DA = Form1099DA.NONE


@dataclass(frozen=True, slots=True)
class YearSettings:
    """Per tax year: the lot method and the amounts from outside the ledger.

    Attributes:
        method: the lot method for the year's disposals, or ``None`` for FIFO.
        method_since: since when the method is recorded (standing order); a 2025+ non-FIFO
            disposal before it is warned about.
        taxable_income: Form 1040 taxable income, for the capital loss carryover worksheet;
            ``None`` means "not given" (the worksheet then assumes the deduction was used).
        investment_income: Form 4952 line 4a from outside the ledger.
        qualified_dividends: Form 4952 line 4b.
        elect_4g: Form 4952 line 4g (capped at 4b + 4e).
        investment_expenses: Form 4952 line 5.
        other_short_term_gain: Schedule D line 5 (outside amounts, e.g. K-1s and stocks).
        other_long_term_gain: Schedule D line 12.
        section_1256_gain: net Form 6781 gain or loss; 40 % to line 4, 60 % to line 11.
    """

    method: Method | None = None
    method_since: datetime | None = None
    taxable_income: Decimal | None = None
    investment_income: Decimal = ZERO
    qualified_dividends: Decimal = ZERO
    elect_4g: Decimal = ZERO
    investment_expenses: Decimal = ZERO
    other_short_term_gain: Decimal = ZERO
    other_long_term_gain: Decimal = ZERO
    section_1256_gain: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class CarryoverIn:
    """Carryovers from the return before the ledger's first tax year (positive amounts)."""

    short_term: Decimal = ZERO
    long_term: Decimal = ZERO
    investment_interest: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything about the taxpayer the engine needs besides the ledger; defaults when no file.

    Attributes:
        kind: investor or trader.
        filing_status: decides the $3,000 / $1,500 loss limit.
        name, tin: printed on the forms when given.
        timezone: IANA zone of tax years, form dates and holding periods.
        transfer_fee: treatment of crypto fees on own-wallet transfers.
        liquidation_fee: treatment of a liquidation's fee.
        funding: character of perpetual funding payments.
        realized_pnl: character of realized margin / derivatives PnL.
        dust: a balance shortfall up to this many units is rounding, not missing basis.
        month_end: the last-day-of-month holding-period convention.
        short_sale_term: holding period of closed short sales.
        allocation_deadline: the Rev. Proc. 2024-28 deadline an allocation file is checked against.
        form_4952_4d_includes_carryover: whether capital loss carryovers reduce line 4d.
        stablecoins: assets valued at 1 USD unless the price source says otherwise.
        wallets: per-wallet settings (missing wallets: self-custody, no 1099-DA).
        carryover: the opening carryovers.
        years: per-year settings.
    """

    kind: TaxpayerKind = TaxpayerKind.INVESTOR
    filing_status: FilingStatus = FilingStatus.SINGLE
    name: str = ""
    tin: str = ""
    timezone: str = "UTC"
    transfer_fee: TransferFeeTreatment = TransferFeeTreatment.DISPOSAL
    liquidation_fee: LiquidationFeeTreatment = LiquidationFeeTreatment.COST
    funding: Character = Character.CAPITAL
    realized_pnl: Character = Character.CAPITAL
    dust: Decimal = Decimal("0.00000001")
    month_end: MonthEndRule = MonthEndRule.THIRTEENTH_MONTH
    short_sale_term: ShortSaleTerm = ShortSaleTerm.DELIVERED_LOTS
    allocation_deadline: AllocationDeadline = AllocationDeadline.START_OF_2025
    form_4952_4d_includes_carryover: bool = False
    stablecoins: frozenset[str] = DEFAULT_STABLECOINS
    wallets: Mapping[str, WalletSettings] = field(default_factory=dict)
    carryover: CarryoverIn = CarryoverIn()
    years: Mapping[int, YearSettings] = field(default_factory=dict)

    def year(self, year: int) -> YearSettings:
        """The settings of ``year`` (defaults when the profile has no table for it)."""
        return self.years.get(year, _DEFAULT_YEAR)

    def wallet(self, wallet: str) -> WalletSettings:
        """The settings of ``wallet`` (self-custody, no 1099-DA, when not listed)."""
        return self.wallets.get(wallet, _DEFAULT_WALLET)

    def zone(self) -> ZoneInfo:
        """The profile's time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)


_DEFAULT_YEAR = YearSettings()
_DEFAULT_WALLET = WalletSettings()
