"""The lot book: pools per scope, each wallet's units, and the 2025 switch to wallet pools.

In ``universal`` scope there is one pool per asset; in ``wallet`` scope one per
``(wallet, asset)``; ``transition`` starts universal and switches to wallet pools at
2025-01-01 00:00 UTC (:meth:`LotBook.switch_to_wallets`), when the remaining lots are
allocated to the wallets that hold units (Rev. Proc. 2024-28).

Whatever the scope, the book also counts the units each wallet holds (``holdings``), because
the allocation and the short-sale rule ("a sell beyond the wallet's own units") need them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from marginbook.domain.numbers import ZERO
from marginbook.tax.lots import Lot, Pool, Taken, consume
from marginbook.tax.methods import Method

#: The first instant of per-wallet lot identification (T.D. 10000).
WALLET_RULES_START = datetime(2025, 1, 1, tzinfo=UTC)

UNIVERSAL = ""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Scope(StrEnum):
    """Which lots a disposal may use (``--scope``)."""

    UNIVERSAL = "universal"
    WALLET = "wallet"
    TRANSITION = "transition"


def time_key(moment: datetime) -> int:
    """An instant as integer microseconds since 1970, for fast ordering of lots."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class AllocationRow:
    """One line of the Rev. Proc. 2024-28 allocation used at 2025-01-01.

    Attributes:
        asset, wallet: the pool the units went to.
        acquisition_id: the acquisition whose unused basis was allocated.
        quantity: units allocated.
        cost_basis: their basis (exact).
        acquired_at: the acquisition time.
        rule: ``file`` (an imported allocation) or ``global`` (the default global rule).
    """

    asset: str
    wallet: str
    acquisition_id: str
    quantity: Decimal
    cost_basis: Decimal
    acquired_at: datetime
    rule: str


@dataclass(frozen=True, slots=True)
class AllocationRequest:
    """One line of an allocation file (``asset,wallet,acquisition_id,quantity``) and where it is."""

    asset: str
    wallet: str
    acquisition_id: str
    quantity: Decimal
    source: str
    row: int


