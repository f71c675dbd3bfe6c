"""Run RP2 (PyPI ``rp2``, an independent US crypto tax calculator) on marginbook events.

Only what both tools model the same way is translated: buys for USD (with a USD fee, which
both add to basis), sells for USD without fee, and fee-less transfers between wallets. RP2
keeps one pool per asset (marginbook's ``--scope universal``). Used by the differential test
and by ``benchmarks/tax_vs_rp2.py``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import NamedTuple

from marginbook.domain.events import EventKind, LedgerEvent


def _import_rp2_quietly() -> None:
    """Import RP2 from a scratch directory: on import it creates ``./log`` and opens a log
    file there, which would litter the repository; the file handler is then closed."""
    here = os.getcwd()
    scratch = tempfile.mkdtemp(prefix="rp2-")
    try:
        os.chdir(scratch)
        import_module("rp2.logger")
    finally:
        os.chdir(here)
    logger = logging.getLogger("rp2")
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)
            handler.close()
    shutil.rmtree(scratch, ignore_errors=True)


_import_rp2_quietly()

from prezzemolo.avl_tree import AVLTree  # noqa: E402
from rp2.accounting_engine import AccountingEngine  # noqa: E402
from rp2.configuration import MAX_DATE, MIN_DATE, Configuration  # noqa: E402
from rp2.in_transaction import InTransaction  # noqa: E402
from rp2.input_data import InputData  # noqa: E402
from rp2.intra_transaction import IntraTransaction  # noqa: E402
from rp2.out_transaction import OutTransaction  # noqa: E402
from rp2.plugin.country.us import US  # noqa: E402
from rp2.rp2_decimal import RP2Decimal  # noqa: E402
from rp2.tax_engine import compute_tax  # noqa: E402
from rp2.transaction_set import TransactionSet  # noqa: E402

_HEADERS = {
    "in_header": [
        "timestamp",
        "asset",
        "exchange",
        "holder",
        "transaction_type",
        "spot_price",
        "crypto_in",
        "crypto_fee",
        "fiat_in_no_fee",
        "fiat_in_with_fee",
        "fiat_fee",
        "unique_id",
        "notes",
    ],
    "out_header": [
        "timestamp",
        "asset",
        "exchange",
        "holder",
        "transaction_type",
        "spot_price",
        "crypto_out_no_fee",
        "crypto_fee",
        "crypto_out_with_fee",
        "fiat_out_no_fee",
        "fiat_fee",
        "unique_id",
        "notes",
    ],
    "intra_header": [
        "timestamp",
        "asset",
        "from_exchange",
        "from_holder",
        "to_exchange",
        "to_holder",
        "spot_price",
        "crypto_sent",
        "crypto_received",
        "unique_id",
        "notes",
    ],
}


class Rp2Match(NamedTuple):
    """One RP2 gain/loss entry: a disposal matched with one lot."""

    disposal_id: str
    acquisition_id: str
    quantity: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    long_term: bool


def _configuration(directory: Path, assets: Iterable[str], wallets: Iterable[str]) -> Configuration:
    lines = [
        "[general]",
        f"assets = {', '.join(sorted(assets))}",
        f"exchanges = {', '.join(sorted(wallets))}",
        "holders = me",
    ]
    for section, names in _HEADERS.items():
        lines.append(f"[{section}]")
        lines.extend(f"{name} = {index}" for index, name in enumerate(names))
    path = directory / "rp2.ini"
    path.write_text("\n".join(lines) + "\n")
    return Configuration(str(path), US())


def _d(value: Decimal) -> RP2Decimal:
    return RP2Decimal(str(value))


#: A field of an RP2 transaction: a text, a number, or nothing.
Rp2Field = str | Decimal | None


def rp2_entries(events: Sequence[LedgerEvent]) -> Iterator[tuple[str, int, dict[str, Rp2Field]]]:
    """Each event as RP2 takes it: its table (``IN``, ``OUT``, ``INTRA``), its row (the
    event's position, from 2 as in a spreadsheet) and its fields by RP2's column names, which
    are also its transaction classes' argument names (RP2's own spreadsheet reader relies on
    that). One translation for :func:`run_rp2` and for the workbook of ``tests/tax/rp2_ods.py``.

    Raises:
        ValueError: an event of a kind this translation does not cover.
    """
    for row, e in enumerate(events, start=2):
        common: dict[str, Rp2Field] = {"timestamp": e.timestamp.isoformat(), "asset": e.asset}
        if e.kind is EventKind.BUY:
            cost = e.counter_amount or Decimal(0)
            fee = e.fee_amount or Decimal(0)
            yield "IN", row, {
                **common, "exchange": e.wallet, "holder": "me", "transaction_type": "BUY",
                "spot_price": cost / e.amount, "crypto_in": e.amount, "crypto_fee": None,
                "fiat_in_no_fee": cost, "fiat_in_with_fee": cost + fee, "fiat_fee": fee,
                "unique_id": e.id, "notes": None,
            }  # fmt: skip
        elif e.kind is EventKind.SELL:
            proceeds = e.counter_amount or Decimal(0)
            yield "OUT", row, {
                **common, "exchange": e.wallet, "holder": "me", "transaction_type": "SELL",
                "spot_price": proceeds / e.amount, "crypto_out_no_fee": e.amount, "crypto_fee": Decimal(0),
                "crypto_out_with_fee": None, "fiat_out_no_fee": proceeds, "fiat_fee": Decimal(0),
                "unique_id": e.id, "notes": None,
            }  # fmt: skip
        elif e.kind is EventKind.TRANSFER:
            yield "INTRA", row, {
                **common, "from_exchange": e.wallet, "from_holder": "me", "to_exchange": e.to_wallet or "",
                "to_holder": "me", "spot_price": Decimal(1), "crypto_sent": e.amount,
                "crypto_received": e.amount, "unique_id": e.id, "notes": None,
            }  # fmt: skip
        else:
            raise ValueError(f"event {e.id}: {e.kind.value} has no RP2 translation here")


_CLASSES = {"IN": InTransaction, "OUT": OutTransaction, "INTRA": IntraTransaction}


def run_rp2(events: Sequence[LedgerEvent], method: str) -> list[Rp2Match]:
    """RP2's gain/loss entries for ``events`` with ``method`` (fifo, lifo, hifo)."""
    logging.getLogger("rp2").setLevel(logging.ERROR)
    assets = sorted({e.asset for e in events})
    wallets = {e.wallet for e in events} | {e.to_wallet for e in events if e.to_wallet}
    with tempfile.TemporaryDirectory() as directory:
        configuration = _configuration(Path(directory), assets, wallets)
    entries = list(rp2_entries(events))
    results: list[Rp2Match] = []
    for asset in assets:
        sets = {table: TransactionSet(configuration, table, asset, MIN_DATE, MAX_DATE) for table in _CLASSES}
        for table, row, fields in entries:
            if fields["asset"] != asset:
                continue
            arguments = {name: _d(value) if isinstance(value, Decimal) else value for name, value in fields.items()}
            sets[table].add_entry(_CLASSES[table](configuration, row=row, **arguments))
        in_set, out_set, intra_set = sets["IN"], sets["OUT"], sets["INTRA"]
        if not out_set.count:
            continue
        years = AVLTree[int, object]()
        years.insert_node(
            MIN_DATE.year, import_module(f"rp2.plugin.accounting_method.{method}").AccountingMethod()
        )
        computed = compute_tax(
            configuration, AccountingEngine(years), InputData(asset, in_set, out_set, intra_set)
        )
        for entry in computed.gain_loss_set:
            results.append(
                Rp2Match(
                    disposal_id=entry.taxable_event.unique_id,
                    acquisition_id=entry.acquired_lot.unique_id,
                    quantity=Decimal(str(entry.crypto_amount)),
                    proceeds=Decimal(str(entry.taxable_event_fiat_amount_with_fee_fraction)),
                    cost_basis=Decimal(str(entry.fiat_cost_basis)),
                    long_term=entry.is_long_term_capital_gains(),
                )
            )
    return results


