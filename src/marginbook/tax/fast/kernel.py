"""The lot matching of the fast fold: its table layout here, its loop compiled (:mod:`._lotkernel`).

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

:func:`fold_kernel` is a Cython extension compiled at install (``_lotkernel.pyx``), not
numba: a tax run then loads it in about a millisecond instead of paying numba's import and
cached-kernel load (0.35-0.4 s). Its loop runs without the interpreter lock. A source
checkout that was never built cannot import this module: :func:`marginbook.tax.fast.fast_fold`
then returns ``None`` and the engine runs the ``Decimal`` fold.

The ``.pyx`` has the same columns as a ``cdef enum``; its ``LAYOUT`` is tested equal to
the constants here (``tests/tax/test_lot_kernel.py``).
"""

from __future__ import annotations

from marginbook.tax.fast._lotkernel import fold_kernel

# Lot table columns.
L_QTY, L_K1, L_K2, L_K3, L_AKEY, L_SEQ, L_MISSING, L_SRC, L_POOL, L_ROOT, L_RANK = range(11)
LOT_COLUMNS = 11
# Slice table columns: the lot, units taken, the lot's units before, the lot placed from
# this part (-1: none), the wallet it was allocated to (the switch; else -1).
S_LOT, S_QTY, S_BEFORE, S_PLACED, S_WALLET = range(5)
SLICE_COLUMNS = 5

#: Kernel status: done, or the 2025 allocation left lots no wallet holds units for.
OK, LEFT_OVER = 0, 1

__all__ = [
    "LEFT_OVER",
    "LOT_COLUMNS",
    "L_AKEY",
    "L_K1",
    "L_K2",
    "L_K3",
    "L_MISSING",
    "L_POOL",
    "L_QTY",
    "L_RANK",
    "L_ROOT",
    "L_SEQ",
    "L_SRC",
    "OK",
    "SLICE_COLUMNS",
    "S_BEFORE",
    "S_LOT",
    "S_PLACED",
    "S_QTY",
    "S_WALLET",
    "fold_kernel",
]
