# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The lot matching loop of the fast fold, compiled ahead of time (what it does, the table
layout and why Cython rather than numba: :mod:`marginbook.tax.fast.kernel`).

The tables and heaps are C memory (``malloc``/``realloc``) so the whole loop runs without
the interpreter lock: the columnar run starts the kernel in a thread and builds its records
meanwhile. The tables are copied into numpy arrays at the end, under the lock; every C
buffer is freed on every path. The column numbers below are the ``cdef enum`` twins of the
Python constants of :mod:`marginbook.tax.fast.kernel`; :data:`LAYOUT` exports them so a
test holds the two equal.
"""

from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc, qsort, realloc
from libc.string cimport memcpy

import numpy as np

# Lot table columns.
cdef enum:
    L_QTY, L_K1, L_K2, L_K3, L_AKEY, L_SEQ, L_MISSING, L_SRC, L_POOL, L_ROOT, L_RANK
    LOT_COLUMNS = 11
# Slice table columns: the lot, units taken, the lot's units before, the lot placed from
# this part (-1: none), the wallet it was allocated to (the switch; else -1).
cdef enum:
    S_LOT, S_QTY, S_BEFORE, S_PLACED, S_WALLET
    SLICE_COLUMNS = 5
# Kernel status: done, or the 2025 allocation left lots no wallet holds units for.
cdef enum:
    OK = 0
    LEFT_OVER = 1

#: The layout as compiled, for the test that holds it equal to :mod:`.kernel`'s constants.
LAYOUT = {
    "L_QTY": L_QTY, "L_K1": L_K1, "L_K2": L_K2, "L_K3": L_K3, "L_AKEY": L_AKEY, "L_SEQ": L_SEQ,
    "L_MISSING": L_MISSING, "L_SRC": L_SRC, "L_POOL": L_POOL, "L_ROOT": L_ROOT, "L_RANK": L_RANK,
    "LOT_COLUMNS": LOT_COLUMNS,
    "S_LOT": S_LOT, "S_QTY": S_QTY, "S_BEFORE": S_BEFORE, "S_PLACED": S_PLACED, "S_WALLET": S_WALLET,
    "SLICE_COLUMNS": SLICE_COLUMNS,
    "OK": OK, "LEFT_OVER": LEFT_OVER,
}


cdef struct Table:
    # ``rows`` allocated rows of ``width`` int64 columns, row-major; ``used`` written.
    int64_t *data
    Py_ssize_t rows
    Py_ssize_t width
    Py_ssize_t used


cdef struct Heaps:
    # One binary heap of lot numbers per pool: its array, allocated length and size.
    int64_t **heap
    int64_t *capacity
    int64_t *size
    Py_ssize_t count


cdef struct ByAcquisition:
    # A lot's sort key in the 2025 allocation: acquisition key, sequence, lot number.
    int64_t akey
    int64_t seq
    int64_t lot


cdef int _grow(Table *table, Py_ssize_t rows) noexcept nogil:
    """Make row ``rows`` writable (doubling); -1 when memory runs out."""
    if rows < table.rows:
        return 0
    cdef Py_ssize_t bigger = table.rows * 2 + 16
    cdef int64_t *data = <int64_t *> realloc(table.data, bigger * table.width * sizeof(int64_t))
    if data == NULL:
        return -1
    table.data = data
    table.rows = bigger
    return 0


cdef inline bint _less(const int64_t *lots, int64_t i, int64_t j) noexcept nogil:
    cdef const int64_t *a = lots + i * LOT_COLUMNS
    cdef const int64_t *b = lots + j * LOT_COLUMNS
    if a[L_K1] != b[L_K1]:
        return a[L_K1] < b[L_K1]
    if a[L_K2] != b[L_K2]:
        return a[L_K2] < b[L_K2]
    if a[L_K3] != b[L_K3]:
        return a[L_K3] < b[L_K3]
    return i < j


cdef inline void _swap(int64_t *heap, int64_t i, int64_t j) noexcept nogil:
    cdef int64_t kept = heap[i]
    heap[i] = heap[j]
    heap[j] = kept


cdef int _push(Heaps *heaps, int64_t pool, int64_t lot, const int64_t *lots) noexcept nogil:
    """Add ``lot`` to ``pool``'s heap; -1 when memory runs out."""
    cdef int64_t n = heaps.size[pool]
    cdef int64_t *heap = heaps.heap[pool]
    cdef int64_t parent
    if n == heaps.capacity[pool]:
        heap = <int64_t *> realloc(heap, (n * 2 + 8) * sizeof(int64_t))
        if heap == NULL:
            return -1
        heaps.heap[pool] = heap
        heaps.capacity[pool] = n * 2 + 8
    heap[n] = lot
    heaps.size[pool] = n + 1
    while n > 0:
        parent = (n - 1) // 2
        if _less(lots, heap[n], heap[parent]):
            _swap(heap, n, parent)
            n = parent
        else:
            break
    return 0


