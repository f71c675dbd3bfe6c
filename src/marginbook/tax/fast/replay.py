"""The kernel's slices → the engine's exact records (the last step of the fast fold).

The kernel says which units of which lot each operation took; this module gives every part
its basis exactly as :func:`marginbook.tax.lots.consume` does (the whole remaining basis
for a whole lot, else ``basis * q / Q`` in the 60-digit context, to 1e-20, the rest left
on the lot), walking the parts in the order they were taken, and builds the same
:class:`~marginbook.tax.records.Disposal`, gift, warning, allocation and open-lot records
as the ``Decimal`` fold. Whatever would need the fold's error or missing-basis path
(units without lots, lots without basis) raises :class:`~marginbook.tax.fast.encode.Unsupported`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from functools import cache
from itertools import compress
from typing import Any

import numpy as np

from marginbook.domain.numbers import ZERO, plain
from marginbook.tax.book import AllocationRow
from marginbook.tax.engine import EngineResult, Fold
from marginbook.tax.fast.encode import METHOD_CODES, Encoder, Program, Unsupported, names_by_id
from marginbook.tax.fast.kernel import (
    L_AKEY,
    L_MISSING,
    L_POOL,
    L_QTY,
    L_ROOT,
    L_SEQ,
    L_SRC,
    LEFT_OVER,
    S_BEFORE,
    S_LOT,
    S_PLACED,
    S_QTY,
    S_WALLET,
    fold_kernel,
)
from marginbook.tax.form8949 import BoxSums
from marginbook.tax.lots import BASIS_QUANTUM, Lot
from marginbook.tax.methods import Method
from marginbook.tax.progress import report
from marginbook.tax.records import Disposal, GiftItem, LotSlice
from marginbook.tax.valuation import describe

#: Parts read from the kernel's table per chunk in the basis pass.
_CHUNK = 1 << 16


def _ranks(program: Program) -> tuple[np.ndarray, list[Decimal] | None]:
    """Each acquisition's rank of unit cost (HIFO/LOFO order), and the unit costs."""
    if program.method not in (Method.HIFO, Method.LOFO):
        return np.zeros(len(program.facts), dtype=np.int64), None
    units = [basis / quantity for _id, _at, basis, quantity in program.facts]
    order = {value: rank for rank, value in enumerate(sorted(set(units)))}
    return np.array([order[u] for u in units], dtype=np.int64), units


def _orders(names: dict[str, int]) -> np.ndarray:
    """Each id's rank by name (ids are in order of first use)."""
    ranks = np.zeros(len(names), dtype=np.int64)
    for rank, name in enumerate(sorted(names)):
        ranks[names[name]] = rank
    return ranks


def _by_name(names: dict[str, int]) -> np.ndarray:
    """The ids in order of their names."""
    return np.array([names[name] for name in sorted(names)], dtype=np.int64)


def _dust_units(fold: Fold, scales: list[int]) -> list[int]:
    """The profile's dust in each asset's scaled units (rounded down)."""
    dust = fold.dust
    return [int(dust.scaleb(s).to_integral_value(ROUND_FLOOR)) for s in scales]


def _kernel_arguments(program: Program, fold: Fold, acq_rank: np.ndarray) -> tuple[Any, ...]:
    """:func:`~marginbook.tax.fast.kernel.fold_kernel`'s arguments for ``program`` (finished)."""
    arrays = program.arrays
    return (
        arrays["kind"], arrays["wallet"], arrays["wallet2"], arrays["asset"], arrays["quantity"],
        arrays["key"], arrays["acquisition"], arrays["flag"], acq_rank,
        len(program.wallets), len(program.assets), fold.options.scope.value == "wallet",
        METHOD_CODES[program.method or Method.FIFO], _orders(program.wallets), _by_name(program.assets),
        np.array(_dust_units(fold, program.scales) or [0], dtype=np.int64),
    )


