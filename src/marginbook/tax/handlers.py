"""The tax effect of each event kind: one handler per kind, in a table keyed by the kind.

Each handler takes the fold's state and one event and books its effect (spec/ledger-csv.md,
"Kinds" and "Semantics"; rules spec 1.2 and 7):

- trades exchange one asset for another at one USD value ``V``: the asset given is disposed
  of for ``V`` and the asset received is acquired for ``V``. A fee is a transaction cost:
  added to the basis when USD was paid, else subtracted from the proceeds of what was given
  (a crypto-for-crypto swap's fee belongs to the disposed asset);
- a fee paid in crypto is also a disposal of the fee units at their fair market value;
- income, transfers, gifts, interest, borrowing, short sales and realized PnL as the spec says.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from marginbook.domain.events import EventKind
from marginbook.domain.numbers import ZERO, plain
from marginbook.domain.prices import MissingPriceError
from marginbook.tax.engine import Fold, MissingBasisError, ShortSale
from marginbook.tax.events import TaxEvent
from marginbook.tax.holding import Term
from marginbook.tax.lots import Taken
from marginbook.tax.profile import Character, LiquidationFeeTreatment, ShortSaleTerm, TransferFeeTreatment
from marginbook.tax.records import Disposal, GiftItem, IncomeItem, LotSlice
from marginbook.tax.valuation import describe

Handler = Callable[[Fold, TaxEvent], None]


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
    value = trade_value(fold, event)
    fee = fee_value(fold, event, value)
    if given == "USD":
        basis = value + fee
        proceeds = ZERO
    else:
        basis = value
        proceeds = value - fee
        if kind == "liquidation" and fold.profile.liquidation_fee is LiquidationFeeTreatment.INTEREST:
            proceeds = value
            fold.expense(event, "interest", fee)
        if shortable:
            _sell(fold, event, given, given_qty, proceeds, kind)
        else:
            fold.dispose(event, given, given_qty, proceeds, kind, suffix=":counter", use_picks=True)
    if received != "USD" and received_qty > 0:
        fold.book.acquire(event.wallet, received, received_qty, basis, event.timestamp, event.id)
    if event.fee_amount:
        dispose_fee_units(fold, event, fee)


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
        short_proceeds = proceeds * short_qty / quantity
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


# --- flows -------------------------------------------------------------------------------


def on_deposit(fold: Fold, event: TaxEvent) -> None:
    """Units from outside the ledger: a lot with the given basis, or with missing basis."""
    if not fold.valuer.is_usd(event.asset):
        missing = event.cost_basis_usd is None
        fold.book.acquire(
            event.wallet,
            event.asset,
            event.amount,
            event.cost_basis_usd or ZERO,
            event.acquired_at or event.timestamp,
            event.id,
            basis_missing=missing,
        )
    side_fee(fold, event)


def on_withdrawal(fold: Fold, event: TaxEvent) -> None:
    """Units left for outside the ledger: not a sale; their lots leave the pool."""
    if not fold.valuer.is_usd(event.asset):
        _, uncovered = fold.book.remove(
            event.wallet, event.asset, event.amount, fold.method_for(event.timestamp)
        )
        if uncovered > fold.dust:
            fold.result.warnings.append(
                f"event {describe(event)}: withdraws {plain(uncovered)} {event.asset} more than wallet "
                f"{event.wallet!r} holds"
            )
    side_fee(fold, event)


def on_transfer(fold: Fold, event: TaxEvent) -> None:
    """Units moved between own wallets keep their basis and acquisition date."""
    assert event.to_wallet is not None
    asset = event.asset
    if not fold.valuer.is_usd(asset):
        book = fold.book
        if book.per_wallet:
            method = fold.method_for(event.timestamp)
            if event.lots:
                picked = sum((p.quantity for p in event.lots), ZERO)
                if abs(picked - event.amount) > fold.dust:
                    raise MissingBasisError(
                        f"event {describe(event)}: lots names {plain(picked)} {asset} but "
                        f"{plain(event.amount)} are transferred"
                    )
                taken, missing = book.remove_specific(
                    event.wallet, asset, [(p.acquisition_id, p.quantity) for p in event.lots]
                )
                uncovered = sum((q for _, q in missing), ZERO)
            else:
                taken, uncovered = book.remove(event.wallet, asset, event.amount, method)
            book.place(event.to_wallet, taken)
            if uncovered > fold.dust:
                book.acquire(
                    event.to_wallet, asset, uncovered, ZERO, event.timestamp, event.id, basis_missing=True
                )
        else:
            book.holdings[(event.wallet, asset)] -= event.amount
            book.holdings[(event.to_wallet, asset)] += event.amount
    if fold.profile.transfer_fee is TransferFeeTreatment.DISPOSAL:
        side_fee(fold, event)
    elif event.fee_asset and event.fee_amount and not fold.valuer.is_usd(event.fee_asset):
        fold.book.remove(event.wallet, event.fee_asset, event.fee_amount, fold.method_for(event.timestamp))


def on_income(fold: Fold, event: TaxEvent) -> None:
    """Ordinary income at FMV; the units' basis is that FMV."""
    value = event_value(fold, event)
    fold.result.income.append(
        IncomeItem(
            event.id,
            event.timestamp,
            event.wallet,
            event.asset,
            event.amount,
            value,
            "income",
            event.note or "",
        )
    )
    if not fold.valuer.is_usd(event.asset):
        fold.book.acquire(event.wallet, event.asset, event.amount, value, event.timestamp, event.id)
    side_fee(fold, event)