cdef void _pop(Heaps *heaps, int64_t pool, const int64_t *lots) noexcept nogil:
    cdef int64_t *heap = heaps.heap[pool]
    cdef int64_t n = heaps.size[pool] - 1
    cdef int64_t i = 0, left, right, best
    heaps.size[pool] = n
    heap[0] = heap[n]
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        best = left
        right = left + 1
        if right < n and _less(lots, heap[right], heap[left]):
            best = right
        if _less(lots, heap[best], heap[i]):
            _swap(heap, i, best)
            i = best
        else:
            break


cdef void _set_keys(int64_t *row, int64_t method) noexcept nogil:
    cdef int64_t akey = row[L_AKEY], seq = row[L_SEQ], rank = row[L_RANK]
    if method == 0:
        row[L_K1], row[L_K2], row[L_K3] = akey, seq, 0
    elif method == 1:
        row[L_K1], row[L_K2], row[L_K3] = -akey, -seq, 0
    elif method == 2:
        row[L_K1], row[L_K2], row[L_K3] = -rank, akey, seq
    else:
        row[L_K1], row[L_K2], row[L_K3] = rank, akey, seq


cdef inline void _new_lot(
    int64_t *row, int64_t units, int64_t akey, int64_t seq, int64_t missing, int64_t pool, int64_t fact,
    int64_t rank, int64_t method,
) noexcept nogil:
    """A lot of its own facts (an acquisition, or units moved without lots): no source part."""
    row[L_QTY] = units
    row[L_AKEY] = akey
    row[L_SEQ] = seq
    row[L_MISSING] = missing
    row[L_SRC] = -1
    row[L_POOL] = pool
    row[L_ROOT] = fact
    row[L_RANK] = rank
    _set_keys(row, method)


cdef inline void _placed_lot(
    int64_t *lots, int64_t new, int64_t source, int64_t units, int64_t part, int64_t pool,
) noexcept nogil:
    """Lot ``new``: ``units`` of lot ``source`` taken as ``part`` and placed in ``pool`` (a
    transfer's part, or the 2025 allocation's): the source's facts and keys, its own units."""
    cdef int64_t *row = lots + new * LOT_COLUMNS
    memcpy(row, lots + source * LOT_COLUMNS, LOT_COLUMNS * sizeof(int64_t))
    row[L_QTY] = units
    row[L_SRC] = part
    row[L_POOL] = pool


cdef int _by_acquisition(const void *x, const void *y) noexcept nogil:
    # Oldest first: acquisition key, then sequence, then lot number (the numba kernel's
    # stable sorts by lot, then sequence, then key).
    cdef const ByAcquisition *a = <const ByAcquisition *> x
    cdef const ByAcquisition *b = <const ByAcquisition *> y
    if a.akey != b.akey:
        return -1 if a.akey < b.akey else 1
    if a.seq != b.seq:
        return -1 if a.seq < b.seq else 1
    if a.lot != b.lot:
        return -1 if a.lot < b.lot else 1
    return 0


cdef struct Buffers:
    # Every C buffer of one run (freed by ``_release``, whatever happened).
    Table lots
    Table slices
    Heaps heaps
    int64_t *holdings
    int64_t *holders
    ByAcquisition *order
    Py_ssize_t order_rows


cdef void _release(Buffers *b) noexcept nogil:
    cdef Py_ssize_t pool
    free(b.lots.data)
    free(b.slices.data)
    if b.heaps.heap != NULL:
        for pool in range(b.heaps.count):
            free(b.heaps.heap[pool])
    free(b.heaps.heap)
    free(b.heaps.capacity)
    free(b.heaps.size)
    free(b.holdings)
    free(b.holders)
    free(b.order)


