"""Events → the lot operations of a run, as columns (the first step of the fast fold).

The handlers of :mod:`marginbook.tax.handlers` do two things per event: exact ``Decimal``
arithmetic on the event's own values (trade value, fee, basis, proceeds), and lot
bookkeeping (acquire, take by method, move between wallets). This module does the first
exactly as they do (the same functions, the same 60-digit context) and writes the second
down as a program of operations for :mod:`marginbook.tax.fast.kernel`, with quantities as
scaled integers per asset. What it does not know how to replay it refuses with
:class:`Unsupported`, and the caller runs the ``Decimal`` fold instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from marginbook.domain.events import EventKind
from marginbook.domain.numbers import ZERO
from marginbook.tax.book import WALLET_RULES_START, Scope, time_key
from marginbook.tax.engine import Fold
from marginbook.tax.events import TaxEvent
from marginbook.tax.flows import pnl_disposal
from marginbook.tax.methods import Method
from marginbook.tax.profile import Character, TransferFeeTreatment
from marginbook.tax.progress import counted
from marginbook.tax.records import Expense, IncomeItem
from marginbook.tax.trades import event_value, exchange_amounts, fee_value

#: Operation codes of the program (see :mod:`marginbook.tax.fast.kernel`).
ACQUIRE, TAKE, MOVE, HOLD, SWITCH = 0, 1, 2, 3, 4
#: Method codes of the kernel.
METHOD_CODES = {Method.FIFO: 0, Method.LIFO: 1, Method.HIFO: 2, Method.LOFO: 3}
#: Scaled quantities of one asset must add up below this (int64, with room to spare).
_LIMIT = 2**62

Int64Array = npt.NDArray[np.int64]


class Unsupported(Exception):
    """The run needs something the fast fold does not replay; the ``Decimal`` fold runs it."""


@dataclass(slots=True)
class Program:
    """The operations of a run and what the replay needs to turn their results into records.

    ``ops`` holds one tuple per operation: ``(code, wallet, wallet2, asset, quantity, key,
    acquisition, flag)`` (ids for wallets and assets; ``wallet2`` a transfer's destination;
    ``quantity`` exact until :meth:`finish` scales it; ``key`` the acquisition time key of a
    new lot; ``acquisition`` the index of its facts; ``flag`` its basis is missing).
    ``meta`` holds, per operation, what the replay does with its result (``None``: nothing);
    ``facts`` each acquisition's ``(id, time, basis, quantity)`` (the quantity is read only to
    rank lots by unit cost, HIFO/LOFO: a columnar run of another method leaves it ``ZERO``).
    ``kernel``: the kernel's result, when it was started before the records were built (the
    columnar encoder's).
    """

    ops: list[tuple[int, int, int, int, Decimal, int, int, int]] = field(default_factory=list)
    meta: list[tuple[object, ...] | None] = field(default_factory=list)
    facts: list[tuple[str, datetime, Decimal, Decimal]] = field(default_factory=list)
    wallets: dict[str, int] = field(default_factory=dict)
    assets: dict[str, int] = field(default_factory=dict)
    method: Method | None = None
    switched: bool = False
    # Filled by :meth:`finish`:
    scales: list[int] = field(default_factory=list)
    asset_of_op: list[int] = field(default_factory=list)
    arrays: dict[str, Int64Array] = field(default_factory=dict)
    kernel: Future[Any] | None = None

    def wallet_id(self, name: str) -> int:
        """The id of a wallet (new ids in order of first use)."""
        found = self.wallets.get(name)
        if found is None:
            found = self.wallets[name] = len(self.wallets)
        return found

    def asset_id(self, name: str) -> int:
        """The id of an asset (new ids in order of first use)."""
        found = self.assets.get(name)
        if found is None:
            found = self.assets[name] = len(self.assets)
        return found

    def emit(
        self,
        kind: int,
        wallet: int,
        asset: int,
        quantity: Decimal,
        meta: tuple[object, ...] | None,
        *,
        wallet2: int = -1,
        key: int = 0,
        acquisition: int = -1,
        flag: int = 0,
    ) -> None:
        """Append one operation."""
        self.ops.append((kind, wallet, wallet2, asset, quantity, key, acquisition, flag))
        self.meta.append(meta)

    def fact(self, acquisition_id: str, acquired_at: datetime, basis: Decimal, quantity: Decimal) -> int:
        """Record an acquisition's facts; returns their index."""
        self.facts.append((acquisition_id, acquired_at, basis, quantity))
        return len(self.facts) - 1

    def finish(self) -> None:
        """Scale the quantities to integers per asset and build the kernel's arrays.

        Each asset's scale is the finest decimal exponent its quantities use, so every
        quantity is an exact integer; an asset whose quantities would not fit in 64 bits
        makes the run :class:`Unsupported`.
        """
        columns: list[Any] = list(zip(*self.ops, strict=True)) if self.ops else [() for _ in range(8)]
        self.ops = []  # the columns hold them now (a million tuples of memory)
        kinds, wallets, wallets2, assets, quantities, keys, acquisitions, flags = columns
        scales = [0] * len(self.assets)
        for asset, quantity in zip(assets, quantities, strict=True):
            if asset >= 0:
                places = _places(quantity)
                if places > scales[asset]:
                    scales[asset] = places
        check_scales(scales)
        factor = [scales[a] if a >= 0 else 0 for a in assets]
        quantity_array = scaled_array([int(q.scaleb(f)) for q, f in zip(quantities, factor, strict=True)])
        asset_array = np.array(assets, dtype=np.int64)
        check_asset_totals(asset_array, quantity_array)
        self.scales = scales
        self.asset_of_op = list(assets)
        self.arrays = {
            "kind": np.array(kinds, dtype=np.int64),
            "wallet": np.array(wallets, dtype=np.int64),
            "wallet2": np.array(wallets2, dtype=np.int64),
            "asset": asset_array,
            "quantity": quantity_array,
            "key": np.array(keys, dtype=np.int64),
            "acquisition": np.array(acquisitions, dtype=np.int64),
            "flag": np.array(flags, dtype=np.int64),
        }


