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

from decimal import ROUND_FLOOR, Decimal

import numpy as np

from marginbook.domain.numbers import ZERO, plain
from marginbook.tax.book import AllocationRow
from marginbook.tax.engine import EngineResult, Fold
from marginbook.tax.fast.encode import METHOD_CODES, Encoder, Program, Unsupported
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
from marginbook.tax.lots import BASIS_QUANTUM, Lot
from marginbook.tax.methods import Method
from marginbook.tax.records import Disposal, GiftItem, LotSlice
from marginbook.tax.valuation import describe


def _ranks(program: Program) -> tuple[np.ndarray, list[Decimal] | None]:
    """Each acquisition's rank of unit cost (HIFO/LOFO order), and the unit costs."""
    if program.method not in (Method.HIFO, Method.LOFO):
        return np.zeros(len(program.acq_id), dtype=np.int64), None
    units = [basis / quantity for basis, quantity in zip(program.acq_basis, program.acq_quantity, strict=True)]
    order = {value: rank for rank, value in enumerate(sorted(set(units)))}
    return np.array([order[u] for u in units], dtype=np.int64), units


def _orders(names: dict[str, int]) -> np.ndarray:
    """Each id's rank by name (ids are in order of first use)."""
    ranks = np.zeros(len(names), dtype=np.int64)
    for rank, name in enumerate(sorted(names)):
        ranks[names[name]] = rank
    return ranks


