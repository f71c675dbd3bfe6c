"""The taxpayer profile: what the ledger cannot know (filing status, methods, carryovers ...).

The file is TOML (spec/cli.md). Unknown keys are an error naming the key, because a typo in
``metod = "hifo"`` must not silently compute a FIFO return. Amounts are strings so that they
stay exact decimals. Every open question of the rules spec (section 9) that the engine can
answer two ways is a setting here with a documented default (docs/tax.md).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.numbers import ZERO, D
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


_E = TypeVar("_E", bound=StrEnum)

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


# --- loading -------------------------------------------------------------------------------


class _Reader:
    """Reads one TOML table, collecting problems that name the offending key."""

    def __init__(self, source: str, table: Mapping[str, Any], path: str, problems: list[InputProblem]):
        self.source = source
        self.table = table
        self.path = path
        self.problems = problems

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, text: str) -> None:
        self.problems.append(InputProblem(self.source, None, self._key(key), text))

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                self.problem(key, f"unknown key (known: {', '.join(sorted(allowed))})")

    def text(self, key: str, default: str) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            self.problem(key, "must be a string")
            return default
        return value

    def choice(self, key: str, enum: type[_E], default: _E) -> _E:
        value = self.text(key, default.value)
        try:
            return enum(value.lower())
        except ValueError:
            self.problem(key, f"{value!r} is not one of {', '.join(e.value for e in enum)}")
            return default

    def amount(self, key: str, default: Decimal | None) -> Decimal | None:
        if key not in self.table:
            return default
        value = self.table[key]
        if not isinstance(value, str):
            self.problem(key, 'amounts are strings, e.g. "1234.56"')
            return default
        try:
            return D(value)
        except ValueError:
            self.problem(key, f"{value!r} is not a decimal number")
            return default

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.problem(key, "must be true or false")
            return default
        return value

    def time(self, key: str) -> datetime | None:
        if key not in self.table:
            return None
        value = self.table[key]
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                self.problem(key, f"{value!r} is not an ISO-8601 time")
                return None
        if not isinstance(value, datetime):
            self.problem(key, "must be a time such as 2025-01-01T00:00:00Z")
            return None
        if value.tzinfo is None:
            self.problem(key, "needs a zone (write Z or +00:00)")
            return None
        return value.astimezone(UTC)

    def sub(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, Mapping):
            self.problem(key, "must be a table")
            value = {}
        return _Reader(self.source, value, self._key(key), self.problems)


def _nonneg(reader: _Reader, key: str) -> Decimal:
    value = reader.amount(key, ZERO)
    assert value is not None  # the default is not None
    if value < 0:
        reader.problem(key, "must not be negative (carryovers are positive amounts)")
    return value


def parse_profile(data: Mapping[str, Any], source: str = "profile") -> Profile:
    """Build a :class:`Profile` from parsed TOML; every problem is reported at once.

    Raises:
        InputError: naming every unknown key and bad value (``source: key: problem``).
    """
    problems: list[InputProblem] = []
    root = _Reader(source, data, "", problems)
    root.check_keys({"taxpayer", "treatment", "wallets", "carryover", "year"})

    taxpayer = root.sub("taxpayer")
    taxpayer.check_keys({"kind", "filing_status", "name", "tin", "timezone"})
    timezone = taxpayer.text("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        taxpayer.problem("timezone", f"{timezone!r} is not an IANA time zone name")
        timezone = "UTC"

    treatment = root.sub("treatment")
    treatment.check_keys(
        {
            "transfer_fee",
            "liquidation_fee",
            "funding",
            "realized_pnl",
            "dust",
            "month_end",
            "short_sale_term",
            "allocation_deadline",
            "form_4952_4d_includes_carryover",
            "stablecoins",
        }
    )
    dust = treatment.amount("dust", Decimal("0.00000001"))
    assert dust is not None
    if dust < 0:
        treatment.problem("dust", "must not be negative")
    stablecoins = treatment.table.get("stablecoins", sorted(DEFAULT_STABLECOINS))
    if not isinstance(stablecoins, list) or not all(isinstance(s, str) for s in stablecoins):
        treatment.problem("stablecoins", 'must be a list of asset names, e.g. ["USDT", "USDC"]')
        stablecoins = sorted(DEFAULT_STABLECOINS)

    wallets_table = root.sub("wallets")
    wallets: dict[str, WalletSettings] = {}
    for name in wallets_table.table:
        wallet = wallets_table.sub(name)
        wallet.check_keys({"custodial", "form_1099da"})
        wallets[name] = WalletSettings(
            custodial=wallet.flag("custodial", False),
            form_1099da=wallet.choice("form_1099da", Form1099DA, Form1099DA.NONE),
        )

    carry = root.sub("carryover")
    carry.check_keys({"short_term", "long_term", "investment_interest"})
    carryover = CarryoverIn(
        short_term=_nonneg(carry, "short_term"),
        long_term=_nonneg(carry, "long_term"),
        investment_interest=_nonneg(carry, "investment_interest"),
    )

    years_table = root.sub("year")
    years: dict[int, YearSettings] = {}
    for key in years_table.table:
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
            years_table.problem(key, "year tables are named by the year, e.g. [year.2025]")
            continue
        years[int(key)] = _parse_year(years_table.sub(key))

    if problems:
        raise InputError(problems)
    return Profile(
        kind=taxpayer.choice("kind", TaxpayerKind, TaxpayerKind.INVESTOR),
        filing_status=taxpayer.choice("filing_status", FilingStatus, FilingStatus.SINGLE),
        name=taxpayer.text("name", ""),
        tin=taxpayer.text("tin", ""),
        timezone=timezone,
        transfer_fee=treatment.choice("transfer_fee", TransferFeeTreatment, TransferFeeTreatment.DISPOSAL),
        liquidation_fee=treatment.choice(
            "liquidation_fee", LiquidationFeeTreatment, LiquidationFeeTreatment.COST
        ),
        funding=treatment.choice("funding", Character, Character.CAPITAL),
        realized_pnl=treatment.choice("realized_pnl", Character, Character.CAPITAL),
        dust=dust,
        month_end=treatment.choice("month_end", MonthEndRule, MonthEndRule.THIRTEENTH_MONTH),
        short_sale_term=treatment.choice("short_sale_term", ShortSaleTerm, ShortSaleTerm.DELIVERED_LOTS),
        allocation_deadline=treatment.choice(
            "allocation_deadline", AllocationDeadline, AllocationDeadline.START_OF_2025
        ),
        form_4952_4d_includes_carryover=treatment.flag("form_4952_4d_includes_carryover", False),
        stablecoins=frozenset(s.upper() for s in stablecoins),
        wallets=wallets,
        carryover=carryover,
        years=years,
    )


def _parse_year(year: _Reader) -> YearSettings:
    year.check_keys(
        {
            "method",
            "method_since",
            "taxable_income",
            "investment_income",
            "qualified_dividends",
            "elect_4g",
            "investment_expenses",
            "other_short_term_gain",
            "other_long_term_gain",
            "section_1256_gain",
        }
    )
    method = year.choice("method", Method, Method.FIFO) if "method" in year.table else None
    return YearSettings(
        method=method,
        method_since=year.time("method_since"),
        taxable_income=year.amount("taxable_income", None),
        investment_income=_nonneg(year, "investment_income"),
        qualified_dividends=_nonneg(year, "qualified_dividends"),
        elect_4g=_nonneg(year, "elect_4g"),
        investment_expenses=_nonneg(year, "investment_expenses"),
        other_short_term_gain=year.amount("other_short_term_gain", ZERO) or ZERO,
        other_long_term_gain=year.amount("other_long_term_gain", ZERO) or ZERO,
        section_1256_gain=year.amount("section_1256_gain", ZERO) or ZERO,
    )


def load_profile(path: Path | None) -> Profile:
    """Read a profile file, or return the defaults when ``path`` is ``None``.

    Raises:
        InputError: the file is missing, not TOML, or has unknown keys or bad values.
    """
    if path is None:
        return Profile()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(InputProblem(str(path), None, "", "no such profile file")) from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(InputProblem(str(path), None, "", f"not valid TOML: {error}")) from None
    return parse_profile(data, str(path))