def check_scales(scales: list[int]) -> None:
    """Refuse an asset whose quantities are finer than the kernel's 18 decimal places."""
    if any(scale > 18 for scale in scales):
        raise Unsupported("quantities finer than 1e-18")


def scaled_array(values: list[int]) -> Int64Array:
    """Scaled quantities as the kernel's integers; any outside ``[0, 2**62)`` is unsupported
    (checked on the Python integers: a larger one would not even convert)."""
    if values and (max(values) >= _LIMIT or min(values) < 0):
        raise Unsupported("quantities too large for 64-bit scaled integers")
    return np.array(values, dtype=np.int64)


def check_asset_totals(assets: Int64Array, quantities: Int64Array) -> None:
    """Refuse a run whose quantities of one asset add up to more than the kernel's sums hold."""
    if len(quantities):
        sums = np.bincount(assets + 1, weights=quantities.astype(np.float64))
        if sums.max() >= _LIMIT / 2:
            raise Unsupported("quantities too large for 64-bit scaled integers")


def names_by_id(table: dict[str, int]) -> list[str]:
    """The names of a wallet or asset table, each at its id."""
    return sorted(table, key=table.__getitem__)


def _places(quantity: Decimal) -> int:
    """How many decimal places ``quantity`` is written with (its scale in the kernel)."""
    text = str(quantity)
    if "E" in text:
        exponent = quantity.as_tuple().exponent
        assert isinstance(exponent, int)
        return max(0, -exponent)
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


