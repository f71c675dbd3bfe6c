"""The tax effect of the other flows: deposits, withdrawals, transfers, income, gifts, fees,
interest, realized PnL and funding (spec/ledger-csv.md "Kinds")."""

from __future__ import annotations

from decimal import Decimal

from marginbook.domain.numbers import ZERO, plain
from marginbook.tax.engine import Fold, MissingBasisError
from marginbook.tax.events import TaxEvent
from marginbook.tax.holding import Term
from marginbook.tax.profile import Character, TransferFeeTreatment
from marginbook.tax.records import Disposal, GiftItem, IncomeItem, LotSlice
from marginbook.tax.trades import event_value, side_fee
from marginbook.tax.valuation import describe


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


def pnl_disposal(event: TaxEvent, kind: str, signed: Decimal) -> Disposal:
    """The capital row of settled P&L (``signed`` USD, + gain): a gain is proceeds with zero
    basis, a loss zero proceeds with the loss as basis. It uses no lots: its term comes from
    ``opened_at`` (realized PnL) or is short (funding), and no broker reports it on a 1099-DA."""
    gain = signed > 0
    opened = event.opened_at if kind == "realized_pnl" else None
    return Disposal(
        disposal_id=event.id,
        event_id=event.id,
        kind=kind,
        disposed_at=event.timestamp,
        wallet=event.wallet,
        asset=event.asset,
        quantity=abs(event.amount),
        proceeds=signed if gain else ZERO,
        slices=(LotSlice(event.position or event.id, abs(event.amount), ZERO if gain else -signed, opened),),
        term=None if opened is not None else Term.SHORT,
        reported_on_1099da=False,
    )


def _pnl(fold: Fold, event: TaxEvent, character: Character, kind: str) -> None:
    """Realized PnL or funding: a capital row (gain: proceeds; loss: basis) or ordinary."""
    value = event.amount if fold.valuer.is_usd(event.asset) else event_value(fold, event)
    signed = value if event.amount >= 0 else -abs(value)
    if character is Character.CAPITAL and signed != 0:
        fold.record(pnl_disposal(event, kind, signed))
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
