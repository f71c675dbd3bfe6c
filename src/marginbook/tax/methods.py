"""Lot-selection methods: which open lots a disposal uses.

Each method is an ordering of a pool's open lots, and a disposal takes lots from the front
of that order. The orderings are small functions in a table keyed by :class:`Method` (the
shape of beancount's ``_BOOKING_METHODS``), so a method is swapped by changing a key.

Every key ends with the lot's original acquisition time and its creation sequence, so ties
break the same way every run and FIFO follows the *original* acquisition date even for
units that arrived in the wallet later (§1.1012-1(j)).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marginbook.tax.lots import Lot


class Method(StrEnum):
    """The lot methods; all but FIFO are specific identification by standing order from 2025."""

    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    LOFO = "lofo"


SortKey = tuple[Decimal | int, ...]


def fifo_key(lot: Lot) -> SortKey:
    """Oldest original acquisition first."""
    return (lot.acquired_key, lot.seq)


def lifo_key(lot: Lot) -> SortKey:
    """Newest original acquisition first."""
    return (-lot.acquired_key, -lot.seq)


def hifo_key(lot: Lot) -> SortKey:
    """Highest cost per unit first; ties oldest first."""
    return (-lot.unit_cost, lot.acquired_key, lot.seq)


def lofo_key(lot: Lot) -> SortKey:
    """Lowest cost per unit first; ties oldest first."""
    return (lot.unit_cost, lot.acquired_key, lot.seq)


ORDERINGS: dict[Method, Callable[[Lot], SortKey]] = {
    Method.FIFO: fifo_key,
    Method.LIFO: lifo_key,
    Method.HIFO: hifo_key,
    Method.LOFO: lofo_key,
}