@cache
def _kernel_thread() -> ThreadPoolExecutor:
    """The thread :func:`start_kernel` runs the kernel on (made on first use)."""
    return ThreadPoolExecutor(1, thread_name_prefix="lot-kernel")


def start_kernel(program: Program, fold: Fold, n_facts: int) -> None:
    """Start the kernel on ``program`` (finished: arrays, scales, names and method final) in a
    background thread; :func:`replay` takes its result from ``program.kernel``.

    The compiled kernel runs without the interpreter lock, so a columnar run builds its
    records' facts (most of its Python work) while the lots are matched: about the kernel's
    time off the wall time of a large run. Only for methods that don't rank lots by unit cost
    (FIFO, LIFO): HIFO/LOFO need the facts' unit costs first. ``n_facts``: how many facts
    the program will have (the kernel indexes its zero ranks by fact).
    """
    if program.method in (Method.HIFO, Method.LOFO):
        raise ValueError("HIFO/LOFO rank lots by the facts' unit costs: run the kernel in replay")
    arguments = _kernel_arguments(program, fold, np.zeros(n_facts, dtype=np.int64))
    program.kernel = _kernel_thread().submit(fold_kernel, *arguments)


def replay(program: Program, encoder: Encoder) -> EngineResult:
    """Run the kernel over ``program`` and build the run's :class:`EngineResult`.

    Raises:
        Unsupported: units without lots or basis, or an allocation that left lots over.
    """
    fold: Fold = encoder.fold
    scales = program.scales
    dust_units = _dust_units(fold, scales)
    acq_rank, unit_costs = _ranks(program)
    report("matching lots")
    if program.kernel is not None:
        status, lots, slices, starts, uncovered = program.kernel.result()
    else:
        status, lots, slices, starts, uncovered = fold_kernel(*_kernel_arguments(program, fold, acq_rank))
    if status == LEFT_OVER:
        raise Unsupported("the 2025 allocation left lots that no wallet holds units for")
    n_assets = len(program.assets)
    wallet_names = names_by_id(program.wallets)
    asset_names = names_by_id(program.assets)
    facts = program.facts

    # Basis of every part taken, in the order taken (a placed lot's basis is its part's).
    # The columns are read in chunks: whole-run lists of a million parts cost hundreds of MB.
    sources, roots = lots[:, L_SRC].tolist(), lots[:, L_ROOT].tolist()
    lot_basis: list[Decimal] = [facts[r][2] if s < 0 else ZERO for s, r in zip(sources, roots, strict=True)]
    del sources
    part_basis: list[Decimal] = []
    append = part_basis.append
    quantum = BASIS_QUANTUM
    for chunk in range(0, len(slices), _CHUNK):
        report("exact basis of the lots taken", chunk, len(slices))
        part = slices[chunk : chunk + _CHUNK]
        for lot, taken, before, placed in zip(
            part[:, S_LOT].tolist(), part[:, S_QTY].tolist(), part[:, S_BEFORE].tolist(),
            part[:, S_PLACED].tolist(), strict=True,
        ):
            basis = lot_basis[lot]
            if taken == before:
                lot_basis[lot] = ZERO
            else:
                share = (basis * taken / before).quantize(quantum)
                lot_basis[lot] = basis - share
                basis = share
            append(basis)
            if placed >= 0:
                lot_basis[placed] = basis

    # Each part's acquisition facts, then the records in fold order.
    s_lot = slices[:, S_LOT].tolist()
    s_qty = slices[:, S_QTY].tolist()
    slice_ids = ids = [facts[roots[lot]][0] for lot in s_lot]
    slice_ats = ats = [facts[roots[lot]][1] for lot in s_lot]
    missing = lots[:, L_MISSING].tolist()
    # Per operation: a part from a lot without basis, or units beyond the dust not covered by
    # lots (a disposal of either needs the Decimal fold's missing-basis path).
    if len(slices):
        taken_missing = np.concatenate([[0], np.cumsum(lots[slices[:, S_LOT], L_MISSING])])
    else:
        taken_missing = np.zeros(1, dtype=np.int64)
    dust_of_op = np.array([*dust_units, 0], dtype=np.int64)[np.asarray(program.asset_of_op, dtype=np.int64)]
    beyond_dust = (uncovered > 0) & (uncovered > dust_of_op)
    without_basis = ((taken_missing[starts[1:]] > taken_missing[starts[:-1]]) | beyond_dust).tolist()
    result = fold.result
    disposals = result.disposals.append
    first = starts.tolist()
    left = uncovered.tolist()
    asset_of_op = program.asset_of_op
    new = tuple.__new__  # a record from its fields in order (NamedTuple's __new__ costs more)
    profile = fold.profile
    summarize_before = fold.options.summarize_before
    summaries: dict[int, BoxSums] = {}

    tax_year = fold.tax_year

    def earlier_sums(moment: datetime) -> BoxSums | None:
        """The box totals of the earlier year of a disposal at ``moment`` (made at its first
        disposal), or ``None`` when the disposal is one of the run's records."""
        if summarize_before is None:
            return None
        year = tax_year(moment)
        if year >= summarize_before:
            return None
        sums = summaries.get(year)
        if sums is None:
            sums = summaries[year] = BoxSums(year, profile, fold.zone, profile.month_end)
        return sums

    def keep(disposal: Disposal) -> None:
        """A disposal of the run: a record, or its rows' totals for an earlier year."""
        sums = earlier_sums(disposal.disposed_at)
        if sums is None:
            disposals(disposal)
        else:
            sums.add(disposal)

    report("building the records")
    metas = program.meta
    # Only the operations with a meta (sales, gifts, the switch ...): skipping the others in C
    # saves a Python iteration per acquisition (half a million on a million-event ledger).
    for op in compress(range(len(metas)), metas):
        meta = metas[op]
        assert meta is not None
        tag = meta[0]
        begin, end = first[op], first[op + 1]
        if tag == "d":
            if without_basis[op]:
                raise Unsupported("a disposal without lots or basis")
            # An earlier year's sale only adds to its year's box totals: by its parts, without
            # its records, unless it has no lot or both terms (BoxSums.add_sale).
            earlier = earlier_sums(meta[4])  # type: ignore[arg-type]
            if earlier is not None and earlier.add_sale(
                meta[5], meta[4], meta[8], ats[begin:end], part_basis[begin:end]  # type: ignore[arg-type]
            ):
                continue
            scale = -scales[asset_of_op[op]]
            parts: tuple[LotSlice, ...]
            if end - begin == 1:  # the commonest sale: one lot
                parts = (new(LotSlice, (ids[begin], Decimal(s_qty[begin]).scaleb(scale), part_basis[begin],
                                        ats[begin], False)),)
            else:
                parts = tuple(
                    [
                        new(LotSlice, (ids[i], Decimal(s_qty[i]).scaleb(scale), part_basis[i], ats[i], False))
                        for i in range(begin, end)
                    ]
                )
            disposal = new(
                Disposal,
                (meta[1], meta[2], meta[3], meta[4], meta[5], meta[6], meta[7], meta[8], parts, None, True,
                 meta[9]),
            )
            if earlier is not None:
                earlier.add(disposal)
            else:
                disposals(disposal)
        elif tag == "D":
            keep(meta[1])  # type: ignore[arg-type]
        elif tag == "w":
            event: Any = meta[1]
            a = asset_of_op[op]
            if left[op] > dust_units[a]:
                result.warnings.append(
                    f"event {describe(event)}: withdraws {plain(Decimal(left[op]).scaleb(-scales[a]))} "
                    f"{event.asset} more than wallet {event.wallet!r} holds"
                )
        elif tag == "g":
            event, value = meta[1], meta[2]
            gift_slices: list[LotSlice] = []
            a = asset_of_op[op]
            if a >= 0:
                gift_slices = [
                    LotSlice(
                        slice_ids[i], Decimal(s_qty[i]).scaleb(-scales[a]), part_basis[i], slice_ats[i],
                        bool(missing[s_lot[i]]),
                    )
                    for i in range(begin, end)
                ]
                if left[op] > dust_units[a]:
                    short = Decimal(left[op]).scaleb(-scales[a])
                    gift_slices.append(LotSlice("", short, ZERO, None, True))
                    result.warnings.append(
                        f"event {describe(event)}: gives {plain(short)} {event.asset} without known basis"
                    )
            result.gifts.append(
                GiftItem(
                    event.id, event.timestamp, event.wallet, event.asset, event.amount, event.kind.value,
                    value, tuple(gift_slices),  # type: ignore[arg-type]
                )
            )
        elif tag == "s":
            # Every lot of the universal pools allocated at once: their assets and wallets by column.
            allocated = slices[begin:end]
            pool_assets = (lots[allocated[:, S_LOT], L_POOL] % n_assets).tolist()
            allocate = result.allocation.append
            for i, a, w in zip(range(begin, end), pool_assets, allocated[:, S_WALLET].tolist(), strict=True):
                allocate(
                    AllocationRow(
                        asset_names[a], wallet_names[w], slice_ids[i], Decimal(s_qty[i]).scaleb(-scales[a]),
                        part_basis[i], slice_ats[i], "global",
                    )
                )
    result.box_totals = {year: sums.amounts() for year, sums in summaries.items()}
    fold._universal_2025 = encoder.universal_2025
    fold.run_warnings()
    result.open_lots = _open_lots(program, lots, lot_basis, unit_costs, wallet_names, asset_names)
    return result


