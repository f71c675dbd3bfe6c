"""The tax engine: a fold over the ledger's events that books lots and records disposals.

:func:`run_engine` applies each event, in ledger order, to a :class:`Fold` through a table
of handlers keyed by :class:`~marginbook.domain.events.EventKind` (see
:mod:`marginbook.tax.handlers`). The fold's state is the lot book (pools and holdings),
the open short sales, and the facts recorded so far: disposals with their lot slices,
income, gifts and donations, interest and fees. Forms are computed from those facts
afterwards (:mod:`marginbook.tax.report`), so the fold knows nothing of form lines.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from marginbook.domain.errors import MarginbookError
from marginbook.domain.numbers import ZERO, decimal_context, plain
from marginbook.domain.prices import PriceSource
from marginbook.tax.book import WALLET_RULES_START, AllocationRequest, AllocationRow, LotBook, Scope
from marginbook.tax.events import TaxEvent
from marginbook.tax.form8949 import BoxAmounts
from marginbook.tax.lots import Lot, Taken
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile
from marginbook.tax.records import Disposal, Expense, GiftItem, IncomeItem, LotSlice
from marginbook.tax.valuation import Valuer, describe


class MissingBasisError(MarginbookError):
    """A disposal found no lots (or lots of unknown basis) and missing basis is not allowed."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run the engine (the ``marginbook tax`` flags).

    Attributes:
        scope: universal, wallet, or transition (default).
        method: a method for every year of this run, overriding the profile.
        allow_missing_basis: zero basis and a warning instead of an error.
        allocation: an allocation file's lines for the 2025 switch, or ``None``.
        allocation_made_at: when that allocation was made, when known.
        end: process events strictly before this instant (the end of the tax year).
        summarize_before: the disposals of the tax years before this one are needed only as
            their rows' totals per box (the carryover chain of one year's report): the fast
            fold then keeps those totals (``EngineResult.box_totals``) instead of the records.
            The ``Decimal`` fold ignores it (the totals are made from the records later).
    """

    scope: Scope = Scope.TRANSITION
    method: Method | None = None
    allow_missing_basis: bool = False
    allocation: Sequence[AllocationRequest] | None = None
    allocation_made_at: datetime | None = None
    end: datetime | None = None
    summarize_before: int | None = None


@dataclass(slots=True)
class ShortSale:
    """An open short sale: borrowed units sold, waiting for a ``repay`` to deliver lots."""

    event_id: str
    sold_at: datetime
    wallet: str
    asset: str
    quantity: Decimal
    proceeds: Decimal
    seq: int


@dataclass(slots=True)
class EngineResult:
    """Everything the fold recorded, in event order (exact values).

    Attributes:
        disposals, income, gifts, expenses: the recorded facts, all years.
        warnings: run-level warnings.
        allocation: the 2025-01-01 allocation used (empty when the run did not cross it).
        open_lots: ``(wallet, lot)`` for every lot still open at the end.
        open_shorts: short sales not yet closed at the end.
        box_totals: per tax year whose disposals are not in ``disposals`` (see
            ``RunOptions.summarize_before``), the totals per Form 8949 box of their rows.
    """

    disposals: list[Disposal] = field(default_factory=list)
    income: list[IncomeItem] = field(default_factory=list)
    gifts: list[GiftItem] = field(default_factory=list)
    expenses: list[Expense] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    allocation: list[AllocationRow] = field(default_factory=list)
    open_lots: list[tuple[str, Lot]] = field(default_factory=list)
    open_shorts: list[ShortSale] = field(default_factory=list)
    box_totals: dict[int, list[BoxAmounts]] = field(default_factory=dict)


class Fold:
    """The engine's state while events are applied (one run, one ledger)."""

    def __init__(self, profile: Profile, prices: PriceSource | None, options: RunOptions) -> None:
        self.profile = profile
        self.options = options
        self.valuer = Valuer(prices, profile.stablecoins)
        self.zone = profile.zone()
        self.zone_is_utc = profile.timezone in ("UTC", "Etc/UTC")
        self.book = LotBook(per_wallet=options.scope is Scope.WALLET)
        self.result = EngineResult()
        self.dust = profile.dust
        self.borrowed: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self.short_positions: set[tuple[str, str]] = set()
        self.shorts: defaultdict[tuple[str, str], list[ShortSale]] = defaultdict(list)
        self.switched = options.scope is not Scope.TRANSITION
        self._identification: dict[tuple[int, Method], list[str]] = {}
        self._universal_2025 = 0
        self._methods: dict[int, Method] = {}
        self._universal = options.scope is Scope.UNIVERSAL

    # --- time --------------------------------------------------------------------------

    def tax_year(self, moment: datetime) -> int:
        """The tax year of an instant in the taxpayer's zone."""
        return moment.year if self.zone_is_utc else moment.astimezone(self.zone).year

    def switch_to_wallets(self) -> None:
        """Allocate the universal pools to wallets (once)."""
        from marginbook.tax.allocation import validate

        self.switched = True
        requests = self.options.allocation
        if requests:
            validate(requests, self.book, self.dust)
        rows, warnings = self.book.switch_to_wallets(requests)
        self.result.allocation = rows
        self.result.warnings.extend(warnings)

    # --- methods -----------------------------------------------------------------------

    def method_for(self, moment: datetime) -> Method:
        """The lot method of a disposal at ``moment``: ``--method``, else the year's, else FIFO."""
        if self.options.method is not None:
            return self.options.method
        year = self.tax_year(moment)
        method = self._methods.get(year)
        if method is None:
            method = self._methods[year] = self.profile.year(year).method or Method.FIFO
        return method

    def _identification_warning(self, event: TaxEvent, method: Method) -> str | None:
        if method is Method.FIFO or event.timestamp < WALLET_RULES_START:
            return None
        year = self.tax_year(event.timestamp)
        since = self.profile.year(year).method_since
        if since is not None and since <= event.timestamp:
            return None
        self._identification.setdefault((year, method), []).append(event.id)
        return (
            f"{method.value.upper()} used without a standing order recorded at or before this sale "
            f"(method_since); keep identification records"
        )

    # --- recording ---------------------------------------------------------------------

    def slices(
        self, event: TaxEvent, taken: Iterable[Taken], uncovered: Decimal, asset: str
    ) -> tuple[list[LotSlice], list[str]]:
        """Turn taken lots (and any uncovered units) into slices, applying the missing-basis rule.

        Raises:
            MissingBasisError: units without basis, unless the run allows missing basis.
        """
        result: list[LotSlice] = []
        warnings: list[str] = []
        for part in taken:
            lot = part.lot
            if lot.basis_missing:
                if not self.options.allow_missing_basis:
                    raise MissingBasisError(
                        f"event {describe(event)} disposes of {plain(part.quantity)} {asset} from "
                        f"{lot.acquisition_id!r}, which has no cost basis (give cost_basis_usd, or run "
                        "with --allow-missing-basis to use zero)"
                    )
                warnings.append(
                    f"missing basis: {plain(part.quantity)} {asset} of {lot.acquisition_id} at zero basis"
                )
            result.append(
                LotSlice(lot.acquisition_id, part.quantity, part.basis, lot.acquired_at, lot.basis_missing)
            )
        if uncovered > self.dust:
            if not self.options.allow_missing_basis:
                raise MissingBasisError(
                    f"event {describe(event)} disposes of {plain(uncovered)} {asset} more than the "
                    f"lots held in wallet {event.wallet!r} (missing basis: import the acquisitions, or "
                    "run with --allow-missing-basis to use zero)"
                )
            warnings.append(f"missing basis: {plain(uncovered)} {asset} had no lots; zero basis used")
            result.append(LotSlice("", uncovered, ZERO, None, True))
        return result, warnings

    def dispose(
        self,
        event: TaxEvent,
        asset: str,
        quantity: Decimal,
        proceeds: Decimal,
        kind: str,
        *,
        suffix: str = "",
        use_picks: bool = False,
        wallet: str | None = None,
    ) -> None:
        """Dispose of ``quantity`` ``asset`` for ``proceeds`` USD and record it.

        Args:
            event: the causing event.
            asset, quantity, proceeds: what was disposed of and the amount realized (net).
            kind: the disposal kind written on the record.
            suffix: appended to the event id to make the disposal id unique.
            use_picks: honour the event's ``lots`` (specific identification).
            wallet: the wallet (default: the event's).
        """
        wallet = wallet or event.wallet
        warnings: list[str] = []
        if use_picks and event.lots:
            picked = sum((pick.quantity for pick in event.lots), ZERO)
            if abs(picked - quantity) > self.dust:
                raise MissingBasisError(
                    f"event {describe(event)}: lots names {plain(picked)} {asset} but "
                    f"{plain(quantity)} are disposed of"
                )
            taken, missing = self.book.remove_specific(
                wallet, asset, [(pick.acquisition_id, pick.quantity) for pick in event.lots]
            )
            if missing:
                acquisition_id, short = missing[0]
                raise MissingBasisError(
                    f"event {describe(event)}: lots names {plain(short)} {asset} of {acquisition_id!r} "
                    f"more than is open in wallet {wallet!r}"
                )
            uncovered = ZERO
        else:
            method = self.method_for(event.timestamp)
            taken, uncovered = self.book.remove(wallet, asset, quantity, method)
            if method is not Method.FIFO:
                note = self._identification_warning(event, method)
                if note:
                    warnings.append(note)
        if self._universal and event.timestamp >= WALLET_RULES_START:
            self._universal_2025 += 1
        if uncovered == 0 and not any(part.lot.basis_missing for part in taken):
            # The common case, without the missing-basis checks of :meth:`slices`.
            slices = tuple(
                [
                    LotSlice(part.lot.acquisition_id, part.quantity, part.basis, part.lot.acquired_at, False)
                    for part in taken
                ]
            )
        else:
            found, more = self.slices(event, taken, uncovered, asset)
            slices = tuple(found)
            warnings.extend(more)
        self.result.disposals.append(
            Disposal(
                event.id + suffix,
                event.id,
                kind,
                event.timestamp,
                wallet,
                asset,
                quantity,
                proceeds,
                slices,
                None,
                True,
                tuple(warnings),
            )
        )

    def record(self, disposal: Disposal) -> None:
        """Append a disposal to the result."""
        self.result.disposals.append(disposal)

    def expense(self, event: TaxEvent, category: str, usd_amount: Decimal) -> None:
        """Record interest or a fee paid."""
        if usd_amount > 0:
            self.result.expenses.append(
                Expense(event.id, event.timestamp, event.wallet, category, usd_amount)
            )

    def finish(self) -> EngineResult:
        """Close the run: the 2025 switch if due, aggregated warnings, open lots and shorts."""
        end = self.options.end
        if not self.switched and end is not None and end > WALLET_RULES_START:
            self.switch_to_wallets()
        self.run_warnings()
        self.result.open_lots = list(self.book.open_lots())
        self.result.open_shorts = [s for shorts in self.shorts.values() for s in shorts if s.quantity > 0]
        return self.result

    def run_warnings(self) -> None:
        """Append the run-level warnings gathered while folding (identification, universal 2025)."""
        for (year, method), ids in sorted(self._identification.items()):
            self.result.warnings.append(
                f"{year}: {len(ids)} disposal(s) used {method.value.upper()} without a standing order "
                f"recorded at or before the sale (profile [year.{year}] method_since); from 2025 a non-FIFO "
                f"method needs identification records or a standing order (first: {ids[0]})"
            )
        if self._universal_2025:
            self.result.warnings.append(
                f"--scope universal: {self._universal_2025} disposal(s) on or after 2025-01-01 used one pool "
                "per asset; the 2025 rules (T.D. 10000) require basis per wallet or account"
            )


