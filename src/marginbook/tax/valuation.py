"""Fair market value in USD, from the price source with the rules of the ledger spec.

USD is worth 1; stablecoins are worth 1 unless the price source knows better; anything else
must have a price, and a missing price is an error naming the event, never a zero.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from marginbook.domain.prices import MissingPriceError, PriceSource
from marginbook.tax.events import TaxEvent

ONE = Decimal(1)


class Valuer:
    """USD prices for the engine.

    Args:
        prices: the price source, or ``None`` when the ledger carries every value it needs.
        stablecoins: assets worth 1 USD unless ``prices`` says otherwise.
    """

    def __init__(self, prices: PriceSource | None, stablecoins: frozenset[str]) -> None:
        self._prices = prices
        self._stablecoins = stablecoins

    def is_usd(self, asset: str) -> bool:
        """True for US dollars, which have no lots."""
        return asset == "USD"

    def price(self, asset: str, at: datetime, event: TaxEvent) -> Decimal:
        """The USD price of one unit of ``asset`` at ``at``.

        Raises:
            MissingPriceError: no price is known; the message names ``event``.
        """
        if asset == "USD":
            return ONE
        if self._prices is not None:
            try:
                return self._prices.usd_price(asset, at)
            except MissingPriceError:
                if asset in self._stablecoins:
                    return ONE
                raise MissingPriceError(asset, at, f"needed by event {describe(event)}") from None
        if asset in self._stablecoins:
            return ONE
        raise MissingPriceError(
            asset, at, f"needed by event {describe(event)}; give usd_value or a price source"
        )


def describe(event: TaxEvent) -> str:
    """``id (file:row)`` of an event, for messages a user can act on."""
    origin = event.origin
    if origin.source:
        where = f"{origin.source}:{origin.row}" if origin.row is not None else origin.source
        return f"{event.id} ({where})"
    return event.id
