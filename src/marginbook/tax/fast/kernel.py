"""The lot matching of the fast fold, compiled: pools, method orders, transfers, the 2025 switch.

Quantities are scaled integers (one scale per asset, :mod:`marginbook.tax.fast.encode`), so
the matching is exact; basis never enters the kernel (the replay splits it afterwards, in
``Decimal``, for the slices taken). The kernel mirrors :mod:`marginbook.tax.lots` and
:mod:`marginbook.tax.book` step for step: a lot's order key is the method's key with the
lot's creation number last (the ``uid`` of the ``Decimal`` book, which the kernel's lot
index equals because lots are created in the same order); a take pops exhausted lots and
splits the last one; a transfer places each taken part as a new lot with its source's
facts; the switch allocates each universal pool oldest lot first to the wallets in
descending order of units held (ties by wallet name).

Lots are rows of one ``int64`` table (columns ``L_*``); slices (parts taken) rows of another
(``S_*``); both grow by doubling. Each pool is a binary heap of lot numbers.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.typed import List

# Lot table columns.
L_QTY, L_K1, L_K2, L_K3, L_AKEY, L_SEQ, L_MISSING, L_SRC, L_POOL, L_ROOT, L_RANK = range(11)
LOT_COLUMNS = 11
# Slice table columns: the lot, units taken, the lot's units before, the lot placed from
# this part (-1: none), the wallet it was allocated to (the switch; else -1).
S_LOT, S_QTY, S_BEFORE, S_PLACED, S_WALLET = range(5)
SLICE_COLUMNS = 5

#: Kernel status: done, or the 2025 allocation left lots no wallet holds units for.
OK, LEFT_OVER = 0, 1


@numba.njit(cache=True)
def _grow(table: np.ndarray, rows: int) -> np.ndarray:
    if rows < table.shape[0]:
        return table
    bigger = np.empty((table.shape[0] * 2 + 16, table.shape[1]), dtype=np.int64)
    bigger[: table.shape[0]] = table
    return bigger


@numba.njit(cache=True)
def _less(lots: np.ndarray, i: int, j: int) -> bool:
    if lots[i, L_K1] != lots[j, L_K1]:
        return bool(lots[i, L_K1] < lots[j, L_K1])
    if lots[i, L_K2] != lots[j, L_K2]:
        return bool(lots[i, L_K2] < lots[j, L_K2])
    if lots[i, L_K3] != lots[j, L_K3]:
        return bool(lots[i, L_K3] < lots[j, L_K3])
    return i < j


@numba.njit(cache=True)
def _push(heaps, sizes: np.ndarray, pool: int, lot: int, lots: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    heap = heaps[pool]
    n = sizes[pool]
    if n == heap.shape[0]:
        bigger = np.empty(n * 2 + 8, dtype=np.int64)
        bigger[:n] = heap
        heaps[pool] = bigger
        heap = bigger
    heap[n] = lot
    sizes[pool] = n + 1
    while n > 0:
        parent = (n - 1) // 2
        if _less(lots, heap[n], heap[parent]):
            heap[n], heap[parent] = heap[parent], heap[n]
            n = parent
        else:
            break


@numba.njit(cache=True)
def _pop(heaps, sizes: np.ndarray, pool: int, lots: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    heap = heaps[pool]
    n = sizes[pool] - 1
    sizes[pool] = n
    heap[0] = heap[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        best = left
        right = left + 1
        if right < n and _less(lots, heap[right], heap[left]):
            best = right
        if _less(lots, heap[best], heap[i]):
            heap[i], heap[best] = heap[best], heap[i]
            i = best
        else:
            break


@numba.njit(cache=True)
def _set_keys(lots: np.ndarray, lot: int, method: int) -> None:
    akey = lots[lot, L_AKEY]
    seq = lots[lot, L_SEQ]
    rank = lots[lot, L_RANK]
    if method == 0:
        lots[lot, L_K1], lots[lot, L_K2], lots[lot, L_K3] = akey, seq, 0
    elif method == 1:
        lots[lot, L_K1], lots[lot, L_K2], lots[lot, L_K3] = -akey, -seq, 0
    elif method == 2:
        lots[lot, L_K1], lots[lot, L_K2], lots[lot, L_K3] = -rank, akey, seq
    else:
        lots[lot, L_K1], lots[lot, L_K2], lots[lot, L_K3] = rank, akey, seq


@numba.njit(cache=True, nogil=True)  # nogil: the columnar run builds its records meanwhile
def fold_kernel(  # type: ignore[no-untyped-def]
    kind: np.ndarray,
    wallet: np.ndarray,
    wallet2: np.ndarray,
    asset: np.ndarray,
    quantity: np.ndarray,
    key: np.ndarray,
    acquisition: np.ndarray,
    flag: np.ndarray,
    acq_rank: np.ndarray,
    n_wallets: int,
    n_assets: int,
    per_wallet_start: bool,
    method: int,
    wallet_order: np.ndarray,
    asset_order: np.ndarray,
    dust: np.ndarray,
):
    """Run the program's operations.

    Returns:
        ``(status, lots, slices, starts, uncovered)``: the lot table, the slice table, the
        first slice of each operation (``starts[i]:starts[i + 1]``) and each take's units
        not covered by lots.
    """
    n_ops = kind.shape[0]
    n_pools = (n_wallets + 1) * n_assets
    heaps = List()
    for _ in range(n_pools):
        heaps.append(np.empty(8, dtype=np.int64))
    sizes = np.zeros(n_pools, dtype=np.int64)
    holdings = np.zeros((max(n_wallets, 1), max(n_assets, 1)), dtype=np.int64)
    lots = np.empty((1024, LOT_COLUMNS), dtype=np.int64)
    slices = np.empty((1024, SLICE_COLUMNS), dtype=np.int64)
    starts = np.zeros(n_ops + 1, dtype=np.int64)
    uncovered = np.zeros(n_ops, dtype=np.int64)
    n_lots = 0
    n_slices = 0
    seq = 0
    per_wallet = per_wallet_start
    status = OK
    for op in range(n_ops):
        starts[op] = n_slices
        code = kind[op]
        a = asset[op]
        w = wallet[op]
        if code == 0:  # ACQUIRE
            lots = _grow(lots, n_lots)
            pool = w * n_assets + a if per_wallet else n_wallets * n_assets + a
            fact = acquisition[op]
            lots[n_lots, L_QTY] = quantity[op]
            lots[n_lots, L_AKEY] = key[op]
            lots[n_lots, L_SEQ] = seq
            lots[n_lots, L_MISSING] = flag[op]
            lots[n_lots, L_SRC] = -1
            lots[n_lots, L_POOL] = pool
            lots[n_lots, L_ROOT] = fact
            lots[n_lots, L_RANK] = acq_rank[fact]
            _set_keys(lots, n_lots, method)
            seq += 1
            _push(heaps, sizes, pool, n_lots, lots)
            n_lots += 1
            holdings[w, a] += quantity[op]
        elif code == 1 or code == 2:  # TAKE, MOVE
            if a < 0:
                continue
            pool = w * n_assets + a if per_wallet else n_wallets * n_assets + a
            remaining = quantity[op]
            target = wallet2[op] * n_assets + a
            while remaining > 0 and sizes[pool] > 0:
                lot = heaps[pool][0]
                held = lots[lot, L_QTY]
                if held == 0:
                    _pop(heaps, sizes, pool, lots)
                    continue
                taken = held if remaining >= held else remaining
                lots[lot, L_QTY] = held - taken
                remaining -= taken
                slices = _grow(slices, n_slices)
                slices[n_slices, S_LOT] = lot
                slices[n_slices, S_QTY] = taken
                slices[n_slices, S_BEFORE] = held
                slices[n_slices, S_PLACED] = -1
                slices[n_slices, S_WALLET] = -1
                n_slices += 1
                if lots[lot, L_QTY] == 0:
                    _pop(heaps, sizes, pool, lots)
            holdings[w, a] -= quantity[op]
            if code == 2:
                # Placed after the whole take, as ``LotBook.place`` after ``remove``.
                for part in range(starts[op], n_slices):
                    lot = slices[part, S_LOT]
                    lots = _grow(lots, n_lots)
                    for column in range(LOT_COLUMNS):
                        lots[n_lots, column] = lots[lot, column]
                    lots[n_lots, L_QTY] = slices[part, S_QTY]
                    lots[n_lots, L_SRC] = part
                    lots[n_lots, L_POOL] = target
                    slices[part, S_PLACED] = n_lots
                    _push(heaps, sizes, target, n_lots, lots)
                    n_lots += 1
                    holdings[wallet2[op], a] += slices[part, S_QTY]
            uncovered[op] = remaining
            if code == 2 and remaining > dust[a]:
                lots = _grow(lots, n_lots)
                fact = acquisition[op]
                lots[n_lots, L_QTY] = remaining
                lots[n_lots, L_AKEY] = key[op]
                lots[n_lots, L_SEQ] = seq
                lots[n_lots, L_MISSING] = 1
                lots[n_lots, L_SRC] = -1
                lots[n_lots, L_POOL] = target
                lots[n_lots, L_ROOT] = fact
                lots[n_lots, L_RANK] = acq_rank[fact]
                _set_keys(lots, n_lots, method)
                seq += 1
                _push(heaps, sizes, target, n_lots, lots)
                n_lots += 1
                holdings[wallet2[op], a] += remaining
        elif code == 3:  # HOLD
            holdings[w, a] -= quantity[op]
            holdings[wallet2[op], a] += quantity[op]
        else:  # SWITCH
            per_wallet = True
            for index in range(n_assets):
                a = asset_order[index]
                pool = n_wallets * n_assets + a
                n = sizes[pool]
                order = np.sort(heaps[pool][:n])
                order = order[np.argsort(lots[order, L_SEQ], kind="mergesort")]
                order = order[np.argsort(lots[order, L_AKEY], kind="mergesort")]
                holders = np.empty(n_wallets, dtype=np.int64)
                n_holders = 0
                for w2 in range(n_wallets):
                    if holdings[w2, a] > 0:
                        # insertion by (-held, name)
                        j = n_holders
                        while j > 0:
                            prev = holders[j - 1]
                            if holdings[prev, a] < holdings[w2, a] or (
                                holdings[prev, a] == holdings[w2, a] and wallet_order[prev] > wallet_order[w2]
                            ):
                                holders[j] = prev
                                j -= 1
                            else:
                                break
                        holders[j] = w2
                        n_holders += 1
                at = 0
                for h in range(n_holders):
                    w2 = holders[h]
                    need = holdings[w2, a]
                    while need > 0 and at < n:
                        lot = order[at]
                        held = lots[lot, L_QTY]
                        taken = held if need >= held else need
                        lots[lot, L_QTY] = held - taken
                        need -= taken
                        slices = _grow(slices, n_slices)
                        lots = _grow(lots, n_lots)
                        slices[n_slices, S_LOT] = lot
                        slices[n_slices, S_QTY] = taken
                        slices[n_slices, S_BEFORE] = held
                        slices[n_slices, S_PLACED] = n_lots
                        slices[n_slices, S_WALLET] = w2
                        for column in range(LOT_COLUMNS):
                            lots[n_lots, column] = lots[lot, column]
                        lots[n_lots, L_QTY] = taken
                        lots[n_lots, L_SRC] = n_slices
                        lots[n_lots, L_POOL] = w2 * n_assets + a
                        _push(heaps, sizes, w2 * n_assets + a, n_lots, lots)
                        n_lots += 1
                        n_slices += 1
                        if lots[lot, L_QTY] == 0:
                            at += 1
                for rest in range(at, n):
                    if lots[order[rest], L_QTY] > 0:
                        status = LEFT_OVER
                sizes[pool] = 0
    starts[n_ops] = n_slices
    return status, lots[:n_lots], slices[:n_slices], starts, uncovered