def on_gift(fold: Fold, event: TaxEvent) -> None:
    """A gift or donation: not a sale; reported apart with basis, dates and FMV."""
    value = event_value(fold, event)
    slices: list[LotSlice] = []
    if not fold.valuer.is_usd(event.asset):
        if event.lots:
            taken, _missing = fold.book.remove_specific(
                event.wallet, event.asset, [(p.acquisition_id, p.quantity) for p in event.lots]
            )
            uncovered = ZERO
        else:
            taken, uncovered = fold.book.remove(
                event.wallet, event.asset, event.amount, fold.method_for(event.timestamp)
            )
        slices = [
            LotSlice(t.lot.acquisition_id, t.quantity, t.basis, t.lot.acquired_at, t.lot.basis_missing)
            for t in taken
        ]
        if uncovered > fold.dust:
            slices.append(LotSlice("", uncovered, ZERO, None, True))
            fold.result.warnings.append(
                f"event {describe(event)}: gives {plain(uncovered)} {event.asset} without known basis"
            )
    fold.result.gifts.append(
        GiftItem(
            event.id,
            event.timestamp,
            event.wallet,
            event.asset,
            event.amount,
            event.kind.value,
            value,
            tuple(slices),
        )
    )
    side_fee(fold, event)


def on_fee(fold: Fold, event: TaxEvent) -> None:
    """A standalone fee: an expense, and a disposal of the units when paid in crypto."""
    value = event_value(fold, event)
    fold.expense(event, "fee", value)
    if not fold.valuer.is_usd(event.asset):
        fold.dispose(event, event.asset, event.amount, value, "fee", use_picks=True)
    side_fee(fold, event)


def on_interest(fold: Fold, event: TaxEvent) -> None:
    """Margin interest: investment interest (or Schedule C); paid in crypto, also a disposal."""
    value = event_value(fold, event)
    fold.expense(event, "interest", value)
    if not fold.valuer.is_usd(event.asset):
        fold.dispose(event, event.asset, event.amount, value, "interest", use_picks=True)
    side_fee(fold, event)


def on_borrow(fold: Fold, event: TaxEvent) -> None:
    """A loan received: not income, and the units are not lots."""
    if not fold.valuer.is_usd(event.asset):
        fold.borrowed[(event.wallet, event.asset)] += event.amount
        if event.position is not None:
            fold.short_positions.add((event.position, event.asset))
    side_fee(fold, event)


def on_repay(fold: Fold, event: TaxEvent) -> None:
    """Coins returned to the lender: close open short sales oldest first, delivering lots."""
    asset = event.asset
    if fold.valuer.is_usd(asset):
        side_fee(fold, event)
        return
    key = (event.wallet, asset)
    remaining = event.amount
    method = fold.method_for(event.timestamp)
    open_shorts = fold.shorts[key]
    # 1. Lots bought after a short sale close it.
    for short in open_shorts:
        if remaining <= 0:
            break
        if short.quantity <= 0:
            continue
        want = min(remaining, short.quantity)
        taken, uncovered = fold.book.remove_after(event.wallet, asset, want, method, short.seq)
        delivered = want - uncovered
        if delivered > 0:
            _close_short(fold, event, short, taken, delivered, ZERO)
            remaining -= delivered
        if uncovered > 0:
            break
    # 2. Borrowed units never sold go back as they are.
    giveback = min(remaining, fold.borrowed[key])
    if giveback > 0:
        fold.borrowed[key] -= giveback
        remaining -= giveback
    # 3. Still owing on open shorts: deliver any lots (short against the box), or missing basis.
    for short in open_shorts:
        if remaining <= fold.dust:
            break
        if short.quantity <= 0:
            continue
        want = min(remaining, short.quantity)
        taken, uncovered = fold.book.remove(event.wallet, asset, want, method)
        fold.result.warnings.append(
            f"event {describe(event)}: closes the short sale {short.event_id} with {asset} held before it "
            "(a short against the box: check §1259 constructive sale and §1092 straddle rules)"
        )
        _close_short(fold, event, short, taken, want, uncovered)
        remaining -= want
    fold.shorts[key] = [s for s in open_shorts if s.quantity > 0]
    if remaining > fold.dust:
        fold.result.warnings.append(
            f"event {describe(event)}: repays {plain(remaining)} {asset} more than was borrowed and sold"
        )
    side_fee(fold, event)


