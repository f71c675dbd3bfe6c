"""Run RP2 (PyPI ``rp2``, an independent US crypto tax calculator) on marginbook events.

Only what both tools model the same way is translated: buys for USD (with a USD fee, which
both add to basis), sells for USD without fee, and fee-less transfers between wallets. RP2
keeps one pool per asset (marginbook's ``--scope universal``). Used by the differential test
and by ``benchmarks/tax_vs_rp2.py``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module
from pathlib import Path

from prezzemolo.avl_tree import AVLTree
from rp2.accounting_engine import AccountingEngine
from rp2.configuration import MAX_DATE, MIN_DATE, Configuration
from rp2.in_transaction import InTransaction
from rp2.input_data import InputData
from rp2.intra_transaction import IntraTransaction
from rp2.out_transaction import OutTransaction
from rp2.plugin.country.us import US
from rp2.rp2_decimal import RP2Decimal
from rp2.tax_engine import compute_tax
from rp2.transaction_set import TransactionSet

from marginbook.domain.events import EventKind, LedgerEvent

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


@dataclass(frozen=True, slots=True)
class Rp2Match:
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


def run_rp2(events: Sequence[LedgerEvent], method: str) -> list[Rp2Match]:
    """RP2's gain/loss entries for ``events`` with ``method`` (fifo, lifo, hifo)."""
    logging.getLogger("rp2").setLevel(logging.ERROR)
    assets = sorted({e.asset for e in events})
    wallets = {e.wallet for e in events} | {e.to_wallet for e in events if e.to_wallet}
    with tempfile.TemporaryDirectory() as directory:
        configuration = _configuration(Path(directory), assets, wallets)
    results: list[Rp2Match] = []
    for asset in assets:
        in_set = TransactionSet(configuration, "IN", asset, MIN_DATE, MAX_DATE)
        out_set = TransactionSet(configuration, "OUT", asset, MIN_DATE, MAX_DATE)
        intra_set = TransactionSet(configuration, "INTRA", asset, MIN_DATE, MAX_DATE)
        for row, e in enumerate(events, start=2):
            if e.asset != asset:
                continue
            stamp = e.timestamp.isoformat()
            if e.kind is EventKind.BUY:
                cost = e.counter_amount or Decimal(0)
                fee = e.fee_amount or Decimal(0)
                in_set.add_entry(
                    InTransaction(
                        configuration,
                        stamp,
                        asset,
                        e.wallet,
                        "me",
                        "BUY",
                        _d(cost / e.amount),
                        _d(e.amount),
                        crypto_fee=None,
                        fiat_in_no_fee=_d(cost),
                        fiat_in_with_fee=_d(cost + fee),
                        fiat_fee=_d(fee),
                        row=row,
                        unique_id=e.id,
                    )
                )
            elif e.kind is EventKind.SELL:
                proceeds = e.counter_amount or Decimal(0)
                out_set.add_entry(
                    OutTransaction(
                        configuration,
                        stamp,
                        asset,
                        e.wallet,
                        "me",
                        "SELL",
                        _d(proceeds / e.amount),
                        _d(e.amount),
                        RP2Decimal(0),
                        fiat_out_no_fee=_d(proceeds),
                        fiat_fee=RP2Decimal(0),
                        row=row,
                        unique_id=e.id,
                    )
                )
            elif e.kind is EventKind.TRANSFER:
                intra_set.add_entry(
                    IntraTransaction(
                        configuration,
                        stamp,
                        asset,
                        e.wallet,
                        "me",
                        e.to_wallet or "",
                        "me",
                        RP2Decimal(1),
                        _d(e.amount),
                        _d(e.amount),
                        row=row,
                        unique_id=e.id,
                    )
                )
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
