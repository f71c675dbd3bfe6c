"""Reading the profile TOML (spec/cli.md) into a :class:`~marginbook.tax.profile.Profile`.

Every problem is collected and reported at once, each naming its key
(``treatment.metod: unknown key``), because a typo must not silently change a return.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.numbers import ZERO, D
from marginbook.tax.methods import Method
from marginbook.tax.profile import (
    DEFAULT_STABLECOINS,
    AllocationDeadline,
    CarryoverIn,
    Character,
    FilingStatus,
    Form1099DA,
    LiquidationFeeTreatment,
    MonthEndRule,
    Profile,
    ShortSaleTerm,
    TaxpayerKind,
    TransferFeeTreatment,
    WalletSettings,
    YearSettings,
)

_E = TypeVar("_E", bound=StrEnum)


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
    import tomllib  # only a profile file needs the TOML parser (not every tax run)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(InputProblem(str(path), None, "", "no such profile file")) from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(InputProblem(str(path), None, "", f"not valid TOML: {error}")) from None
    return parse_profile(data, str(path))