cdef inline const int64_t *_data(const int64_t[::1] column) noexcept:
    return &column[0] if column.shape[0] > 0 else NULL


cdef int _run(
    Buffers *b,
    Py_ssize_t n_ops,
    const int64_t *kind,
    const int64_t *wallet,
    const int64_t *wallet2,
    const int64_t *asset,
    const int64_t *quantity,
    const int64_t *key,
    const int64_t *acquisition,
    const int64_t *flag,
    const int64_t *acq_rank,
    int64_t n_wallets,
    int64_t n_assets,
    bint per_wallet,
    int64_t method,
    const int64_t *wallet_order,
    const int64_t *asset_order,
    const int64_t *dust,
    int64_t *starts,
    int64_t *uncovered,
    int *status,
) noexcept nogil:
    """The main loop, without the interpreter lock; -1 when memory runs out."""
    cdef Table *lots = &b.lots
    cdef Table *slices = &b.slices
    cdef Heaps *heaps = &b.heaps
    cdef int64_t *holdings = b.holdings
    cdef int64_t *holders = b.holders
    cdef int64_t columns = n_assets if n_assets > 1 else 1  # holdings is (wallets, columns)
    cdef Py_ssize_t n_lots = 0, n_slices = 0, op, part, rest
    cdef int64_t seq = 0, code, a, w, w2, pool, target, fact, remaining, held, taken, lot
    cdef int64_t index, n, n_holders, j, prev, at, h, need
    cdef int64_t *slice_row
    cdef ByAcquisition *order
    for op in range(n_ops):
        starts[op] = n_slices
        code = kind[op]
        a = asset[op]
        w = wallet[op]
        if code == 0:  # ACQUIRE
            if _grow(lots, n_lots) < 0:
                return -1
            pool = w * n_assets + a if per_wallet else n_wallets * n_assets + a
            fact = acquisition[op]
            _new_lot(lots.data + n_lots * LOT_COLUMNS, quantity[op], key[op], seq, flag[op], pool, fact,
                     acq_rank[fact], method)
            seq += 1
            if _push(heaps, pool, n_lots, lots.data) < 0:
                return -1
            n_lots += 1
            holdings[w * columns + a] += quantity[op]
        elif code == 1 or code == 2:  # TAKE, MOVE
            if a < 0:
                continue
            pool = w * n_assets + a if per_wallet else n_wallets * n_assets + a
            remaining = quantity[op]
            target = wallet2[op] * n_assets + a
            while remaining > 0 and heaps.size[pool] > 0:
                lot = heaps.heap[pool][0]
                held = lots.data[lot * LOT_COLUMNS + L_QTY]
                if held == 0:
                    _pop(heaps, pool, lots.data)
                    continue
                taken = held if remaining >= held else remaining
                lots.data[lot * LOT_COLUMNS + L_QTY] = held - taken
                remaining -= taken
                if _grow(slices, n_slices) < 0:
                    return -1
                slice_row = slices.data + n_slices * SLICE_COLUMNS
                slice_row[S_LOT] = lot
                slice_row[S_QTY] = taken
                slice_row[S_BEFORE] = held
                slice_row[S_PLACED] = -1
                slice_row[S_WALLET] = -1
                n_slices += 1
                if lots.data[lot * LOT_COLUMNS + L_QTY] == 0:
                    _pop(heaps, pool, lots.data)
            holdings[w * columns + a] -= quantity[op]
            if code == 2:
                # Placed after the whole take, as ``LotBook.place`` after ``remove``.
                for part in range(starts[op], n_slices):
                    lot = slices.data[part * SLICE_COLUMNS + S_LOT]
                    if _grow(lots, n_lots) < 0:
                        return -1
                    _placed_lot(lots.data, n_lots, lot, slices.data[part * SLICE_COLUMNS + S_QTY], part, target)
                    slices.data[part * SLICE_COLUMNS + S_PLACED] = n_lots
                    if _push(heaps, target, n_lots, lots.data) < 0:
                        return -1
                    n_lots += 1
                    holdings[wallet2[op] * columns + a] += slices.data[part * SLICE_COLUMNS + S_QTY]
            uncovered[op] = remaining
            if code == 2 and remaining > dust[a]:
                if _grow(lots, n_lots) < 0:
                    return -1
                fact = acquisition[op]
                _new_lot(lots.data + n_lots * LOT_COLUMNS, remaining, key[op], seq, 1, target, fact,
                         acq_rank[fact], method)
                seq += 1
                if _push(heaps, target, n_lots, lots.data) < 0:
                    return -1
                n_lots += 1
                holdings[wallet2[op] * columns + a] += remaining
        elif code == 3:  # HOLD
            holdings[w * columns + a] -= quantity[op]
            holdings[wallet2[op] * columns + a] += quantity[op]
        else:  # SWITCH
            per_wallet = True
            for index in range(n_assets):
                a = asset_order[index]
                pool = n_wallets * n_assets + a
                n = heaps.size[pool]
                # The pool's lots oldest first (one buffer, grown to the largest pool).
                if n > b.order_rows:
                    order = <ByAcquisition *> realloc(b.order, n * sizeof(ByAcquisition))
                    if order == NULL:
                        return -1
                    b.order = order
                    b.order_rows = n
                for j in range(n):
                    lot = heaps.heap[pool][j]
                    b.order[j].akey = lots.data[lot * LOT_COLUMNS + L_AKEY]
                    b.order[j].seq = lots.data[lot * LOT_COLUMNS + L_SEQ]
                    b.order[j].lot = lot
                if n > 1:
                    qsort(b.order, n, sizeof(ByAcquisition), _by_acquisition)
                n_holders = 0
                for w2 in range(n_wallets):
                    if holdings[w2 * columns + a] > 0:
                        # insertion by (-held, name)
                        j = n_holders
                        while j > 0:
                            prev = holders[j - 1]
                            if holdings[prev * columns + a] < holdings[w2 * columns + a] or (
                                holdings[prev * columns + a] == holdings[w2 * columns + a]
                                and wallet_order[prev] > wallet_order[w2]
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
                    need = holdings[w2 * columns + a]
                    while need > 0 and at < n:
                        lot = b.order[at].lot
                        held = lots.data[lot * LOT_COLUMNS + L_QTY]
                        taken = held if need >= held else need
                        lots.data[lot * LOT_COLUMNS + L_QTY] = held - taken
                        need -= taken
                        if _grow(slices, n_slices) < 0 or _grow(lots, n_lots) < 0:
                            return -1
                        slice_row = slices.data + n_slices * SLICE_COLUMNS
                        slice_row[S_LOT] = lot
                        slice_row[S_QTY] = taken
                        slice_row[S_BEFORE] = held
                        slice_row[S_PLACED] = n_lots
                        slice_row[S_WALLET] = w2
                        _placed_lot(lots.data, n_lots, lot, taken, n_slices, w2 * n_assets + a)
                        if _push(heaps, w2 * n_assets + a, n_lots, lots.data) < 0:
                            return -1
                        n_lots += 1
                        n_slices += 1
                        if lots.data[lot * LOT_COLUMNS + L_QTY] == 0:
                            at += 1
                for rest in range(at, n):
                    if lots.data[b.order[rest].lot * LOT_COLUMNS + L_QTY] > 0:
                        status[0] = LEFT_OVER
                heaps.size[pool] = 0
    starts[n_ops] = n_slices
    lots.used = n_lots
    slices.used = n_slices
    return 0


def fold_kernel(
    const int64_t[::1] kind,
    const int64_t[::1] wallet,
    const int64_t[::1] wallet2,
    const int64_t[::1] asset,
    const int64_t[::1] quantity,
    const int64_t[::1] key,
    const int64_t[::1] acquisition,
    const int64_t[::1] flag,
    const int64_t[::1] acq_rank,
    int64_t n_wallets,
    int64_t n_assets,
    bint per_wallet_start,
    int64_t method,
    const int64_t[::1] wallet_order,
    const int64_t[::1] asset_order,
    const int64_t[::1] dust,
):
    """Run the program's operations.

    Returns:
        ``(status, lots, slices, starts, uncovered)``: the lot table, the slice table, the
        first slice of each operation (``starts[i]:starts[i + 1]``) and each take's units
        not covered by lots.
    """
    cdef Py_ssize_t n_ops = kind.shape[0]
    cdef Py_ssize_t n_pools = (n_wallets + 1) * n_assets
    cdef Py_ssize_t n_holdings = (n_wallets if n_wallets > 1 else 1) * (n_assets if n_assets > 1 else 1)
    cdef Buffers b
    cdef int status = OK, failed = 0
    cdef int64_t[::1] starts_view, uncovered_view
    cdef int64_t[:, ::1] table_view
    cdef const int64_t *inputs[12]
    if n_wallets < 0 or n_assets < 0:
        raise ValueError("negative counts of wallets or assets")
    if not (
        wallet.shape[0] == wallet2.shape[0] == asset.shape[0] == quantity.shape[0] == key.shape[0]
        == acquisition.shape[0] == flag.shape[0] == n_ops
    ):
        raise ValueError("the program's columns differ in length")
    inputs[0], inputs[1], inputs[2], inputs[3] = _data(kind), _data(wallet), _data(wallet2), _data(asset)
    inputs[4], inputs[5], inputs[6], inputs[7] = _data(quantity), _data(key), _data(acquisition), _data(flag)
    inputs[8], inputs[9], inputs[10], inputs[11] = (
        _data(acq_rank), _data(wallet_order), _data(asset_order), _data(dust)
    )
    starts = np.zeros(n_ops + 1, dtype=np.int64)
    uncovered = np.zeros(n_ops, dtype=np.int64)
    starts_view = starts
    uncovered_view = uncovered
    cdef int64_t *starts_data = &starts_view[0]
    cdef int64_t *uncovered_data = &uncovered_view[0] if n_ops > 0 else NULL
    b.lots.data = NULL
    b.lots.rows = 0
    b.lots.width = LOT_COLUMNS
    b.lots.used = 0
    b.slices.data = NULL
    b.slices.rows = 0
    b.slices.width = SLICE_COLUMNS
    b.slices.used = 0
    b.heaps.heap = NULL
    b.heaps.capacity = NULL
    b.heaps.size = NULL
    b.heaps.count = n_pools
    b.holdings = NULL
    b.holders = NULL
    b.order = NULL
    b.order_rows = 0
    try:
        b.lots.data = <int64_t *> malloc(1024 * LOT_COLUMNS * sizeof(int64_t))
        b.lots.rows = 1024
        b.slices.data = <int64_t *> malloc(1024 * SLICE_COLUMNS * sizeof(int64_t))
        b.slices.rows = 1024
        b.heaps.heap = <int64_t **> calloc(n_pools + 1, sizeof(int64_t *))
        b.heaps.capacity = <int64_t *> calloc(n_pools + 1, sizeof(int64_t))
        b.heaps.size = <int64_t *> calloc(n_pools + 1, sizeof(int64_t))
        b.holdings = <int64_t *> calloc(n_holdings, sizeof(int64_t))
        b.holders = <int64_t *> malloc((n_wallets + 1) * sizeof(int64_t))
        if (
            b.lots.data == NULL or b.slices.data == NULL or b.heaps.heap == NULL
            or b.heaps.capacity == NULL or b.heaps.size == NULL or b.holdings == NULL or b.holders == NULL
        ):
            raise MemoryError()
        with nogil:
            failed = _run(
                &b, n_ops, inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], inputs[6],
                inputs[7], inputs[8], n_wallets, n_assets, per_wallet_start, method, inputs[9],
                inputs[10], inputs[11], starts_data, uncovered_data, &status,
            )
        if failed:
            raise MemoryError()
        lots = np.empty((b.lots.used, LOT_COLUMNS), dtype=np.int64)
        if b.lots.used > 0:
            table_view = lots
            memcpy(&table_view[0, 0], b.lots.data, b.lots.used * LOT_COLUMNS * sizeof(int64_t))
        slices = np.empty((b.slices.used, SLICE_COLUMNS), dtype=np.int64)
        if b.slices.used > 0:
            table_view = slices
            memcpy(&table_view[0, 0], b.slices.data, b.slices.used * SLICE_COLUMNS * sizeof(int64_t))
        return status, lots, slices, starts, uncovered
    finally:
        _release(&b)