def replay(program: Program, encoder: Encoder) -> EngineResult:
    """Run the kernel over ``program`` and build the run's :class:`EngineResult`.

    Raises:
        Unsupported: units without lots or basis, or an allocation that left lots over.
    """
    fold: Fold = encoder.fold
    arrays = program.arrays
    scales = program.scales
    dust = fold.dust
    dust_units = np.array(
        [int(dust.scaleb(s).to_integral_value(ROUND_FLOOR)) for s in scales] or [0], dtype=np.int64
    )
    acq_rank, unit_costs = _ranks(program)
    method = program.method or Method.FIFO
    status, lots, slices, starts, uncovered = fold_kernel(
        arrays["kind"], arrays["wallet"], arrays["wallet2"], arrays["asset"], arrays["quantity"],
        arrays["key"], arrays["acquisition"], arrays["flag"], acq_rank,
        len(program.wallets), len(program.assets), fold.options.scope.value == "wallet",
        METHOD_CODES[method], _orders(program.wallets), _orders(program.assets), dust_units,
    )
    if status == LEFT_OVER:
        raise Unsupported("the 2025 allocation left lots that no wallet holds units for")
    n_assets = len(program.assets)
    wallet_names = sorted(program.wallets, key=program.wallets.__getitem__)
    asset_names = sorted(program.assets, key=program.assets.__getitem__)
    acq_id, acq_at, acq_basis = program.acq_id, program.acq_at, program.acq_basis

    # Basis of every part taken, in the order taken (a placed lot's basis is its part's).
    src = lots[:, L_SRC].tolist()
    root = lots[:, L_ROOT].tolist()
    missing = lots[:, L_MISSING].tolist()
    lot_basis: list[Decimal] = [acq_basis[r] if s < 0 else ZERO for s, r in zip(src, root, strict=True)]
    s_lot = slices[:, S_LOT].tolist()
    s_qty = slices[:, S_QTY].tolist()
    s_before = slices[:, S_BEFORE].tolist()
    s_placed = slices[:, S_PLACED].tolist()
    part_basis: list[Decimal] = []
    append = part_basis.append
    quantum = BASIS_QUANTUM
    for lot, taken, before, placed in zip(s_lot, s_qty, s_before, s_placed, strict=True):
        basis = lot_basis[lot]
        if taken == before:
            lot_basis[lot] = ZERO
        else:
            part = (basis * taken / before).quantize(quantum)
            lot_basis[lot] = basis - part
            basis = part
        append(basis)
        if placed >= 0:
            lot_basis[placed] = basis

    result = fold.result
    first = starts.tolist()
    left = uncovered.tolist()
    asset_ids = program.assets
    for op, meta in enumerate(program.meta):
        if meta is None:
            continue
        tag = meta[0]
        begin, end = first[op], first[op + 1]
        if tag == "d":
            _, disposal_id, event_id, kind, moment, wallet, asset, quantity, proceeds, warnings = meta
            a = asset_ids[asset]  # type: ignore[index]
            scale = -scales[a]
            if left[op] or any(missing[s_lot[i]] for i in range(begin, end)):
                if left[op] > dust_units[a] or any(missing[s_lot[i]] for i in range(begin, end)):
                    raise Unsupported("a disposal without lots or basis")
            parts = tuple(
                [
                    LotSlice(
                        acq_id[root[s_lot[i]]],
                        Decimal(s_qty[i]).scaleb(scale),
                        part_basis[i],
                        acq_at[root[s_lot[i]]],
                        False,
                    )
                    for i in range(begin, end)
                ]
            )
            result.disposals.append(
                Disposal(
                    disposal_id, event_id, kind, moment, wallet, asset, quantity, proceeds, parts, None, True,
                    warnings,
                )
            )
        elif tag == "w":
            event = meta[1]
            a = program.asset[op]
            if left[op] > dust_units[a]:
                result.warnings.append(
                    f"event {describe(event)}: withdraws {plain(Decimal(left[op]).scaleb(-scales[a]))} "  # type: ignore[arg-type]
                    f"{event.asset} more than wallet {event.wallet!r} holds"  # type: ignore[attr-defined]
                )
        elif tag == "g":
            event, value = meta[1], meta[2]
            gift_slices: list[LotSlice] = []
            a = program.asset[op]
            if a >= 0:
                scale = -scales[a]
                gift_slices = [
                    LotSlice(
                        acq_id[root[s_lot[i]]],
                        Decimal(s_qty[i]).scaleb(scale),
                        part_basis[i],
                        acq_at[root[s_lot[i]]],
                        bool(missing[s_lot[i]]),
                    )
                    for i in range(begin, end)
                ]
                if left[op] > dust_units[a]:
                    short = Decimal(left[op]).scaleb(scale)
                    gift_slices.append(LotSlice("", short, ZERO, None, True))
                    result.warnings.append(
                        f"event {describe(event)}: gives {plain(short)} {event.asset} without known basis"  # type: ignore[arg-type, attr-defined]
                    )
            result.gifts.append(
                GiftItem(
                    event.id, event.timestamp, event.wallet, event.asset, event.amount,  # type: ignore[attr-defined]
                    event.kind.value, value, tuple(gift_slices),  # type: ignore[attr-defined, arg-type]
                )
            )
        elif tag == "s":
            for i in range(begin, end):
                lot = s_lot[i]
                a = int(lots[lot, L_POOL]) % n_assets
                result.allocation.append(
                    AllocationRow(
                        asset_names[a],
                        wallet_names[int(slices[i, S_WALLET])],
                        acq_id[root[lot]],
                        Decimal(s_qty[i]).scaleb(-scales[a]),
                        part_basis[i],
                        acq_at[root[lot]],
                        "global",
                    )
                )
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
    n_wallets, n_assets = len(wallet_names), len(asset_names)
    held = np.nonzero(lots[:, L_QTY] > 0)[0].tolist()
    found = []
    for index in held:
        pool = int(lots[index, L_POOL])
        w, a = divmod(pool, n_assets)
        wallet = wallet_names[w] if w < n_wallets else ""
        found.append((wallet, asset_names[a], int(lots[index, L_AKEY]), int(lots[index, L_SEQ]), index))
    found.sort()
    result = []
    for wallet, asset, akey, seq, index in found:
        root = int(lots[index, L_ROOT])
        result.append(
            (
                wallet,
                Lot(
                    acquisition_id=program.acq_id[root],
                    asset=asset,
                    acquired_at=program.acq_at[root],
                    acquired_key=akey,
                    seq=seq,
                    uid=index,
                    quantity=Decimal(int(lots[index, L_QTY])).scaleb(-program.scales[asset_names.index(asset)]),
                    basis=lot_basis[index],
                    unit_cost=None if unit_costs is None else unit_costs[root],
                    basis_missing=bool(lots[index, L_MISSING]),
                ),
            )
        )
    return result
