"""What a forced sale would realize on Form 8949, asked of the tax engine itself.

The Positions page shows a per-wallet FIFO estimate instantly; this module answers the same
question the way the tax return would: it appends a hypothetical ``liquidation`` of the
position's units at the liquidation price, after every ledger event, runs the tax engine for
that year with the user's profile (method, per-wallet scope), and reads back the 8949 rows of
that one disposal. The ledger is not changed. It runs the whole tax year, so it is asked for
on demand, not on every page view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from marginbook.app.features import EventStore, FeatureUnavailable, optional_module
from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.domain.numbers import ZERO, cents, decimal_context

WHAT_IF_ID = "what-if-liquidation"


@dataclass(frozen=True, slots=True)
class LiquidationTax:
    """The tax engine's view of a hypothetical forced sale.

    Attributes:
        at: when the sale is assumed (just after the ledger's last event, or now if later).
        quantity: units sold.
        price: the liquidation price.
        gain: the sum of the sale's 8949 rows' gains (negative: a loss), USD to the cent.
        rows: those 8949 rows, as the tax JSON document writes them (lots included).
        warnings: the engine's warnings for that year.
    """

    at: datetime
    quantity: Decimal
    price: Decimal
    gain: Decimal
    rows: list[dict[str, Any]]
    warnings: list[str]


def liquidation_tax(
    store: EventStore,
    *,
    wallet: str,
    asset: str,
    quantity: Decimal,
    price: Decimal,
    profile_path: Path | None = None,
    now: datetime | None = None,
) -> LiquidationTax:
    """Tax a forced sale of ``quantity`` ``asset`` from ``wallet`` at ``price`` (USD).

    Raises:
        FeatureUnavailable: when the tax engine is not installed.
        InputError: for a non-positive quantity or price, or what the tax engine refuses.
    """
    if quantity <= 0 or price <= 0:
        raise InputError(InputProblem("liquidation", None, "", "quantity and price must be positive"))
    tax_year = optional_module("marginbook.app.tax_year", "the tax engine")
    document_module = optional_module("marginbook.tax.document", "the tax engine")
    events = list(store.events())
    at = (now or datetime.now(UTC)).astimezone(UTC)
    if events and events[-1].timestamp >= at:
        at = events[-1].timestamp + timedelta(seconds=1)
    with decimal_context():
        proceeds = cents(quantity * price)
    sale = LedgerEvent(id=WHAT_IF_ID, timestamp=at, kind=EventKind.LIQUIDATION, wallet=wallet, asset=asset,
                       amount=quantity, counter_asset="USD", counter_amount=proceeds,
                       note="hypothetical forced sale (not in the ledger)", origin=Origin(source="what-if"))
    request = tax_year.TaxRequest(year=at.year, profile_path=profile_path)
    try:
        report = tax_year.tax_events([*events, sale], request)
    except AttributeError as error:  # pragma: no cover - an engine of another shape
        raise FeatureUnavailable("the tax engine", str(error)) from None
    document: dict[str, Any] = document_module.to_document(report)
    rows = [row for row in document.get("form_8949", []) if row.get("disposal_id") == WHAT_IF_ID]
    with decimal_context():
        gain = sum((Decimal(str(row["gain"])) for row in rows), ZERO)
    return LiquidationTax(at, quantity, price, gain, rows, list(document.get("warnings", [])))
