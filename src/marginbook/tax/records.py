"""What the engine's fold produces: disposals with their lot slices, income, gifts, expenses.

These are exact (unrounded) facts in event order; the form modules round them to the cent
when they become form lines. The two records made once or more per disposal are
``NamedTuple`` s (immutable, and much cheaper to build than frozen dataclasses, which matters
at a million events); the rarer ones are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from marginbook.tax.holding import Term


class LotSlice(NamedTuple):
    """Part of one lot used by a disposal.

    Attributes:
        acquisition_id: the acquiring event's id (``""`` for units with no lot at all).
        quantity: units used.
        basis: their basis in USD (exact; zero when missing and allowed).
        acquired_at: original acquisition time; ``None`` when unknown (then short-term).
        basis_missing: the basis is unknown and was taken as zero.
    """

    acquisition_id: str
    quantity: Decimal
    basis: Decimal
    acquired_at: datetime | None
    basis_missing: bool = False


class Disposal(NamedTuple):
    """One disposal of one asset by one event (a trade, a crypto fee, a short cover ...).

    Attributes:
        disposal_id: unique id: the event id, with ``:fee`` (fee units) or ``:counter`` suffix.
        event_id: the event that caused it.
        kind: what it was (``sell``, ``buy`` for paying with crypto, ``fee``, ``interest``,
            ``spend``, ``liquidation``, ``short_cover``, ``realized_pnl``, ``funding`` ...).
        disposed_at: when (the ``repay`` time for a short sale).
        wallet: the wallet, which decides the 8949 box from 2025.
        asset: the asset disposed of.
        quantity: units.
        proceeds: amount realized in USD, net of transaction costs (exact).
        slices: the lots used, their quantities summing to ``quantity``.
        term: a fixed term (realized PnL, ``short_term`` short sales), else by each slice.
        reported_on_1099da: ``False`` for rows a broker never reports (realized PnL).
        warnings: problems to print on the row.
    """

    disposal_id: str
    event_id: str
    kind: str
    disposed_at: datetime
    wallet: str
    asset: str
    quantity: Decimal
    proceeds: Decimal
    slices: tuple[LotSlice, ...]
    term: Term | None = None
    reported_on_1099da: bool = True
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IncomeItem:
    """Ordinary income received in crypto (or funding under the ordinary treatment).

    Attributes:
        event_id, received_at, wallet, asset, quantity: the receipt.
        usd_value: fair market value (exact), which is also the basis of the units.
        kind: the event kind (``income``, ``funding``, ``realized_pnl``).
        note: the event's note.
    """

    event_id: str
    received_at: datetime
    wallet: str
    asset: str
    quantity: Decimal
    usd_value: Decimal
    kind: str
    note: str


@dataclass(frozen=True, slots=True)
class GiftItem:
    """A gift or donation: not a sale, reported apart with its basis and FMV.

    Attributes:
        event_id, given_at, wallet, asset, quantity: what was given.
        kind: ``gift`` or ``donation``.
        fair_market_value: FMV at the gift (exact).
        slices: the lots given (basis and acquisition dates, for the recipient / Form 8283).
    """

    event_id: str
    given_at: datetime
    wallet: str
    asset: str
    quantity: Decimal
    kind: str
    fair_market_value: Decimal
    slices: tuple[LotSlice, ...]


@dataclass(frozen=True, slots=True)
class Expense:
    """Interest or a fee paid, in USD at the time paid.

    Attributes:
        event_id, paid_at, wallet: the payment.
        category: ``interest`` (investment interest / Schedule C interest), ``fee`` (a
            standalone or network fee), or ``ordinary_loss`` (funding or PnL paid under the
            ordinary treatment).
        usd_amount: the amount (exact, positive).
    """

    event_id: str
    paid_at: datetime
    wallet: str
    category: str
    usd_amount: Decimal