def _open_lots(
    program: Program,
    lots: np.ndarray,
    lot_basis: list[Decimal],
    unit_costs: list[Decimal] | None,
    wallet_names: list[str],
    asset_names: list[str],
) -> list[tuple[str, Lot]]:
    """``LotBook.open_lots``: pools by (wallet, asset), each oldest acquisition first."""
    n_assets = len(asset_names)
    held = np.nonzero(lots[:, L_QTY] > 0)[0]
    # Sorted by (wallet name, asset name, acquisition key, seq, lot): names by rank, "" the
    # universal pool's wallet (equal names equal ranks, as the names compare).
    names = sorted({*wallet_names, ""})
    wallet_rank = np.array([names.index(name) for name in [*wallet_names, ""]], dtype=np.int64)
    asset_rank = np.array([sorted(asset_names).index(name) for name in asset_names] or [0], dtype=np.int64)
    pool_wallet, pool_asset = np.divmod(lots[held, L_POOL], max(n_assets, 1))
    akeys, seqs = lots[held, L_AKEY], lots[held, L_SEQ]
    order = np.lexsort((held, seqs, akeys, asset_rank[pool_asset], wallet_rank[pool_wallet]))
    all_wallets = [*wallet_names, ""]
    chosen = held[order]
    facts = program.facts
    scales = program.scales
    result = []
    for w, a, akey, seq, index, root, units, missing in zip(
        pool_wallet[order].tolist(), pool_asset[order].tolist(), akeys[order].tolist(), seqs[order].tolist(),
        chosen.tolist(), lots[chosen, L_ROOT].tolist(), lots[chosen, L_QTY].tolist(),
        lots[chosen, L_MISSING].tolist(), strict=True,
    ):
        acquisition_id, acquired_at, _basis, _quantity = facts[root]
        result.append(
            (
                all_wallets[w],
                Lot(
                    acquisition_id,
                    asset_names[a],
                    acquired_at,
                    akey,
                    seq,
                    index,
                    Decimal(units).scaleb(-scales[a]),
                    lot_basis[index],
                    None if unit_costs is None else unit_costs[root],
                    bool(missing),
                ),
            )
        )
    return result