def our_slices(
    events: Sequence[LedgerEvent], method: str
) -> tuple[list[tuple[str, str, Decimal, Decimal, Decimal, bool]], dict[str, tuple[Decimal, Decimal]]]:
    """marginbook's lot slices (exact USD shares) with their Form 8949 term, and per disposal
    the rounded proceeds and basis of its Form 8949 rows (universal scope, like RP2)."""
    from marginbook.tax.book import Scope
    from marginbook.tax.engine import RunOptions, run_engine
    from marginbook.tax.methods import Method
    from marginbook.tax.profile import Profile
    from marginbook.tax.report import build_reports

    profile = Profile()
    options = RunOptions(scope=Scope.UNIVERSAL, method=Method(method))
    result = run_engine(events, profile, None, options)
    terms: dict[tuple[str, str], bool] = {}
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    last_year = max(d.disposed_at.year for d in result.disposals)
    for report in build_reports(result, last_year, profile, options).values():
        for row in report.rows:
            for lot in row.lots:
                terms[(row.disposal_id, lot.acquisition_id)] = row.term.value == "long"
            proceeds, basis = totals.get(row.disposal_id, (Decimal(0), Decimal(0)))
            totals[row.disposal_id] = (proceeds + row.proceeds, basis + row.cost_basis)
    slices = []
    for disposal in result.disposals:
        for part in disposal.slices:
            share = disposal.proceeds * part.quantity / disposal.quantity
            slices.append(
                (
                    disposal.disposal_id,
                    part.acquisition_id,
                    part.quantity,
                    share,
                    part.basis,
                    terms[(disposal.disposal_id, part.acquisition_id)],
                )
            )
    return slices, totals


