"""The fair-market-value contract between the tax engine and the price data.

The tax engine asks a :class:`PriceSource` for USD prices; ``marginbook.market`` implements
it from bundled data, user price files or an exchange. A missing price is an error that names
the asset and the time, never a zero.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from marginbook.domain.errors import MarginbookError


class MissingPriceError(MarginbookError):
    """No USD price is known for ``asset`` at ``at``."""

    def __init__(self, asset: str, at: datetime, detail: str = "") -> None:
        self.asset = asset
        self.at = at
        message = f"no USD price for {asset} at {at.isoformat()}"
        super().__init__(f"{message}: {detail}" if detail else message)


class PriceSource(Protocol):
    """Anything that answers "what was one unit of ``asset`` worth in USD at ``at``?"."""

    def usd_price(self, asset: str, at: datetime) -> Decimal:
        """The USD price of one unit of ``asset`` at ``at`` (timezone-aware).

        Raises:
            MissingPriceError: when no price covers that asset and time.
        """
        ...
