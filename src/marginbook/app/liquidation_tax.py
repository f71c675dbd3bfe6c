"""Use case: the tax a liquidation would trigger (``marginbook risk --collateral-wallet W``).

A liquidation that sells coins posted as collateral is a sale for tax: it realizes the gain
or loss of the lots sold. This joins the margin calculator (the liquidation price and the
venue's fee) to the tax engine (the wallet's lots, by the profile's method) through
:func:`marginbook.tax.what_if.price_disposal`, which runs the engine's own fold and one
hypothetical ``liquidation`` event; nothing is written to the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.events import format_timestamp
from marginbook.domain.numbers import ZERO, cents, plain
from marginbook.domain.prices import PriceSource
from marginbook.tax.engine import RunOptions
from marginbook.tax.events import TaxEvent
from marginbook.tax.holding import Term
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile
from marginbook.tax.profile_file import load_profile
from marginbook.tax.what_if import HypotheticalSale, WhatIfResult, price_disposal


@dataclass(frozen=True, slots=True)
class LiquidationTaxRequest:
    """The forced sale to price, as the ``risk`` flags give it.

    Attributes:
        wallet: ``--collateral-wallet``.
        asset: ``--collateral-asset``.
        at: ``--at`` (default: now).
        quantity: ``--collateral-quantity``; ``None`` = all the wallet's units.
        liquidation_price: the calculator's liquidation price (USD per unit).
        fee_rate, fixed_fee: the venue's liquidation fee on the sale
            (:func:`marginbook.margin.risk.collateral_sale_fee_terms`).
        profile_path: ``--profile``; method: ``--method`` (overrides the profile).
    """

    wallet: str
    asset: str
    at: datetime
    quantity: Decimal | None
    liquidation_price: Decimal
    fee_rate: Decimal = ZERO
    fixed_fee: Decimal = ZERO
    profile_path: Path | None = None
    method: Method | None = None


def liquidation_tax_from_events(
    events: Iterable[TaxEvent],
    request: LiquidationTaxRequest,
    profile: Profile | None = None,
    prices: PriceSource | None = None,
) -> WhatIfResult:
    """Price the forced sale against events already in ledger order.

    Raises:
        InputError: the quantity is not positive, or the wallet holds none of the asset.
        MissingBasisError: more units than the wallet's lots (or lots without basis).
    """
    profile = profile if profile is not None else load_profile(request.profile_path)
    sale = HypotheticalSale(
        wallet=request.wallet,
        asset=request.asset,
        at=request.at,
        quantity=request.quantity,
        price=request.liquidation_price,
        fee_rate=request.fee_rate,
        fixed_fee=request.fixed_fee,
    )
    try:
        return price_disposal(events, profile, sale, prices, RunOptions(method=request.method))
    except ValueError as error:
        flag = "--collateral-quantity" if request.quantity is not None else "--collateral-wallet"
        raise InputError(InputProblem(flag, None, "", str(error))) from None


def liquidation_tax(db_url: str | None, request: LiquidationTaxRequest) -> WhatIfResult:
    """Price the forced sale against the ledger database (events up to ``request.at``)."""
    from marginbook.app.tax_ledger import ledger_tax_events
    from marginbook.app.tax_year import default_prices

    profile = load_profile(request.profile_path)
    end = request.at + timedelta(microseconds=1)
    with ledger_tax_events(db_url, end, "the ledger database is not available in this build") as events:
        return liquidation_tax_from_events(events, request, profile, default_prices())


def liquidation_warnings(result: WhatIfResult) -> list[str]:
    """What the engine warned about the hypothetical sale, and what it leaves out."""
    warnings: list[str] = list(dict.fromkeys(w for d in result.disposals for w in d.warnings))
    if result.quantity > result.held:
        warnings.append(
            f"sells {plain(result.quantity)} {result.sale.asset}, more than the {plain(result.held)} "
            f"{result.sale.wallet!r} holds"
        )
    if result.short_quantity > 0:
        warnings.append(
            f"{plain(result.short_quantity)} {result.sale.asset} would be sold short against a borrow; "
            "that part's gain waits for the repay and is not included"
        )
    if result.fee_as_interest:
        warnings.append("profile liquidation_fee = interest: the fee is investment interest, not a cost")
    return warnings


def liquidation_tax_json(result: WhatIfResult) -> dict[str, Any]:
    """The ``tax_if_liquidated`` object of ``risk --format json`` (decimal strings).

    Proceeds, basis and gains are the Form 8949 figures (cents, split per term as the form
    splits them); quantities and the lots' exact basis are not rounded.
    """
    rows = result.rows
    proceeds = sum((row.proceeds for row in rows), ZERO)
    basis = sum((row.cost_basis for row in rows), ZERO)
    short_gain = sum((row.gain for row in rows if row.term is Term.SHORT), ZERO)
    long_gain = sum((row.gain for row in rows if row.term is Term.LONG), ZERO)
    boxes = list(dict.fromkeys(row.box for row in rows))
    lots = [
        {
            "acquisition_id": lot.acquisition_id,
            "quantity": plain(lot.quantity),
            "acquired_at": format_timestamp(lot.acquired_at) if lot.acquired_at else None,
            "cost_basis": plain(lot.cost_basis),
            "proceeds": plain(lot.proceeds),
            "term": row.term.value,
            "basis_missing": lot.basis_missing,
        }
        for row in rows
        for lot in row.lots
    ]
    warnings = liquidation_warnings(result)
    return {
        "wallet": result.sale.wallet,
        "asset": result.sale.asset,
        "at": format_timestamp(result.sale.at),
        "method": result.method.value,
        "quantity": plain(result.quantity),
        "held": plain(result.held),
        "price": plain(result.sale.price),
        "gross_proceeds": plain(cents(result.gross_proceeds)),
        "liquidation_fee": plain(cents(result.fee)),
        "proceeds": plain(proceeds),
        "cost_basis": plain(basis),
        "gain": plain(short_gain + long_gain),
        "short_term_gain": plain(short_gain),
        "long_term_gain": plain(long_gain),
        "box": "/".join(boxes) if boxes else None,
        "form_8949": [
            {
                "box": row.box,
                "term": row.term.value,
                "quantity": plain(row.quantity),
                "date_acquired": row.date_acquired.isoformat() if row.date_acquired else "VARIOUS",
                "date_sold": row.date_sold.isoformat(),
                "proceeds": plain(row.proceeds),
                "cost_basis": plain(row.cost_basis),
                "gain": plain(row.gain),
            }
            for row in rows
        ],
        "lots": lots,
        "short_sale_quantity": plain(result.short_quantity),
        "warnings": warnings,
    }


@dataclass(frozen=True, slots=True)
class LiquidationTax:
    """The dashboard's view of a hypothetical forced sale of an open position's units.

    Attributes:
        at: when the sale is assumed (just after the ledger's last event, or now if later).
        quantity: units sold.
        price: the liquidation price.
        gain: the sum of the sale's Form 8949 gains (negative: a loss), USD to the cent.
        rows: those rows as the tax JSON document writes them (lots included).
        warnings: what the engine warned about this disposal.
    """

    at: datetime
    quantity: Decimal
    price: Decimal
    gain: Decimal
    rows: list[dict[str, Any]]
    warnings: list[str]


def position_liquidation_tax(
    events: Iterable[TaxEvent],
    *,
    wallet: str,
    asset: str,
    quantity: Decimal,
    price: Decimal,
    profile_path: Path | None = None,
    now: datetime | None = None,
) -> LiquidationTax:
    """What a forced sale of ``quantity`` ``asset`` from ``wallet`` at ``price`` would realize.

    The same engine path as ``risk --collateral-wallet`` (:func:`liquidation_tax_from_events`),
    priced just after the ledger's last event so that every event counts.

    Raises:
        InputError: a quantity or price that is not positive, or a wallet without the asset.
    """
    if quantity <= 0 or price <= 0:
        raise InputError(InputProblem("liquidation", None, "", "quantity and price must be positive"))
    from marginbook.app.tax_year import default_prices
    from marginbook.tax.document import row_document

    ordered = list(events)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    if ordered and ordered[-1].timestamp >= at:
        at = ordered[-1].timestamp + timedelta(seconds=1)
    request = LiquidationTaxRequest(
        wallet=wallet, asset=asset, at=at, quantity=quantity, liquidation_price=price,
        profile_path=profile_path,
    )
    result = liquidation_tax_from_events(ordered, request, prices=default_prices())
    gain = cents(sum((row.gain for row in result.rows), ZERO))
    return LiquidationTax(at, quantity, price, gain, [row_document(row) for row in result.rows],
                          liquidation_warnings(result))