def differences(
    events: Sequence[LedgerEvent], method: str, theirs: list[Rp2Match] | None = None
) -> list[str]:
    """Every difference between marginbook and RP2 on ``events`` (empty when the rows agree):
    same disposal and lot per slice, quantity within 1e-8, USD within a cent, same term, and
    each disposal's Form 8949 rows within a cent of RP2's total."""
    usd, units = Decimal("0.01"), Decimal("0.00000001")
    slices, totals = our_slices(events, method)
    ours = sorted(slices, key=lambda s: (s[0], s[1]))
    rp2 = sorted(
        theirs if theirs is not None else run_rp2(events, method),
        key=lambda m: (m.disposal_id, m.acquisition_id),
    )
    problems = []
    if len(ours) != len(rp2):
        problems.append(f"{len(ours)} slices against RP2's {len(rp2)}")
    for mine, other in zip(ours, rp2, strict=False):
        disposal, acquisition, quantity, proceeds, basis, long_term = mine
        if (
            (disposal, acquisition) != (other.disposal_id, other.acquisition_id)
            or abs(quantity - other.quantity) > units
            or abs(proceeds - other.proceeds) > usd
            or abs(basis - other.cost_basis) > usd
            or long_term != other.long_term
        ):
            problems.append(f"{mine} != {other}")
    by_disposal: dict[str, tuple[Decimal, Decimal]] = {}
    for m in rp2:
        p, b = by_disposal.get(m.disposal_id, (Decimal(0), Decimal(0)))
        by_disposal[m.disposal_id] = (p + m.proceeds, b + m.cost_basis)
    for disposal_id, (proceeds, basis) in totals.items():
        p, b = by_disposal.get(disposal_id, (Decimal(0), Decimal(0)))
        if abs(proceeds - p) > usd or abs(basis - b) > usd:
            problems.append(f"8949 rows of {disposal_id}: {proceeds}/{basis} != RP2 {p}/{b}")
    return problems
