"""Asset facts the venue importers share: which assets are fiat or USD stablecoins, and trade sides.

A two-sided exchange of assets is written as a ``sell`` when what was received is fiat or a
stablecoin (the user sold the other asset for cash), otherwise as a ``buy`` of what was
received. The ledger CSV treats both the same for tax; this choice only keeps reports readable.
"""

from __future__ import annotations

from decimal import Decimal

from marginbook.domain.events import EventKind

FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD"})

#: USD stablecoins, valued at 1 USD by the price look-up unless a price file says otherwise.
USD_STABLECOINS = frozenset({"USDT", "USDC", "DAI", "PYUSD", "TUSD", "BUSD", "USDP", "GUSD", "FDUSD", "USDS"})


def is_cash_like(asset: str) -> bool:
    """True for fiat and USD stablecoins: the "price" side of a trade."""
    return asset in FIAT or asset in USD_STABLECOINS


def split_symbol(symbol: str, quotes: tuple[str, ...]) -> tuple[str, str] | None:
    """Split a venue's pair code without separator (``BTCUSDT``) into (base, quote).

    ``quotes`` is tried in order, so list longer codes first (``USDT`` before ``USD``).
    Returns ``None`` when no quote fits, leaving the caller to report the row.
    """
    text = symbol.strip().upper()
    for separator in ("/", "-", "_"):
        if separator in text:
            base, _, quote = text.partition(separator)
            return (base, quote) if base and quote else None
    for quote in quotes:
        if text.endswith(quote) and len(text) > len(quote):
            return text[: -len(quote)], quote
    return None


def trade_kind_and_sides(
    given: tuple[str, Decimal], received: tuple[str, Decimal]
) -> tuple[EventKind, tuple[str, Decimal], tuple[str, Decimal]]:
    """Orient a two-legged exchange as (kind, (asset, amount), (counter_asset, counter_amount)).

    ``given`` and ``received`` are (asset, positive quantity). Received cash (and given
    non-cash) makes a ``sell`` of what was given; anything else a ``buy`` of what was received.
    """
    if is_cash_like(received[0]) and not is_cash_like(given[0]):
        return EventKind.SELL, given, received
    return EventKind.BUY, received, given
