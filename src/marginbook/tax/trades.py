"""The tax effect of trades and fees: one USD value for both sides, costs where they belong.

A trade exchanges one asset for another at one USD value ``V``: the asset given is disposed
of for ``V`` and the asset received is acquired for ``V``. A fee is a transaction cost:
added to the basis when USD was paid, else subtracted from the proceeds of what was given
(a crypto-for-crypto swap's fee belongs to the disposed asset, rules spec 7); a fee paid in
crypto is also a disposal of the fee units at their fair market value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from marginbook.domain.numbers import ZERO
from marginbook.domain.prices import MissingPriceError
from marginbook.tax.engine import Fold, ShortSale
from marginbook.tax.events import TaxEvent
from marginbook.tax.lots import BASIS_QUANTUM
from marginbook.tax.profile import LiquidationFeeTreatment

# --- values ------------------------------------------------------------------------------


def trade_value(fold: Fold, event: TaxEvent) -> Decimal:
    """The USD value ``V`` of a trade: both sides are worth it.

    ``usd_value`` when given; else the USD side; else a stablecoin side; else the price of
    the asset (or, when that is missing, of the counter asset).
    """
    if event.usd_value is not None:
        return event.usd_value
    counter = event.counter_asset or "USD"
    counter_amount = event.counter_amount if event.counter_amount is not None else ZERO
    if counter == "USD":
        return counter_amount
    if event.asset == "USD":
        return event.amount
    stable = fold.profile.stablecoins
    if counter in stable:
        return counter_amount * fold.valuer.price(counter, event.timestamp, event)
    if event.asset in stable:
        return event.amount * fold.valuer.price(event.asset, event.timestamp, event)
    try:
        return event.amount * fold.valuer.price(event.asset, event.timestamp, event)
    except MissingPriceError:
        if counter_amount > 0:
            return counter_amount * fold.valuer.price(counter, event.timestamp, event)
        raise


def event_value(fold: Fold, event: TaxEvent) -> Decimal:
    """Fair market value of ``|amount|`` of ``asset`` (``usd_value`` or the price data)."""
    if event.usd_value is not None:
        return event.usd_value
    return abs(event.amount) * fold.valuer.price(event.asset, event.timestamp, event)


def fee_value(fold: Fold, event: TaxEvent, trade_usd: Decimal | None) -> Decimal:
    """USD value of the event's fee: USD as is; the trade's own price when the fee is in one
    of the traded assets; else ``usd_value`` per unit for the event's asset; else the price data."""
    asset, amount = event.fee_asset, event.fee_amount
    if asset is None or amount is None or amount == 0:
        return ZERO
    if asset == "USD":
        return amount
    if trade_usd is not None:
        if asset == event.asset:
            return amount * trade_usd / event.amount
        if asset == event.counter_asset and event.counter_amount:
            return amount * trade_usd / event.counter_amount
    elif asset == event.asset and event.usd_value is not None and event.amount != 0:
        return amount * event.usd_value / abs(event.amount)
    return amount * fold.valuer.price(asset, event.timestamp, event)


def dispose_fee_units(fold: Fold, event: TaxEvent, value: Decimal) -> None:
    """A fee paid in crypto: the fee units are disposed of at their fair market value."""
    if event.fee_asset is None or event.fee_amount is None or event.fee_amount == 0:
        return
    if fold.valuer.is_usd(event.fee_asset):
        return
    fold.dispose(event, event.fee_asset, event.fee_amount, value, "fee", suffix=":fee")


def side_fee(fold: Fold, event: TaxEvent) -> None:
    """The fee of a non-trade event: a fee expense, and a disposal when paid in crypto."""
    value = fee_value(fold, event, None)
    if value == 0 and not event.fee_amount:
        return
    fold.expense(event, "fee", value)
    dispose_fee_units(fold, event, value)


# --- trades ------------------------------------------------------------------------------


class ExchangeAmounts(NamedTuple):
    """The USD amounts of one trade (spec/ledger-csv.md, fees before/after).

    Attributes:
        fee: the fee's value.
        basis: the basis of what was received: the trade's value, plus the fee when USD was given.
        proceeds: of what was given (when it is not USD): the value less the fee, or the whole
            value when a liquidation fee is treated as interest.
        fee_is_interest: the fee is investment interest (a liquidation, by the profile's
            ``liquidation_fee = "interest"``), not a transaction cost.
    """

    fee: Decimal
    basis: Decimal
    proceeds: Decimal
    fee_is_interest: bool