class Encoder:
    """Turns events into a :class:`Program`, mirroring each handler's effect.

    Args:
        fold: a fresh :class:`~marginbook.tax.engine.Fold` for the run (its valuer, profile,
            method per year and identification bookkeeping are reused, not its book).
    """

    def __init__(self, fold: Fold) -> None:
        self.fold = fold
        self.program = Program()
        self.profile = fold.profile
        self.per_wallet = fold.options.scope is Scope.WALLET
        self.universal = fold.options.scope is Scope.UNIVERSAL
        self.switched = fold.options.scope is not Scope.TRANSITION
        self.expenses = fold.result.expenses
        self.income = fold.result.income
        self.universal_2025 = 0
        self.disposals = 0
        self.gifts = 0

    # --- bookkeeping operations --------------------------------------------------------

    def method(self, moment: datetime) -> Method:
        """The run's method; a run whose years use different methods is unsupported."""
        method = self.fold.method_for(moment)
        current = self.program.method
        if current is None:
            self.program.method = method
        elif method is not current:
            raise Unsupported("different lot methods in different years")
        return method

    def acquire(
        self, wallet: str, asset: str, quantity: Decimal, basis: Decimal, at: datetime, acq_id: str,
        *, missing: bool = False,
    ) -> None:
        """A new lot (``LotBook.acquire``)."""
        if quantity <= 0:
            raise Unsupported("an acquisition of no units")
        program = self.program
        fact = program.fact(acq_id, at, basis, quantity)
        program.emit(
            ACQUIRE, program.wallet_id(wallet), program.asset_id(asset), quantity, None,
            key=time_key(at), acquisition=fact, flag=int(missing),
        )

    def take(
        self, event: TaxEvent, wallet: str, asset: str, quantity: Decimal, meta: tuple[object, ...]
    ) -> None:
        """Units leave a wallet by the year's method (``LotBook.remove``)."""
        if asset == "USD":
            raise Unsupported("a disposal of USD")
        self.method(event.timestamp)
        program = self.program
        program.emit(TAKE, program.wallet_id(wallet), program.asset_id(asset), quantity, meta)

    def dispose(
        self, event: TaxEvent, asset: str, quantity: Decimal, proceeds: Decimal, kind: str, suffix: str = ""
    ) -> None:
        """``Fold.dispose`` without picks: a take whose slices become a Disposal."""
        fold = self.fold
        method = self.method(event.timestamp)
        note = None
        if method is not Method.FIFO:
            note = fold._identification_warning(event, method)
        if self.universal and event.timestamp >= WALLET_RULES_START:
            self.universal_2025 += 1
        self.disposals += 1
        self.take(
            event, event.wallet, asset, quantity,
            ("d", event.id + suffix, event.id, kind, event.timestamp, event.wallet, asset, quantity, proceeds,
             (note,) if note else ()),
        )

    def expense(self, event: TaxEvent, category: str, amount: Decimal) -> None:
        """``Fold.expense``."""
        if amount > 0:
            self.expenses.append(Expense(event.id, event.timestamp, event.wallet, category, amount))

    def fee_units(self, event: TaxEvent, value: Decimal) -> None:
        """``dispose_fee_units``: a fee paid in crypto is a disposal at its value."""
        fee_asset, fee_amount = event.fee_asset, event.fee_amount
        if fee_asset is None or fee_amount is None or fee_amount == 0 or fee_asset == "USD":
            return
        self.dispose(event, fee_asset, fee_amount, value, "fee", ":fee")

    def side_fee(self, event: TaxEvent) -> None:
        """``side_fee``: the fee of a non-trade event."""
        if event.fee_amount is None and event.fee_asset is None:
            return
        value = fee_value(self.fold, event, None)
        if value == 0 and not event.fee_amount:
            return
        self.expense(event, "fee", value)
        self.fee_units(event, value)

    # --- the events --------------------------------------------------------------------

    def switch(self) -> None:
        """The 2025-01-01 allocation by the global rule (an allocation file is unsupported)."""
        if self.fold.options.allocation:
            raise Unsupported("an allocation file")
        self.switched = True
        self.per_wallet = True
        self.program.switched = True
        self.program.emit(SWITCH, -1, -1, ZERO, ("s",))

    def event(self, event: TaxEvent) -> None:
        """Encode one event (the handler of its kind)."""
        if event.lots:
            raise Unsupported("specific identification (lots)")
        kind = event.kind
        if kind is EventKind.BUY or kind is EventKind.SELL or kind is EventKind.LIQUIDATION:
            self.trade(event, kind)
        elif kind is EventKind.TRANSFER:
            self.transfer(event)
        elif kind is EventKind.DEPOSIT:
            if event.asset != "USD":
                missing = event.cost_basis_usd is None
                self.acquire(
                    event.wallet, event.asset, event.amount, event.cost_basis_usd or ZERO,
                    event.acquired_at or event.timestamp, event.id, missing=missing,
                )
            self.side_fee(event)
        elif kind is EventKind.WITHDRAWAL:
            if event.asset != "USD":
                self.take(event, event.wallet, event.asset, event.amount, ("w", event))
            self.side_fee(event)
        elif kind is EventKind.INCOME:
            value = event_value(self.fold, event)
            self.income.append(
                IncomeItem(event.id, event.timestamp, event.wallet, event.asset, event.amount, value,
                           "income", event.note or "")
            )
            if event.asset != "USD":
                self.acquire(event.wallet, event.asset, event.amount, value, event.timestamp, event.id)
            self.side_fee(event)
        elif kind is EventKind.FEE or kind is EventKind.INTEREST:
            value = event_value(self.fold, event)
            category = "fee" if kind is EventKind.FEE else "interest"
            self.expense(event, category, value)
            if event.asset != "USD":
                self.dispose(event, event.asset, event.amount, value, category)
            self.side_fee(event)
        elif kind is EventKind.SPEND:
            value = event_value(self.fold, event)
            fee = fee_value(self.fold, event, value)
            self.dispose(event, event.asset, event.amount, value - fee, "spend")
            self.fee_units(event, fee)
        elif kind is EventKind.GIFT or kind is EventKind.DONATION:
            value = event_value(self.fold, event)
            if event.asset != "USD":
                self.take(event, event.wallet, event.asset, event.amount, ("g", event, value))
            else:
                self.take_none_gift(event, value)
            self.gifts += 1
            self.side_fee(event)
        elif kind is EventKind.REALIZED_PNL:
            self.pnl(event, self.profile.realized_pnl, "realized_pnl")
        elif kind is EventKind.FUNDING:
            self.pnl(event, self.profile.funding, "funding")
        elif (kind is EventKind.BORROW or kind is EventKind.REPAY) and event.asset == "USD":
            self.side_fee(event)
        else:
            raise Unsupported(f"event kind {kind.value}")

    def pnl(self, event: TaxEvent, character: Character, kind: str) -> None:
        """``_pnl``: realized PnL or funding, a capital row (gain: proceeds; loss: basis) or ordinary.

        The capital row needs no lots: it is written as a no-op operation whose record the
        replay puts among the disposals in fold order.
        """
        usd = event.asset == "USD"
        value = event.amount if usd else event_value(self.fold, event)
        signed = value if event.amount >= 0 else -abs(value)
        if character is Character.CAPITAL and signed != 0:
            record = pnl_disposal(event, kind, signed)
            self.program.emit(TAKE, -1, -1, ZERO, ("D", record))
        elif signed > 0:
            self.income.append(
                IncomeItem(event.id, event.timestamp, event.wallet, event.asset, event.amount, signed, kind,
                           event.note or "")
            )
        else:
            self.expense(event, "ordinary_loss", -signed)
        if not usd:
            if signed > 0:
                self.acquire(event.wallet, event.asset, event.amount, signed, event.timestamp, event.id)
            elif signed < 0:
                self.dispose(event, event.asset, -event.amount, -signed, "payment", ":payment")
        self.side_fee(event)

    def take_none_gift(self, event: TaxEvent, value: Decimal) -> None:
        """A gift of USD: a record without lots (kept in order with the other gifts)."""
        self.program.emit(TAKE, -1, -1, ZERO, ("g", event, value))

    def trade(self, event: TaxEvent, kind: EventKind) -> None:
        """``on_buy`` / ``on_sell`` (``_exchange``); short sales need a borrow, unsupported."""
        if event.counter_asset is None or event.counter_amount is None:
            raise Unsupported("a trade without counter side")
        if kind is EventKind.BUY:
            given, given_qty = event.counter_asset, event.counter_amount
            received, received_qty = event.asset, event.amount
            label, suffix = "buy", ":counter"
        else:
            given, given_qty = event.asset, event.amount
            received, received_qty = event.counter_asset, event.counter_amount
            label, suffix = kind.value, ""
        amounts = exchange_amounts(self.fold, event, given, label)
        if given != "USD":
            if amounts.fee_is_interest:
                self.expense(event, "interest", amounts.fee)
            if given_qty > 0 or kind is EventKind.BUY:
                self.dispose(event, given, given_qty, amounts.proceeds, label, suffix)
        if received != "USD" and received_qty > 0:
            self.acquire(event.wallet, received, received_qty, amounts.basis, event.timestamp, event.id)
        if event.fee_amount:
            self.fee_units(event, amounts.fee)

    def transfer(self, event: TaxEvent) -> None:
        """``on_transfer``: lots move with their facts (per wallet) or only the holdings."""
        to_wallet = event.to_wallet
        assert to_wallet is not None
        asset = event.asset
        program = self.program
        if asset != "USD":
            if self.per_wallet:
                self.method(event.timestamp)
                fact = program.fact(event.id, event.timestamp, ZERO, event.amount)
                program.emit(
                    MOVE, program.wallet_id(event.wallet), program.asset_id(asset), event.amount, None,
                    wallet2=program.wallet_id(to_wallet), key=time_key(event.timestamp), acquisition=fact,
                )
            else:
                program.emit(
                    HOLD, program.wallet_id(event.wallet), program.asset_id(asset), event.amount, None,
                    wallet2=program.wallet_id(to_wallet),
                )
        if self.profile.transfer_fee is TransferFeeTreatment.DISPOSAL:
            self.side_fee(event)
        elif event.fee_asset and event.fee_amount and event.fee_asset != "USD":
            self.take(event, event.wallet, event.fee_asset, event.fee_amount, ("r",))


