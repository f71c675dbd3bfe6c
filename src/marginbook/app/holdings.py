"""Balances per wallet and asset: a fold over the ledger's events.

This is the simple quantity view ("what is in each wallet now"), not cost basis: the tax
engine tracks lots and basis separately. The rules follow the ledger CSV's semantics:
``amount`` and ``counter_amount`` are before fees, and a fee is a separate debit of
``fee_amount`` ``fee_asset`` from the event's wallet (for a transfer, the sending wallet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from marginbook.domain.events import EventKind, LedgerEvent
from marginbook.domain.numbers import ZERO, decimal_context

#: Kinds that bring ``amount`` into the wallet.
_CREDITS = frozenset({EventKind.DEPOSIT, EventKind.INCOME, EventKind.BORROW})
#: Kinds that take ``amount`` out of the wallet.
_DEBITS = frozenset({
    EventKind.WITHDRAWAL, EventKind.SPEND, EventKind.GIFT, EventKind.DONATION, EventKind.FEE,
    EventKind.REPAY, EventKind.INTEREST,
})
#: Kinds whose signed ``amount`` is the money received (+) or paid (−).
_SIGNED = frozenset({EventKind.REALIZED_PNL, EventKind.FUNDING})


@dataclass(frozen=True, slots=True)
class Holding:
    """What one wallet holds of one asset.

    Attributes:
        wallet: the wallet.
        asset: the asset.
        balance: units in the wallet, borrowed units included (what the venue shows).
        borrowed: units owed to the lender: margin loans received minus repaid.
    """

    wallet: str
    asset: str
    balance: Decimal
    borrowed: Decimal

    @property
    def net(self) -> Decimal:
        """Units the owner would keep after repaying the loans: ``balance - borrowed``."""
        return self.balance - self.borrowed


class Balances:
    """Running balances; :meth:`apply` one event at a time, in ledger order."""

    def __init__(self) -> None:
        self._balance: dict[tuple[str, str], Decimal] = {}
        self._borrowed: dict[tuple[str, str], Decimal] = {}

    def _move(self, wallet: str, asset: str, amount: Decimal) -> None:
        key = (wallet, asset)
        with decimal_context():
            self._balance[key] = self._balance.get(key, ZERO) + amount

    def _owe(self, wallet: str, asset: str, amount: Decimal) -> None:
        key = (wallet, asset)
        with decimal_context():
            self._borrowed[key] = self._borrowed.get(key, ZERO) + amount

    def apply(self, event: LedgerEvent) -> None:
        """Change the balances as ``event`` says."""
        kind, wallet, asset, amount = event.kind, event.wallet, event.asset, event.amount
        if kind is EventKind.BUY:
            self._move(wallet, asset, amount)
            self._move(wallet, event.counter_asset or "", -(event.counter_amount or ZERO))
        elif kind in (EventKind.SELL, EventKind.LIQUIDATION):
            self._move(wallet, asset, -amount)
            self._move(wallet, event.counter_asset or "", event.counter_amount or ZERO)
        elif kind is EventKind.TRANSFER:
            self._move(wallet, asset, -amount)
            self._move(event.to_wallet or "", asset, amount)
        elif kind in _CREDITS:
            self._move(wallet, asset, amount)
        elif kind in _DEBITS:
            self._move(wallet, asset, -amount)
        elif kind in _SIGNED:
            self._move(wallet, asset, amount)
        else:  # pragma: no cover - every kind is handled above
            raise AssertionError(f"no balance rule for {kind}")
        if kind is EventKind.BORROW:
            self._owe(wallet, asset, amount)
        elif kind is EventKind.REPAY:
            self._owe(wallet, asset, -amount)
        if event.fee_asset is not None and event.fee_amount:
            self._move(wallet, event.fee_asset, -event.fee_amount)

    def holdings(self) -> list[Holding]:
        """Every (wallet, asset) with a non-zero balance or loan, sorted by wallet then asset."""
        keys = sorted(set(self._balance) | set(self._borrowed))
        found = [
            Holding(wallet, asset, self._balance.get((wallet, asset), ZERO),
                    self._borrowed.get((wallet, asset), ZERO))
            for wallet, asset in keys
        ]
        return [h for h in found if h.balance != 0 or h.borrowed != 0]


def fold_holdings(events: Iterable[LedgerEvent]) -> list[Holding]:
    """The holdings after ``events`` (in ledger order), one per wallet and asset."""
    balances = Balances()
    for event in events:
        balances.apply(event)
    return balances.holdings()
