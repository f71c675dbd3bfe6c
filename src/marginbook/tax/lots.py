"""Lots and pools: the open acquisitions a disposal can draw on.

A :class:`Lot` is the remaining part of one acquisition in one pool. Its remaining basis is
kept exactly: taking ``q`` of ``Q`` units takes ``basis * q / Q`` and leaves the rest by
subtraction, and the last unit takes whatever basis is left, so acquired = disposed + held
to the smallest unit and no basis is created or lost by splitting.

A :class:`Pool` holds the open lots of one ``(wallet, asset)`` (or one asset, in universal
scope) and hands them out in the order of a :class:`~marginbook.tax.methods.Method`. Each
method's order is a heap built the first time the method is used in the pool and kept up
to date after, with exhausted lots dropped lazily; a disposal costs O(log n).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from marginbook.domain.numbers import ZERO
from marginbook.tax.methods import ORDERINGS, Method


@dataclass(slots=True, eq=False)
class Lot:
    """The open remainder of one acquisition in one pool (mutable state of the fold).

    Attributes:
        acquisition_id: id of the event that acquired the units (what ``lots`` names).
        asset: the asset.
        acquired_at: the original acquisition time (travels with transferred units).
        acquired_key: ``acquired_at`` as integer microseconds, for fast ordering.
        seq: the acquisition's place in processing order (kept by transferred parts).
        uid: unique per lot object, the last tie-breaker of every ordering.
        quantity: units still open.
        basis: their remaining basis in USD (exact).
        unit_cost: basis per unit at acquisition (constant under splits), for HIFO/LOFO.
        basis_missing: the units came without a known basis (a deposit without
            ``cost_basis_usd``, or a transfer of more than the sender held).
    """

    acquisition_id: str
    asset: str
    acquired_at: datetime
    acquired_key: int
    seq: int
    uid: int
    quantity: Decimal
    basis: Decimal
    unit_cost: Decimal
    basis_missing: bool = False


class Taken(NamedTuple):
    """Units taken from a lot: the lot (for its acquisition facts), how many, their basis."""

    lot: Lot
    quantity: Decimal
    basis: Decimal


def consume(lot: Lot, quantity: Decimal) -> Taken:
    """Take ``quantity`` (at most the lot's) from ``lot``; the basis follows pro rata by units."""
    if quantity >= lot.quantity:
        taken = Taken(lot, lot.quantity, lot.basis)
        lot.quantity = ZERO
        lot.basis = ZERO
        return taken
    basis = lot.basis * quantity / lot.quantity
    lot.quantity -= quantity
    lot.basis -= basis
    return Taken(lot, quantity, basis)


class Pool:
    """The open lots of one pool, served in the order of any lot method."""

    __slots__ = ("_heaps", "lots", "quantity")

    def __init__(self) -> None:
        self.lots: dict[int, Lot] = {}
        self.quantity: Decimal = ZERO
        self._heaps: dict[Method, list[tuple[Any, ...]]] = {}

    def add(self, lot: Lot) -> None:
        """Put an open lot into the pool."""
        self.lots[lot.uid] = lot
        self.quantity += lot.quantity
        for method, heap in self._heaps.items():
            heapq.heappush(heap, (*ORDERINGS[method](lot), lot.uid, lot))

    def _heap(self, method: Method) -> list[tuple[Any, ...]]:
        heap = self._heaps.get(method)
        if heap is None:
            key = ORDERINGS[method]
            heap = [(*key(lot), lot.uid, lot) for lot in self.lots.values()]
            heapq.heapify(heap)
            self._heaps[method] = heap
        return heap

    def _taken(self, taken: Taken) -> None:
        self.quantity -= taken.quantity
        if taken.lot.quantity == 0:
            self.lots.pop(taken.lot.uid, None)

    def take(self, quantity: Decimal, method: Method) -> tuple[list[Taken], Decimal]:
        """Take up to ``quantity`` units in ``method`` order.

        Returns:
            The lots taken and the quantity that could not be covered (0 when enough).
        """
        heap = self._heap(method)
        result: list[Taken] = []
        remaining = quantity
        while remaining > 0 and heap:
            lot = heap[0][-1]
            if lot.quantity == 0:
                heapq.heappop(heap)
                continue
            taken = consume(lot, remaining)
            remaining -= taken.quantity
            self._taken(taken)
            result.append(taken)
            if lot.quantity == 0:
                heapq.heappop(heap)
        return result, remaining

    def take_where(
        self, quantity: Decimal, method: Method, accept: Callable[[Lot], bool]
    ) -> tuple[list[Taken], Decimal]:
        """Like :meth:`take`, from the lots ``accept`` admits only (used rarely: short covers)."""
        candidates = sorted((lot for lot in self.lots.values() if accept(lot)), key=_sort_key(method))
        result: list[Taken] = []
        remaining = quantity
        for lot in candidates:
            if remaining <= 0:
                break
            taken = consume(lot, remaining)
            remaining -= taken.quantity
            self._taken(taken)
            result.append(taken)
        return result, remaining

    def take_lot(self, acquisition_id: str, quantity: Decimal) -> tuple[list[Taken], Decimal]:
        """Take ``quantity`` units of the acquisition ``acquisition_id`` (specific identification).

        Several open lots may share an acquisition id (parts transferred back and forth);
        they are used oldest part first.

        Returns:
            The lots taken and the quantity the acquisition could not cover.
        """
        parts = sorted(
            (lot for lot in self.lots.values() if lot.acquisition_id == acquisition_id),
            key=lambda lot: lot.uid,
        )
        result: list[Taken] = []
        remaining = quantity
        for lot in parts:
            if remaining <= 0:
                break
            taken = consume(lot, remaining)
            remaining -= taken.quantity
            self._taken(taken)
            result.append(taken)
        return result, remaining

    def open_lots(self) -> list[Lot]:
        """The open lots, oldest acquisition first."""
        return sorted(self.lots.values(), key=lambda lot: (lot.acquired_key, lot.seq, lot.uid))

    def has_acquisition(self, acquisition_id: str) -> bool:
        """Whether an open lot of acquisition ``acquisition_id`` is in the pool."""
        return any(lot.acquisition_id == acquisition_id for lot in self.lots.values())


def _sort_key(method: Method) -> Callable[[Lot], tuple[Any, ...]]:
    key = ORDERINGS[method]
    return lambda lot: (*key(lot), lot.uid)


def total_quantity(lots: Iterable[Taken]) -> Decimal:
    """The units of several takes."""
    return sum((t.quantity for t in lots), ZERO)
