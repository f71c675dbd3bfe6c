"""What the Positions page shows for each open margin position beyond its risk figures.

Entry price and the gain a liquidation would realize use the portfolio's cost basis, which is
the tax engine's basis of the open lots in the wallet (:mod:`marginbook.tax.standing`);
interest paid comes from the holdings fold (:mod:`marginbook.app.holdings_fold`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marginbook.app.holdings_fold import FoldResult
from marginbook.app.portfolio import MarginPosition, Portfolio
from marginbook.domain.numbers import decimal_context


@dataclass(frozen=True, slots=True)
class PositionView:
    """An open position with its chart lines.

    Attributes:
        position: the risk figures.
        quantity: units of the risk asset the wallet holds (long) or owes (short).
        entry_price: average cost of the units held (the tax engine's basis of the wallet's
            open lots over the units; long); ``None`` for a short or when the basis is unknown.
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


def position_views(fold: FoldResult, portfolio: Portfolio) -> list[PositionView]:
    """One :class:`PositionView` per open position of ``portfolio`` (valued from ``fold``)."""
    held = {(h.wallet, h.asset): h for h in portfolio.holdings}
    views = []
    with decimal_context():
        for position in portfolio.positions:
            holding = held.get((position.wallet, position.risk_asset))
            interest = fold.interest_by_wallet.get(position.wallet, Decimal(0))
            if position.side == "short" or holding is None or holding.quantity <= 0:
                views.append(PositionView(position, position.borrowed, None, interest, None))
                continue
            basis = holding.cost_basis
            entry = basis / holding.quantity if basis is not None else None
            gain = (
                holding.quantity * position.liquidation_price - basis
                if basis is not None and position.liquidation_price is not None
                else None
            )
            views.append(PositionView(position, holding.quantity, entry, interest, gain))
    return views
