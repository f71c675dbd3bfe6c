"""The tax effect of each event kind: one handler per kind, in a table keyed by the kind.

Each handler takes the fold's state and one event and books its effect (spec/ledger-csv.md,
"Kinds" and "Semantics"; rules spec 1.2 and 7):

- trades exchange one asset for another at one USD value ``V``: the asset given is disposed
  of for ``V`` and the asset received is acquired for ``V``. A fee is a transaction cost:
  added to the basis when USD was paid, else subtracted from the proceeds of what was given
  (a crypto-for-crypto swap's fee belongs to the disposed asset);
- a fee paid in crypto is also a disposal of the fee units at their fair market value;
- income, transfers, gifts, interest, borrowing, short sales and realized PnL as the spec says.

The handlers live in :mod:`~marginbook.tax.trades`, :mod:`~marginbook.tax.flows` and
:mod:`~marginbook.tax.shorts`; this module is their table.
"""

from __future__ import annotations

from collections.abc import Callable

from marginbook.domain.events import EventKind
from marginbook.tax.engine import Fold
from marginbook.tax.events import TaxEvent
from marginbook.tax.flows import (
    on_deposit,
    on_fee,
    on_funding,
    on_gift,
    on_income,
    on_interest,
    on_realized_pnl,
    on_transfer,
    on_withdrawal,
)
from marginbook.tax.shorts import on_borrow, on_repay
from marginbook.tax.trades import on_buy, on_sell, on_spend

Handler = Callable[[Fold, TaxEvent], None]

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
