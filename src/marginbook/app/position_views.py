"""What the Positions page shows for each open margin position beyond its risk figures.

Entry price, interest paid, and the gain a liquidation would realize are read from the same
per-wallet FIFO estimate as the portfolio (:mod:`marginbook.app.holdings_fold`); the tax
engine's figure for a planned trade is the ``risk`` calculator's ``tax_if_liquidated``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marginbook.app.holdings_fold import FoldResult
from marginbook.app.portfolio import MarginPosition
from marginbook.domain.numbers import decimal_context


@dataclass(frozen=True, slots=True)
class PositionView:
    """An open position with its chart lines.

    Attributes:
        position: the risk figures.
        quantity: units of the risk asset the wallet holds (long) or owes (short).
        entry_price: average FIFO cost of the units held (long); ``None`` for a short or
            when a lot's basis is unknown.
        interest_paid: margin interest the wallet has paid so far, USD where priced.
        liquidation_gain: for a long, proceeds at the liquidation price minus the basis of
            the units held: the capital gain (or loss, negative) a liquidation would realize.
    """

    position: MarginPosition
    quantity: Decimal
    entry_price: Decimal | None
    interest_paid: Decimal
    liquidation_gain: Decimal | None

    @property
    def lines(self) -> dict[str, float]:
        """The price levels to draw: entry, margin call, liquidation (those known)."""
        levels = {
            "entry": self.entry_price,
            "margin call": self.position.margin_call_price,
            "liquidation": self.position.liquidation_price,
        }
        return {label: float(value) for label, value in levels.items() if value is not None}


def position_views(fold: FoldResult, positions: tuple[MarginPosition, ...]) -> list[PositionView]:
    """One :class:`PositionView` per open position."""
    views = []
    with decimal_context():
        for position in positions:
            state = fold.balances.get((position.wallet, position.risk_asset))
            interest = fold.interest_by_wallet.get(position.wallet, Decimal(0))
            if position.side == "short" or state is None or state.quantity <= 0:
                views.append(PositionView(position, position.borrowed, None, interest, None))
                continue
            basis = state.cost_basis
            entry = basis / state.quantity if basis is not None else None
            gain = (
                state.quantity * position.liquidation_price - basis
                if basis is not None and position.liquidation_price is not None
                else None
            )
            views.append(PositionView(position, state.quantity, entry, interest, gain))
    return views