class LotBook:
    """Pools of open lots and the units each wallet holds.

    Args:
        per_wallet: start with one pool per ``(wallet, asset)`` (else one per asset).
    """

    def __init__(self, per_wallet: bool) -> None:
        self.per_wallet = per_wallet
        self.pools: dict[tuple[str, str], Pool] = {}
        self.holdings: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self._uid = itertools.count()
        self._seq = itertools.count()

    def next_seq(self) -> int:
        """A fresh place in acquisition order (also marks short sales, to find later lots)."""
        return next(self._seq)

    def pool(self, wallet: str, asset: str) -> Pool:
        """The pool a disposal of ``asset`` from ``wallet`` draws on (created when new)."""
        key = (wallet if self.per_wallet else UNIVERSAL, asset)
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = Pool()
        return pool

    def acquire(
        self,
        wallet: str,
        asset: str,
        quantity: Decimal,
        basis: Decimal,
        acquired_at: datetime,
        acquisition_id: str,
        *,
        basis_missing: bool = False,
    ) -> Lot:
        """Open a new lot in ``wallet`` (its units count as held there)."""
        lot = Lot(
            acquisition_id=acquisition_id,
            asset=asset,
            acquired_at=acquired_at,
            acquired_key=time_key(acquired_at),
            seq=next(self._seq),
            uid=next(self._uid),
            quantity=quantity,
            basis=basis,
            unit_cost=basis / quantity,
            basis_missing=basis_missing,
        )
        self.pool(wallet, asset).add(lot)
        self.holdings[(wallet, asset)] += quantity
        return lot

    def remove(
        self, wallet: str, asset: str, quantity: Decimal, method: Method
    ) -> tuple[list[Taken], Decimal]:
        """Take ``quantity`` units out of ``wallet`` by ``method``; returns (taken, uncovered)."""
        taken, uncovered = self.pool(wallet, asset).take(quantity, method)
        self.holdings[(wallet, asset)] -= quantity
        return taken, uncovered

    def remove_after(
        self, wallet: str, asset: str, quantity: Decimal, method: Method, after_seq: int
    ) -> tuple[list[Taken], Decimal]:
        """Take up to ``quantity`` units acquired after ``after_seq`` (short covers)."""
        taken, uncovered = self.pool(wallet, asset).take_where(
            quantity, method, lambda lot: lot.seq > after_seq
        )
        self.holdings[(wallet, asset)] -= quantity - uncovered
        return taken, uncovered

    def remove_specific(
        self, wallet: str, asset: str, picks: Iterable[tuple[str, Decimal]]
    ) -> tuple[list[Taken], list[tuple[str, Decimal]]]:
        """Take the named acquisitions' units; returns (taken, [(id, uncovered quantity)])."""
        pool = self.pool(wallet, asset)
        taken: list[Taken] = []
        short: list[tuple[str, Decimal]] = []
        for acquisition_id, quantity in picks:
            got, uncovered = pool.take_lot(acquisition_id, quantity)
            taken.extend(got)
            self.holdings[(wallet, asset)] -= quantity
            if uncovered > 0:
                short.append((acquisition_id, uncovered))
        return taken, short

    def place(self, wallet: str, taken: Iterable[Taken], *, count_holdings: bool = True) -> list[Lot]:
        """Put taken units into ``wallet`` with their acquisition facts (a transfer's arrival)."""
        placed = []
        for part in taken:
            source = part.lot
            lot = Lot(
                acquisition_id=source.acquisition_id,
                asset=source.asset,
                acquired_at=source.acquired_at,
                acquired_key=source.acquired_key,
                seq=source.seq,
                uid=next(self._uid),
                quantity=part.quantity,
                basis=part.basis,
                unit_cost=source.unit_cost,
                basis_missing=source.basis_missing,
            )
            self.pool(wallet, source.asset).add(lot)
            if count_holdings:
                self.holdings[(wallet, source.asset)] += part.quantity
            placed.append(lot)
        return placed

    def open_lots(self) -> Iterator[tuple[str, Lot]]:
        """Every open lot with its pool's wallet (``""`` for a universal pool)."""
        for (wallet, _asset), pool in sorted(self.pools.items()):
            for lot in pool.open_lots():
                yield wallet, lot

    # --- the 2025 switch -----------------------------------------------------------------

    def switch_to_wallets(
        self, requests: Sequence[AllocationRequest] | None
    ) -> tuple[list[AllocationRow], list[str]]:
        """Allocate every universal pool's lots to the wallets holding the asset.

        Assets named in ``requests`` (an allocation file, already checked by
        :func:`marginbook.tax.allocation.validate`) are allocated as the file says; the others
        by the default global rule: wallets in descending order of units held (ties by
        wallet name), each taking the remaining lots oldest first, splitting the last one.

        Returns:
            The allocation used, and warnings (lots that no wallet holds units for).
        """
        by_asset: defaultdict[str, list[AllocationRequest]] = defaultdict(list)
        for request in requests or ():
            by_asset[request.asset].append(request)
        universal = {asset: pool for (_w, asset), pool in self.pools.items()}
        self.pools = {}
        self.per_wallet = True
        rows: list[AllocationRow] = []
        warnings: list[str] = []
        for asset in sorted(universal):
            pool = universal[asset]
            if asset in by_asset:
                rows.extend(self._allocate_from_file(pool, by_asset[asset]))
            else:
                rows.extend(self._allocate_globally(asset, pool))
            left = sum((lot.quantity for lot in pool.lots.values()), ZERO)
            if left > 0:
                warnings.append(
                    f"2025-01-01 allocation: {left} {asset} of lots matched no wallet's units "
                    "(the wallets hold fewer units than the lots); that basis was dropped"
                )
        return rows, warnings

    def _allocate_globally(self, asset: str, pool: Pool) -> list[AllocationRow]:
        holders = sorted(
            ((wallet, held) for (wallet, a), held in self.holdings.items() if a == asset and held > 0),
            key=lambda item: (-item[1], item[0]),
        )
        rows: list[AllocationRow] = []
        lots = pool.open_lots()
        index = 0
        for wallet, held in holders:
            need = held
            while need > 0 and index < len(lots):
                lot = lots[index]
                part = consume(lot, need)
                need -= part.quantity
                if lot.quantity == 0:
                    index += 1
                rows.append(self._allocated(wallet, part, "global"))
        pool.lots = {lot.uid: lot for lot in lots[index:] if lot.quantity > 0}
        return rows

    def _allocate_from_file(self, pool: Pool, requests: list[AllocationRequest]) -> list[AllocationRow]:
        rows: list[AllocationRow] = []
        for request in requests:
            taken, _uncovered = pool.take_lot(request.acquisition_id, request.quantity)
            for part in taken:
                rows.append(self._allocated(request.wallet, part, "file"))
        return rows

    def _allocated(self, wallet: str, part: Taken, rule: str) -> AllocationRow:
        self.place(wallet, [part], count_holdings=False)
        lot = part.lot
        return AllocationRow(
            lot.asset, wallet, lot.acquisition_id, part.quantity, part.basis, lot.acquired_at, rule
        )