def exchange_amounts(fold: Fold, event: TaxEvent, given: str, kind: str) -> ExchangeAmounts:
    """Value, fee, basis and proceeds of a trade that gives ``given`` (``kind``: its row label);
    one rule for the Decimal fold and the fast fold's encoder."""
    value = trade_value(fold, event)
    fee = fee_value(fold, event, value)
    if given == "USD":
        return ExchangeAmounts(fee, value + fee, ZERO, False)
    if kind == "liquidation" and fold.profile.liquidation_fee is LiquidationFeeTreatment.INTEREST:
        return ExchangeAmounts(fee, value, value, True)
    return ExchangeAmounts(fee, value, value - fee, False)


def _exchange(
    fold: Fold,
    event: TaxEvent,
    given: str,
    given_qty: Decimal,
    received: str,
    received_qty: Decimal,
    *,
    shortable: bool,
    kind: str,
) -> None:
    amounts = exchange_amounts(fold, event, given, kind)
    if given != "USD":
        if amounts.fee_is_interest:
            fold.expense(event, "interest", amounts.fee)
        if shortable:
            _sell(fold, event, given, given_qty, amounts.proceeds, kind)
        else:
            fold.dispose(event, given, given_qty, amounts.proceeds, kind, suffix=":counter", use_picks=True)
    if received != "USD" and received_qty > 0:
        fold.book.acquire(event.wallet, received, received_qty, amounts.basis, event.timestamp, event.id)
    if event.fee_amount:
        dispose_fee_units(fold, event, amounts.fee)


def _sell(fold: Fold, event: TaxEvent, asset: str, quantity: Decimal, proceeds: Decimal, kind: str) -> None:
    """A sale of ``asset``: own lots first, or borrowed units (a short sale) per the spec."""
    key = (event.wallet, asset)
    borrowed = fold.borrowed.get(key, ZERO)
    short_qty = ZERO
    if borrowed > 0:
        if event.position is not None and (event.position, asset) in fold.short_positions:
            short_qty = min(quantity, borrowed)
        else:
            own = max(fold.book.holdings[key], ZERO)
            beyond = quantity - own
            if beyond > fold.dust:
                short_qty = min(beyond, borrowed)
    if short_qty > 0:
        short_proceeds = (proceeds * short_qty / quantity).quantize(BASIS_QUANTUM)
        fold.borrowed[key] -= short_qty
        fold.shorts[key].append(
            ShortSale(
                event.id,
                event.timestamp,
                event.wallet,
                asset,
                short_qty,
                short_proceeds,
                fold.book.next_seq(),
            )
        )
        quantity -= short_qty
        proceeds -= short_proceeds
    if quantity > 0:
        fold.dispose(event, asset, quantity, proceeds, kind, use_picks=True)


def on_buy(fold: Fold, event: TaxEvent) -> None:
    """Received ``amount`` ``asset`` for ``counter_amount`` ``counter_asset``."""
    assert event.counter_asset is not None and event.counter_amount is not None
    _exchange(
        fold,
        event,
        event.counter_asset,
        event.counter_amount,
        event.asset,
        event.amount,
        shortable=False,
        kind="buy",
    )


def on_sell(fold: Fold, event: TaxEvent) -> None:
    """Gave ``amount`` ``asset`` for ``counter_amount`` ``counter_asset``."""
    assert event.counter_asset is not None and event.counter_amount is not None
    _exchange(
        fold,
        event,
        event.asset,
        event.amount,
        event.counter_asset,
        event.counter_amount,
        shortable=True,
        kind=event.kind.value,
    )


def on_spend(fold: Fold, event: TaxEvent) -> None:
    """Paid for goods or services: a disposal at FMV, less the fee."""
    value = event_value(fold, event)
    fee = fee_value(fold, event, value)
    fold.dispose(event, event.asset, event.amount, value - fee, "spend", use_picks=True)
    dispose_fee_units(fold, event, fee)
