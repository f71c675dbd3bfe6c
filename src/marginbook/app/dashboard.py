"""The use cases behind the dashboard and ``marginbook portfolio``, with caches keyed on the ledger.

A :class:`Dashboard` holds the ledger store and the optional parts (prices, tax engine, risk
calculator, price bars, stored backtests). The web routes and the CLI call its methods and
render the answers; they never reach a part directly.

Caching: the portfolio's snapshot (the holdings fold and the tax engine's run that gives its
cost basis and realized P&L) and the tax document depend only on the ledger, which only grows
(imports add events, never change them). Both are therefore cached under the ledger's event
count and recomputed when an import changes it; :meth:`Dashboard.warm` computes both (the
snapshot and the last full tax year) in the background at server start and after an import,
so that a page seldom waits for them.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from marginbook.app import features, tax_views
from marginbook.app.candles import Candles, load_candles
from marginbook.app.features import AddOutcome, EventStore, FeatureUnavailable
from marginbook.app.holdings_fold import FoldResult, fold_events
from marginbook.app.liquidation_tax import LiquidationTax, position_liquidation_tax
from marginbook.app.portfolio import Portfolio, PriceLookup, build_portfolio, value_portfolio
from marginbook.app.position_views import PositionView, position_views
from marginbook.domain.errors import InputError, InputProblem, MarginbookError
from marginbook.domain.events import LedgerEvent

TaxSource = Callable[[EventStore, int, Path | None], dict[str, Any]]
RiskSource = Callable[[dict[str, str]], dict[str, Any]]
#: ``(events in ledger order, at, profile path) -> (standing or None, why not)``: the portfolio's engine run.
StandingSource = Callable[[list[Any], datetime, Path | None], tuple[Any, str]]


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The ledger folded once for the portfolio, for one ledger size.

    Attributes:
        count: the ledger's event count when it was read.
        fold: units, loans, interest and prices (:func:`marginbook.app.holdings_fold.fold_events`).
        standing: the tax engine's run over the same events (basis held, realized per year),
            or ``None`` when it could not run.
        engine_problem: why ``standing`` is ``None``.
        engine_pending: ``standing`` is ``None`` because the engine is still running (a page's
            first view right after start: the fold is shown, basis and gains follow).
    """

    count: int
    fold: FoldResult
    standing: Any
    engine_problem: str
    engine_pending: bool = False


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """One stored backtest result (the JSON of ``marginbook backtest --format json``)."""

    name: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _TaxEntry:
    """A year's tax document and what the Taxes page derives from it, for one ledger size."""

    count: int
    document: dict[str, Any]
    rows: list[dict[str, Any]]
    choices: dict[str, list[str]]