def run_engine(
    events: Iterable[TaxEvent],
    profile: Profile,
    prices: PriceSource | None = None,
    options: RunOptions | None = None,
) -> EngineResult:
    """Fold the ledger's events (in ledger order) into disposals, income, gifts and expenses.

    Args:
        events: the ledger's events in ``(timestamp, import order)`` order.
        profile: the taxpayer profile.
        prices: fair-market-value source for events without ``usd_value``.
        options: scope, method override, missing-basis policy, allocation, end of the run.

    Raises:
        MissingBasisError: a disposal without lots when missing basis is not allowed.
        MissingPriceError: a value is needed and no price is known.
        InputError: an invalid allocation file.
    """
    options = options or RunOptions()
    if isinstance(events, Iterator):
        events = list(events)  # the Decimal fold may need them again after the fast fold
    with gc_paused():
        from marginbook.tax.fast import fast_fold, worth_it

        if worth_it(events):
            result = fast_fold(events, profile, prices, options)
            if result is not None:
                return result
        return _fold(events, Fold(profile, prices, options), options.end)


def run_decimal_fold(
    events: Iterable[TaxEvent],
    profile: Profile,
    prices: PriceSource | None = None,
    options: RunOptions | None = None,
) -> EngineResult:
    """:func:`run_engine` by the ``Decimal`` fold alone (the reference the fast fold is tested against).

    :func:`run_engine` first tries the fast fold (:mod:`marginbook.tax.fast`), which gives
    the same result for the ledgers it supports and returns nothing for the others.
    """
    options = options or RunOptions()
    with gc_paused():
        return _fold(events, Fold(profile, prices, options), options.end)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block (restored as it was after).

    The fold and the reports create millions of small acyclic objects (lots, slices, heap
    entries, rows); the cyclic collector would rescan all of them again and again (a
    200,000-event ledger runs 2.5x slower with it), and nothing here forms a cycle.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _fold(events: Iterable[TaxEvent], fold: Fold, end: datetime | None) -> EngineResult:
    from marginbook.tax.handlers import HANDLERS
    from marginbook.tax.progress import counted

    with decimal_context():
        for event in counted(events, "folding events"):
            if end is not None and event.timestamp >= end:
                break
            if not fold.switched and event.timestamp >= WALLET_RULES_START:
                fold.switch_to_wallets()
            HANDLERS[event.kind](fold, event)
        return fold.finish()


__all__ = [
    "EngineResult",
    "Fold",
    "MissingBasisError",
    "RunOptions",
    "ShortSale",
    "gc_paused",
    "run_decimal_fold",
    "run_engine",
]
