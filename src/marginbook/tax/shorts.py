"""Borrowing and short sales (spec/ledger-csv.md "Short sales").

Borrowed units are not lots. Selling them opens a short sale whose proceeds wait; a later
``repay`` delivers lots acquired after the short sale and closes the open shorts oldest
first, realizing proceeds - basis of the delivered lots on the repay date.
"""

from __future__ import annotations

from decimal import Decimal

from marginbook.domain.numbers import ZERO, plain
from marginbook.tax.engine import Fold, ShortSale
from marginbook.tax.events import TaxEvent
from marginbook.tax.holding import Term
from marginbook.tax.lots import BASIS_QUANTUM, Taken
from marginbook.tax.profile import ShortSaleTerm
from marginbook.tax.records import Disposal
from marginbook.tax.trades import side_fee
from marginbook.tax.valuation import describe


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
    proceeds = (
        short.proceeds
        if quantity >= short.quantity
        else (short.proceeds * quantity / short.quantity).quantize(BASIS_QUANTUM)
    )
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