def encode(events: Iterable[TaxEvent], fold: Fold) -> tuple[Program, Encoder]:
    """The program of a run (events in ledger order, those at or after ``end`` ignored).

    Events that can be read as columns (a ``columns()`` method returning
    :class:`~marginbook.tax.fast.columnar.EventColumns`, the SQLite ledger's) are encoded by
    :func:`~marginbook.tax.fast.columnar.encode_columns` when it applies. Otherwise the
    commonest events (a buy or sale against USD with any USD fee, a transfer without
    fee) are encoded inline here; every other event by :meth:`Encoder.event`, which mirrors
    its handler. Both write the same operations.

    Raises:
        Unsupported: the run needs the ``Decimal`` fold.
    """
    columns = getattr(events, "columns", None)
    source = columns() if callable(columns) else None
    if source is not None:
        from marginbook.tax.fast.columnar import encode_columns

        encoded = encode_columns(source, fold)
        if encoded is not None:
            return encoded
    encoder = Encoder(fold)
    program = encoder.program
    end = fold.options.end
    fixed = fold.options.method
    if fixed is not None:
        program.method = fixed
    ops = program.ops.append
    metas = program.meta.append
    facts = program.facts.append
    wallets = program.wallets
    assets = program.assets
    universal = encoder.universal
    buy, sell, transfer = EventKind.BUY, EventKind.SELL, EventKind.TRANSFER
    fifo = Method.FIFO
    zero = ZERO
    for event in counted(events, "encoding events"):
        moment = event.timestamp
        if end is not None and moment >= end:
            break
        if not encoder.switched and moment >= WALLET_RULES_START:
            encoder.switch()
        kind = event.kind
        fee_asset = event.fee_asset
        if (
            (kind is buy or kind is sell)
            and event.counter_asset == "USD"
            and event.usd_value is None
            and (fee_asset is None or fee_asset == "USD")
            and not event.lots
        ):
            asset = event.asset
            amount = event.amount
            value = event.counter_amount
            if asset == "USD" or value is None or amount <= 0:
                encoder.event(event)
                continue
            fee = event.fee_amount
            if fee_asset is None or not fee:
                fee = zero
            wallet = event.wallet
            w = wallets.get(wallet)
            if w is None:
                w = program.wallet_id(wallet)
            a = assets.get(asset)
            if a is None:
                a = program.asset_id(asset)
            if kind is buy:
                facts((event.id, moment, value + fee, amount))
                ops((ACQUIRE, w, -1, a, amount, time_key(moment), len(program.facts) - 1, 0))
                metas(None)
            else:
                method = fixed if fixed is not None else encoder.method(moment)
                note = fold._identification_warning(event, method) if method is not fifo else None
                if universal and moment >= WALLET_RULES_START:
                    encoder.universal_2025 += 1
                ops((TAKE, w, -1, a, amount, 0, -1, 0))
                event_id = event.id
                metas(
                    ("d", event_id, event_id, "sell", moment, wallet, asset, amount, value - fee,
                     (note,) if note else ())
                )
        elif (
            kind is transfer
            and fee_asset is None
            and event.fee_amount is None
            and not event.lots
            and event.asset != "USD"
            and not encoder.per_wallet
        ):
            ops((HOLD, program.wallet_id(event.wallet), program.wallet_id(event.to_wallet or ""),
                 program.asset_id(event.asset), event.amount, 0, -1, 0))
            metas(None)
        else:
            encoder.event(event)
    if not encoder.switched and end is not None and end > WALLET_RULES_START:
        encoder.switch()
    if program.switched and program.method in (Method.HIFO, Method.LOFO):
        raise Unsupported("HIFO/LOFO across the 2025 allocation (unit costs of split lots)")
    program.finish()
    return program, encoder
