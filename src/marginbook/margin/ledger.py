"""The decimal boundary: the engine's float amounts become exact ledger events here.

The engine computes in floats (the rule functions are numba-compilable float code), and its
state stays in those floats: the very numbers the backtest kernel carries, so the two paths
agree to the last bits rather than to the last rounding. Every amount that leaves it as a
:class:`~marginbook.domain.events.LedgerEvent` is converted here, to a multiple of
:data:`QUANTUM` (``1e-8``, a satoshi and well below a cent), with banker's rounding:

- :func:`to_decimal` rounds one figure on its own (prices, quantities, a loan's principal);
- :class:`Residuals` rounds a movement of a balance *carrying the rounding residual* of the
  movements before it, so the exact balance the events imply (:meth:`EventSink.cash`) never
  strays more than half a unit from the engine's float balance, however many events a run
  emits. (Rounding each amount alone and booking the rounded amount back into the engine
  would also reconcile, but then the engine drifts from the kernel by up to half a unit
  per event.)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from marginbook.domain.events import EventKind, LedgerEvent, Origin
from marginbook.domain.numbers import ZERO, decimal_context

#: Kinds that add their (signed) amount to the wallet.
_CREDITS = frozenset(
    {EventKind.DEPOSIT, EventKind.BORROW, EventKind.INCOME, EventKind.REALIZED_PNL, EventKind.FUNDING}
)

#: Every emitted amount (prices, quantities, cash) is a multiple of this.
QUANTUM = Decimal("0.00000001")


def to_decimal(value: float) -> Decimal:
    """An engine float as an exact decimal, quantized to :data:`QUANTUM` (half-even).

    ``repr`` gives the shortest text that round-trips, so ``0.1`` becomes ``Decimal("0.1")``,
    not the binary expansion. Quantizing runs in the wide context of
    :func:`~marginbook.domain.numbers.decimal_context`: a notional of 10**20 USD has more than
    the default 28 significant digits at 8 places.
    """
    with decimal_context():
        return Decimal(repr(float(value))).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


class Residuals:
    """Rounds the movements of float balances into event amounts, carrying the residual.

    For each asset it keeps ``r = float balance − exact balance of the events``. A movement
    of ``amount`` becomes the event amount ``round(amount ± r)``, which leaves ``|r| ≤ ½``
    unit after it; a movement whose event amount was fixed elsewhere (a loan's principal,
    rounded on its own so that its repayment matches it exactly) only updates ``r``, and the
    next rounded movement absorbs it. So the events reconcile with the engine's balance to
    the smallest unit at every step, and the engine's float state is never rounded.
    """

    def __init__(self) -> None:
        self._residual: dict[str, float] = defaultdict(float)

    def credit(self, asset: str, amount: float, *, signed: bool = False) -> Decimal:
        """The event amount for adding ``amount`` to ``asset``.

        Unless ``signed`` (a realized P&L, a funding payment), the amount is never below
        zero: a residual cannot turn a credit into a debit.
        """
        return self._round(asset, amount, 1, signed)

    def debit(self, asset: str, amount: float) -> Decimal:
        """The event amount (never below zero) for taking ``amount`` from ``asset``."""
        return self._round(asset, amount, -1, False)

    def _round(self, asset: str, amount: float, sign: int, signed: bool) -> Decimal:
        residual = self._residual[asset]
        with decimal_context():
            value = (Decimal(repr(float(amount))) + sign * Decimal(repr(residual))).quantize(
                QUANTUM, rounding=ROUND_HALF_EVEN
            )
        if not signed and value < 0:
            value = ZERO
        self._residual[asset] = residual + sign * (amount - float(value))
        return value

    def fixed(self, asset: str, amount: float, value: Decimal) -> None:
        """Record a movement of ``amount`` (signed, float) booked by an event amount ``value`` (signed)."""
        self._residual[asset] += amount - float(value)

    def residual(self, asset: str) -> float:
        """The float balance minus the events' exact balance, for ``asset``."""
        return self._residual[asset]


class EventSink:
    """Collects a run's ledger events and the exact balance they imply per asset.

    Args:
        run_id: the simulation run id; every event's origin is ``sim:<run_id>``.
        wallet: the wallet every event happens in.
    """

    def __init__(self, run_id: str, wallet: str) -> None:
        self.run_id = run_id
        self.wallet = wallet
        self.events: list[LedgerEvent] = []
        self._balances: dict[str, Decimal] = defaultdict(lambda: ZERO)

    def cash(self, asset: str) -> Decimal:
        """The exact balance of ``asset`` implied by the events emitted so far."""
        return self._balances[asset]

    def balances(self) -> dict[str, Decimal]:
        """Every asset's exact balance implied by the events (zero balances included)."""
        return dict(self._balances)

    def emit(
        self,
        kind: EventKind,
        at: datetime,
        asset: str,
        amount: Decimal,
        *,
        counter_asset: str | None = None,
        counter_amount: Decimal | None = None,
        fee_asset: str | None = None,
        fee_amount: Decimal | None = None,
        position: str | None = None,
        opened_at: datetime | None = None,
        note: str | None = None,
    ) -> LedgerEvent:
        """Append one event and book its effect on the balances.

        The effect follows the ledger CSV's semantics: a ``buy`` adds ``amount`` and takes
        ``counter_amount``; a ``sell`` or ``liquidation`` the reverse; ``deposit``, ``borrow``
        add; ``repay``, ``interest``, ``fee``, ``withdrawal`` take; ``realized_pnl`` and
        ``funding`` add their signed amount; a fee is always a further debit.
        """
        sequence = len(self.events)
        event = LedgerEvent(
            id=f"sim-{self.run_id}-{sequence:07d}",
            timestamp=at,
            kind=kind,
            wallet=self.wallet,
            asset=asset,
            amount=amount,
            counter_asset=counter_asset,
            counter_amount=counter_amount,
            fee_asset=fee_asset,
            fee_amount=fee_amount,
            position=position,
            opened_at=opened_at,
            note=note,
            origin=Origin(source=f"sim:{self.run_id}", ref=str(sequence)),
        )
        self.events.append(event)
        self._book(event)
        return event

    def _book(self, event: LedgerEvent) -> None:
        balances = self._balances
        kind = event.kind
        counter_asset = event.counter_asset or ""
        counter_amount = event.counter_amount if event.counter_amount is not None else ZERO
        if kind is EventKind.BUY:
            balances[event.asset] += event.amount
            balances[counter_asset] -= counter_amount
        elif kind in (EventKind.SELL, EventKind.LIQUIDATION):
            balances[event.asset] -= event.amount
            balances[counter_asset] += counter_amount
        elif kind in _CREDITS:
            balances[event.asset] += event.amount
        else:  # repay, interest, fee, withdrawal, spend ...
            balances[event.asset] -= event.amount
        if event.fee_asset is not None and event.fee_amount is not None:
            balances[event.fee_asset] -= event.fee_amount