@dataclass
class Dashboard:
    """The dashboard's use cases over one ledger.

    Attributes:
        store: the ledger store, or ``None`` when it could not be opened.
        store_problem: why there is no store (shown on every page that needs it).
        prices: market price look-up, or ``None`` (ledger prices only).
        tax_source: builds the tax JSON document of a year (default: the tax engine).
        risk_source: computes the ``risk`` figures (default: the margin engine).
        price_file: OHLCV CSV for the charts (default: the bundled data).
        backtest_dir: folder of stored backtest JSON documents.
        export_dir: folder of tax exports to offer for download.
        tax_profile: the tax profile TOML (``marginbook tax --profile``); ``None``: defaults.
    """

    store: EventStore | None
    store_problem: str = ""
    prices: PriceLookup | None = None
    tax_source: TaxSource = features.tax_document
    risk_source: RiskSource = features.risk_figures
    price_file: Path | None = None
    backtest_dir: Path | None = None
    export_dir: Path | None = None
    tax_profile: Path | None = None
    standing_source: StandingSource = features.tax_standing
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _fold_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tax_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _refold: threading.Thread | None = field(default=None, repr=False)
    _snapshot: LedgerSnapshot | None = field(default=None, repr=False)
    _partial_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _partial: tuple[list[Any], FoldResult] | None = field(default=None, repr=False)
    _tax: dict[int, _TaxEntry] = field(default_factory=dict, repr=False)

    # -- ledger ---------------------------------------------------------------------------
    def require_store(self) -> EventStore:
        """The store, or :class:`FeatureUnavailable` explaining why there is none."""
        if self.store is None:
            raise FeatureUnavailable("the ledger", self.store_problem or "no ledger store is configured")
        return self.store

    def event_count(self) -> int:
        """How many events the ledger holds."""
        return self.require_store().count()

    def folded(self, *, allow_stale: bool = False) -> FoldResult:
        """The ledger's holdings fold (see :meth:`snapshot`)."""
        return self.snapshot(allow_stale=allow_stale).fold

    def snapshot(self, *, allow_stale: bool = False, engine_may_follow: bool = False) -> LedgerSnapshot:
        """The ledger folded and run through the tax engine (cached under its event count).

        Args:
            allow_stale: when the ledger has grown since the cached snapshot, return that one
                at once and recompute in a background thread (the pages' choice: on a
                100,000-event ledger it takes seconds, and the page says its figures are being
                updated). Without it, the caller waits for the new snapshot.
            engine_may_follow: with ``allow_stale``, when nothing is cached yet (the first view
                after start), return the fold at once with the engine's figures pending, and
                let the background thread run the engine (the pages' choice: the engine takes
                tens of seconds on a 100,000-event ledger; the API waits instead).
        """
        store = self.require_store()
        count = store.count()
        with self._lock:
            cached = self._snapshot
            if cached is not None and (cached.count == count or allow_stale):
                if cached.count != count:
                    self._refold_in_background()
                return cached
            if cached is None and allow_stale and engine_may_follow:
                self._refold_in_background()
        if cached is None and allow_stale and engine_may_follow:
            # The first view: show the fold now; the engine's basis and gains follow (the warm
            # thread runs the engine and fills the cache).
            _, fold = self._fold_now(store)
            return LedgerSnapshot(fold.events, fold, None, "", engine_pending=True)
        with self._fold_lock:  # one computation at a time; a second caller finds it done
            with self._lock:
                if self._snapshot is not None and self._snapshot.count == count:
                    return self._snapshot
            events, fold = self._fold_now(store)
            standing, problem = self.standing_source(events, now(), self.tax_profile)
            result = LedgerSnapshot(fold.events, fold, standing, problem)
            with self._lock:
                self._snapshot = result
            with self._partial_lock:
                self._partial = None
            return result

    def _fold_now(self, store: EventStore) -> tuple[list[Any], FoldResult]:
        """Read and fold the ledger, or reuse the fold another thread has just made of it."""
        with self._partial_lock:
            count = store.count()
            if self._partial is not None and self._partial[1].events == count:
                return self._partial
            events = features.ledger_events_fast(store)
            fold = fold_events(events, prices=self.prices)
            self._partial = (events, fold)
            return events, fold

    def _refold_in_background(self) -> None:
        """Start one background refold (the caller holds ``_lock``)."""
        if self._refold is not None and self._refold.is_alive():
            return
        self._refold = threading.Thread(target=self.warm, name="marginbook-refold", daemon=True)
        self._refold.start()

    def wait_for_refold(self, timeout: float | None = None) -> None:
        """Wait for a background refold to finish (for tests and orderly shutdown)."""
        thread = self._refold
        if thread is not None:
            thread.join(timeout)

    def is_stale(self, portfolio: Portfolio) -> bool:
        """True when ``portfolio`` was folded from fewer events than the ledger now holds."""
        return self.store is not None and portfolio.events != self.store.count()

    def warm(self) -> None:
        """Compute the snapshot and the last full year's tax document now (in a background
        thread at start-up and after an import), so that the next Overview and Taxes views find
        the caches filled. Failures are left for those views to show."""
        with contextlib.suppress(MarginbookError):
            self.snapshot()
        with contextlib.suppress(MarginbookError):
            self._tax_entry(now().year - 1)

    def portfolio(
        self, at: datetime | None = None, *, allow_stale: bool = False, engine_may_follow: bool = False
    ) -> Portfolio:
        """The valued portfolio now (cached snapshot; see :meth:`snapshot` for the flags),
        or at ``at`` (folded and taxed afresh up to then)."""
        if at is None:
            snap = self.snapshot(allow_stale=allow_stale, engine_may_follow=engine_may_follow)
            return value_portfolio(
                snap.fold,
                snap.standing,
                prices=self.prices,
                engine_problem=snap.engine_problem,
                engine_pending=snap.engine_pending,
            )
        return build_portfolio(
            self.require_store().events(), at=at, prices=self.prices, profile_path=self.tax_profile
        )

    def events(
        self,
        *,
        wallet: str | None = None,
        asset: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[LedgerEvent]:
        """A page of the ledger's events in ledger order."""
        selected = self.require_store().events(wallet=wallet, asset=asset, start=start, end=end)
        return list(islice(selected, offset, offset + limit))

    def import_upload(
        self, path: Path, *, source_name: str, format_name: str = "auto", wallet: str | None = None
    ) -> AddOutcome:
        """Import an uploaded file (saved at ``path``) in one transaction.

        Problems name ``source_name`` (the file name the user chose), not the temporary file.

        Raises:
            InputError: every problem found; nothing was written.
        """
        from marginbook.importers.registry import read_events

        store = self.require_store()
        try:
            read = read_events(path, format_name=format_name, wallet=wallet or None)
        except InputError as error:
            raise InputError(
                [_renamed(problem, str(path), source_name) for problem in error.problems]
            ) from None
        except (UnicodeDecodeError, ValueError) as error:
            raise InputError(InputProblem(source_name, None, "", f"cannot read the file: {error}")) from None
        if not read:
            raise InputError(InputProblem(source_name, None, "", "the file holds no events"))
        return features.add_events(store, read)

    def position_views(self) -> list[PositionView]:
        """The open positions with their chart lines (fresh fold)."""
        return position_views(self.folded(), self.portfolio())

    def liquidation_tax(self, index: int) -> LiquidationTax:
        """Ask the tax engine what a liquidation of open position ``index`` would realize.

        Raises:
            LookupError: no such position.
            InputError: a position without a liquidation price (a short, or one that cannot
                be liquidated by its price alone).
        """
        views = self.position_views()
        if not 0 <= index < len(views):
            raise LookupError(f"no open position {index}")
        view = views[index]
        price = view.position.liquidation_price
        if view.position.side != "long" or price is None:
            raise InputError(
                InputProblem("position", None, "", "only a long with a liquidation price can be asked")
            )
        return position_liquidation_tax(
            self.require_store().events(),
            wallet=view.position.wallet,
            asset=view.position.risk_asset,
            quantity=view.quantity,
            price=price,
            profile_path=self.tax_profile,
        )

    # -- tax ------------------------------------------------------------------------------
    def tax(self, year: int) -> dict[str, Any]:
        """The tax JSON document of ``year`` (cached per ledger size)."""
        return self._tax_entry(year).document

    def tax_rows(self, year: int) -> list[dict[str, Any]]:
        """The document's Form 8949 rows, each with its ``row_key`` (cached with the document)."""
        return self._tax_entry(year).rows

    def tax_choices(self, year: int) -> dict[str, list[str]]:
        """The wallets, assets and terms of the year's rows (cached with the document)."""
        return self._tax_entry(year).choices

    def _tax_entry(self, year: int) -> _TaxEntry:
        store = self.require_store()
        count = store.count()
        with self._lock:
            cached = self._tax.get(year)
            if cached is not None and cached.count == count:
                return cached
        with self._tax_lock:  # one engine run at a time: a page waits for the warming run's result
            with self._lock:
                cached = self._tax.get(year)
                if cached is not None and cached.count == count:
                    return cached
            document = self.tax_source(store, year, self.tax_profile)
            entry = _TaxEntry(count, document, tax_views.rows(document), tax_views.choices(document))
            with self._lock:
                self._tax[year] = entry
            return entry

    def exports(self, year: int) -> list[Path]:
        """Tax export files of ``year`` in the export folder (names containing the year)."""
        if self.export_dir is None or not self.export_dir.is_dir():
            return []
        return sorted(path for path in self.export_dir.iterdir() if path.is_file() and str(year) in path.name)

    # -- market ---------------------------------------------------------------------------
    def candles(self, bars: int = 180, asset: str = "BTC") -> Candles:
        """The last ``bars`` price bars of ``asset`` with indicators: the configured price file,
        else the bundled daily bars of that asset.

        Raises:
            FeatureUnavailable: when no price file is configured or bundled.
        """
        path = self.price_file or features.bundled_price_file(asset)
        if path is None or not path.exists():
            raise FeatureUnavailable("price charts", "no price file is configured (serve --prices FILE)")
        return load_candles(path).tail(bars)

    def risk(self, params: dict[str, str]) -> dict[str, Any]:
        """The pre-trade risk figures (the ``marginbook risk`` calculation)."""
        return self.risk_source(params)

    # -- backtests ------------------------------------------------------------------------
    def backtests(self) -> list[BacktestRun]:
        """Stored backtest results, by file name.

        Raises:
            FeatureUnavailable: when no backtest folder is configured.
        """
        if self.backtest_dir is None or not self.backtest_dir.is_dir():
            raise FeatureUnavailable("backtests", "no stored backtest results (serve --backtests DIR)")
        runs = []
        for path in sorted(self.backtest_dir.glob("*.json")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(document, dict):
                runs.append(BacktestRun(path.stem, document))
        return runs


def _renamed(problem: InputProblem, temporary: str, source_name: str) -> InputProblem:
    source = source_name if problem.source in (temporary, "") else problem.source
    return InputProblem(source, problem.row, problem.field, problem.problem)


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)
