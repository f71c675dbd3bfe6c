"""Test helpers: small ledgers written as CSV text, taxed end to end, JSON out.

Ledgers go through the real ledger CSV codec (``marginbook.importers.ledger_csv``) and the
report through the real JSON document (``json.dumps`` then ``json.loads``), so a test that
passes here passes for a user with the same file.
"""

from __future__ import annotations

import io
import json
import textwrap
import tomllib
from datetime import datetime
from decimal import Decimal
from typing import Any

from marginbook.domain.events import LedgerEvent
from marginbook.domain.prices import MissingPriceError
from marginbook.importers.ledger_csv import read_text
from marginbook.tax.book import Scope
from marginbook.tax.document import to_document
from marginbook.tax.engine import RunOptions
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile, parse_profile
from marginbook.tax.report import TaxReport, compute_tax_report


class FakePrices:
    """A price source from a dict ``{(asset, 'YYYY-MM-DD'): price}`` (daily prices)."""

    def __init__(self, prices: dict[tuple[str, str], str] | None = None) -> None:
        self.prices = {key: Decimal(value) for key, value in (prices or {}).items()}

    def usd_price(self, asset: str, at: datetime) -> Decimal:
        try:
            return self.prices[(asset, at.date().isoformat())]
        except KeyError:
            raise MissingPriceError(asset, at) from None


def events(csv_text: str) -> list[LedgerEvent]:
    """Events of a ledger CSV text, in ledger order (timestamp, then row)."""
    parsed = read_text(io.StringIO(textwrap.dedent(csv_text).strip() + "\n"), "ledger.csv")
    return sorted(parsed, key=lambda event: event.timestamp)


def profile(toml_text: str = "") -> Profile:
    """A profile from TOML text (the defaults for an empty text)."""
    return parse_profile(tomllib.loads(textwrap.dedent(toml_text)), "profile.toml")


def report(
    csv_text: str,
    year: int,
    toml_text: str = "",
    *,
    prices: FakePrices | None = None,
    scope: Scope = Scope.TRANSITION,
    method: Method | None = None,
    allow_missing_basis: bool = False,
) -> TaxReport:
    """The TaxReport of ``year`` for a CSV ledger."""
    options = RunOptions(scope=scope, method=method, allow_missing_basis=allow_missing_basis)
    return compute_tax_report(events(csv_text), year, profile(toml_text), prices or FakePrices(), options)


def document(csv_text: str, year: int, toml_text: str = "", **kwargs: Any) -> dict[str, Any]:
    """The JSON document of ``year`` for a CSV ledger, through ``json`` and back."""
    result: dict[str, Any] = json.loads(json.dumps(to_document(report(csv_text, year, toml_text, **kwargs))))
    return result


def term_total(doc: dict[str, Any], term: str) -> Decimal:
    """Sum of the gains of one term's 8949 rows."""
    return sum((Decimal(row["gain"]) for row in doc["form_8949"] if row["term"] == term), Decimal(0))
