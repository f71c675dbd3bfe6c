"""What a disposal *would* realize: the tax engine's own fold, plus one hypothetical sale.

The margin calculator asks "if this wallet's coins were sold by a liquidation at time T for
X USD, what gain or loss would it realize, from which lots, on which Form 8949 box?". The
answer must come from the same lot logic as the tax report (pools, scope, the 2025 switch,
the method of the year, short sales, missing basis), so this module does not pick lots
itself: it folds the ledger's events up to T through the engine's handlers into a private
:class:`~marginbook.tax.engine.Fold`, then applies one more ``liquidation`` event that
exists nowhere else, and reads back the disposal the engine recorded for it. The fold is
thrown away afterwards; nothing is written anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.domain.numbers import ZERO, decimal_context
from marginbook.domain.prices import PriceSource
from marginbook.tax.book import WALLET_RULES_START
from marginbook.tax.engine import Fold, RunOptions
from marginbook.tax.events import TaxEvent
from marginbook.tax.form8949 import Form8949Row, rows_for_disposal
from marginbook.tax.methods import Method
from marginbook.tax.profile import LiquidationFeeTreatment, Profile
from marginbook.tax.records import Disposal

#: Id of the hypothetical event (never stored; it names the disposal in messages).
WHAT_IF_EVENT_ID = "what-if-liquidation"


@dataclass(frozen=True, slots=True)
class HypotheticalSale:
    """The forced sale to price.

    Attributes:
        wallet, asset: whose units are sold.
        at: when (events at or before this instant are folded first).
        quantity: units sold; ``None`` = every unit the wallet holds at ``at``.
        price: USD per unit the sale fetches (gross).
        fee_rate: the venue's liquidation fee as a fraction of the gross proceeds.
        fixed_fee: and as a fixed USD amount. The fee is a transaction cost of the sale
            (or interest when the profile's ``liquidation_fee = "interest"``).
    """

    wallet: str
    asset: str
    at: datetime
    quantity: Decimal | None
    price: Decimal
    fee_rate: Decimal = ZERO
    fixed_fee: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """What the hypothetical sale would realize (the engine's records, not rounded).

    Attributes:
        sale: the question.
        quantity: units sold (the wallet's holding when the question gave none).
        held: units the wallet held at ``sale.at`` before the sale.
        method: the lot method the engine used.
        gross_proceeds: ``quantity × price``.
        fee: the liquidation fee in USD (``fixed_fee + fee_rate × gross_proceeds``).
        disposals: the disposals the engine recorded (one unless fee units were disposed of).
        rows: their Form 8949 rows (cents; one per term).
        short_quantity: units sold beyond the wallet's own lots against a borrow (a short
            sale, whose gain waits for the repay); 0 normally.
        fee_as_interest: the fee went to investment interest instead of the proceeds.
    """

    sale: HypotheticalSale
    quantity: Decimal
    held: Decimal
    method: Method
    gross_proceeds: Decimal
    fee: Decimal
    disposals: tuple[Disposal, ...]
    rows: tuple[Form8949Row, ...]
    short_quantity: Decimal
    fee_as_interest: bool


def _fold_until(events: Iterable[TaxEvent], fold: Fold, at: datetime) -> None:
    """Apply every event at or before ``at``, as :func:`marginbook.tax.engine.run_engine` does."""
    from marginbook.tax.handlers import HANDLERS

    for event in events:
        if event.timestamp > at:
            break
        if not fold.switched and event.timestamp >= WALLET_RULES_START:
            fold.switch_to_wallets()
        HANDLERS[event.kind](fold, event)
    if not fold.switched and at >= WALLET_RULES_START:
        fold.switch_to_wallets()


def price_disposal(
    events: Iterable[TaxEvent],
    profile: Profile,
    sale: HypotheticalSale,
    prices: PriceSource | None = None,
    options: RunOptions | None = None,
) -> WhatIfResult:
    """Fold ``events`` (ledger order) up to ``sale.at`` and price the hypothetical sale.

    Args:
        events: the ledger's events in ledger order (later ones are ignored).
        profile: the taxpayer profile (method by year, boxes, liquidation-fee treatment).
        sale: the sale to price.
        prices: fair-market-value source for events without ``usd_value``.
        options: scope, ``--method``, missing-basis policy (``end`` is ignored: ``sale.at``
            is the end).

    Raises:
        MissingBasisError: the sale needs more units than the wallet's lots hold (or lots
            without basis) and missing basis is not allowed.
        MissingPriceError: an earlier event needs a price that is not known.
        ValueError: nothing to sell (a quantity that is not positive, or an empty wallet).
    """
    from marginbook.tax.handlers import HANDLERS

    options = options or RunOptions()
    fold = Fold(profile, prices, options)
    with decimal_context():
        _fold_until(events, fold, sale.at)
        held = fold.book.holdings[(sale.wallet, sale.asset)]
        quantity = held if sale.quantity is None else sale.quantity
        if quantity <= 0:
            raise ValueError(
                f"wallet {sale.wallet!r} holds no {sale.asset} at {sale.at.isoformat()}"
                if sale.quantity is None
                else f"the quantity sold must be positive, got {quantity}"
            )
        gross = quantity * sale.price
        fee = sale.fixed_fee + sale.fee_rate * gross
        event = LedgerEvent(
            id=WHAT_IF_EVENT_ID,
            timestamp=sale.at,
            kind=EventKind.LIQUIDATION,
            wallet=sale.wallet,
            asset=sale.asset,
            amount=quantity,
            counter_asset="USD",
            counter_amount=gross,
            fee_asset="USD" if fee > 0 else None,
            fee_amount=fee if fee > 0 else None,
            note="hypothetical forced sale (not in the ledger)",
            origin=Origin(source="what-if"),
        )
        method = fold.method_for(sale.at)
        first = len(fold.result.disposals)
        HANDLERS[EventKind.LIQUIDATION](fold, event)
        disposals = tuple(d for d in fold.result.disposals[first:] if d.event_id == WHAT_IF_EVENT_ID)
        short = sum(
            (s.quantity for s in fold.shorts[(sale.wallet, sale.asset)] if s.event_id == WHAT_IF_EVENT_ID),
            ZERO,
        )
        year = fold.tax_year(sale.at)
        rows = tuple(
            row
            for disposal in disposals
            for row in rows_for_disposal(disposal, year, profile, fold.zone, profile.month_end)
        )
    return WhatIfResult(
        sale=sale,
        quantity=quantity,
        held=held,
        method=method,
        gross_proceeds=gross,
        fee=fee,
        disposals=disposals,
        rows=rows,
        short_quantity=short,
        fee_as_interest=profile.liquidation_fee is LiquidationFeeTreatment.INTEREST and fee > 0,
    )