def _close_short(
    fold: Fold,
    event: TaxEvent,
    short: ShortSale,
    taken: list[Taken],
    quantity: Decimal,
    uncovered: Decimal,
) -> None:
    proceeds = short.proceeds if quantity >= short.quantity else short.proceeds * quantity / short.quantity
    short.quantity -= quantity
    short.proceeds -= proceeds
    slices, warnings = fold.slices(event, taken, uncovered, short.asset)
    fixed = Term.SHORT if fold.profile.short_sale_term is ShortSaleTerm.SHORT_TERM else None
    fold.record(
        Disposal(
            disposal_id=f"{event.id}:short:{short.event_id}",
            event_id=event.id,
            kind="short_cover",
            disposed_at=event.timestamp,
            wallet=event.wallet,
            asset=short.asset,
            quantity=quantity,
            proceeds=proceeds,
            slices=tuple(slices),
            term=fixed,
            warnings=(
                f"short sale of {short.sold_at.date().isoformat()} ({short.event_id}) closed",
                *warnings,
            ),
        )
    )


def _pnl(fold: Fold, event: TaxEvent, character: Character, kind: str) -> None:
    """Realized PnL or funding: a capital row (gain: proceeds; loss: basis) or ordinary."""
    value = event.amount if fold.valuer.is_usd(event.asset) else event_value(fold, event)
    signed = value if event.amount >= 0 else -abs(value)
    if character is Character.CAPITAL and signed != 0:
        gain = signed > 0
        opened = event.opened_at if kind == "realized_pnl" else None
        fold.record(
            Disposal(
                disposal_id=event.id,
                event_id=event.id,
                kind=kind,
                disposed_at=event.timestamp,
                wallet=event.wallet,
                asset=event.asset,
                quantity=abs(event.amount),
                proceeds=signed if gain else ZERO,
                slices=(
                    LotSlice(
                        event.position or event.id, abs(event.amount), ZERO if gain else -signed, opened
                    ),
                ),
                term=None if opened is not None else Term.SHORT,
                reported_on_1099da=False,
            )
        )
    elif signed > 0:
        fold.result.income.append(
            IncomeItem(
                event.id,
                event.timestamp,
                event.wallet,
                event.asset,
                event.amount,
                signed,
                kind,
                event.note or "",
            )
        )
    else:
        fold.expense(event, "ordinary_loss", -signed)
    if not fold.valuer.is_usd(event.asset):
        if signed > 0:
            fold.book.acquire(event.wallet, event.asset, event.amount, signed, event.timestamp, event.id)
        elif signed < 0:
            fold.dispose(event, event.asset, -event.amount, -signed, "payment", suffix=":payment")
    side_fee(fold, event)


def on_realized_pnl(fold: Fold, event: TaxEvent) -> None:
    """A margin or derivatives position settled a profit or loss."""
    _pnl(fold, event, fold.profile.realized_pnl, "realized_pnl")


def on_funding(fold: Fold, event: TaxEvent) -> None:
    """A perpetual funding payment, per the profile's ``funding`` treatment."""
    _pnl(fold, event, fold.profile.funding, "funding")


HANDLERS: dict[EventKind, Handler] = {
    EventKind.BUY: on_buy,
    EventKind.SELL: on_sell,
    EventKind.LIQUIDATION: on_sell,
    EventKind.SPEND: on_spend,
    EventKind.DEPOSIT: on_deposit,
    EventKind.WITHDRAWAL: on_withdrawal,
    EventKind.TRANSFER: on_transfer,
    EventKind.INCOME: on_income,
    EventKind.GIFT: on_gift,
    EventKind.DONATION: on_gift,
    EventKind.FEE: on_fee,
    EventKind.INTEREST: on_interest,
    EventKind.BORROW: on_borrow,
    EventKind.REPAY: on_repay,
    EventKind.REALIZED_PNL: on_realized_pnl,
    EventKind.FUNDING: on_funding,
}
