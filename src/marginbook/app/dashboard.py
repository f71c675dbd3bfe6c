"""The use cases behind the dashboard and ``marginbook portfolio``, with caches keyed on the ledger.

A :class:`Dashboard` holds the ledger store and the optional parts (prices, tax engine, risk
calculator, price bars, stored backtests). The web routes and the CLI call its methods and
render the answers; they never reach a part directly.

Caching: the portfolio's snapshot (the holdings fold and the tax engine's run that gives its
cost basis and realized P&L), the tax documents, the exports and the liquidation what-ifs depend
only on the ledger, which only grows (imports add events, never change them). They are cached
under the ledger's event count (the snapshot and the tax documents also in the ledger database,
:mod:`marginbook.app.result_cache`, so a restart reuses them) and recomputed when it changes.

Waiting: the slow parts are computed by one worker thread (:mod:`marginbook.app.background`).
With :attr:`Dashboard.answer_within` set (the web app), a caller waits that long at most and
then gets :class:`~marginbook.app.background.StillComputing` (a "computing…" page, or ``202``);
without it (the command line), the caller computes or waits until done. :meth:`Dashboard.warm`
queues the snapshot and the last full tax year at server start and after an import.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from marginbook.app import features, result_cache, tax_downloads, tax_views
from marginbook.app.background import StillComputing, Worker
from marginbook.app.candles import Candles, load_candles
from marginbook.app.features import AddOutcome, EventStore, FeatureUnavailable
from marginbook.app.holdings_fold import FoldResult, fold_events
from marginbook.app.liquidation_tax import LiquidationTax, position_liquidation_tax
from marginbook.app.portfolio import Portfolio, PriceLookup, build_portfolio, value_portfolio
from marginbook.app.position_views import PositionView, position_views
from marginbook.app.result_cache import ResultCache
from marginbook.domain.errors import InputError, InputProblem, MarginbookError
from marginbook.domain.events import LedgerEvent

TaxSource = Callable[[EventStore, int, Path | None], dict[str, Any]]
RiskSource = Callable[[dict[str, str]], dict[str, Any]]
#: ``(events in ledger order, at, profile path) -> (standing or None, why not)``: the portfolio's engine run.
StandingSource = Callable[[list[Any], datetime, Path | None], tuple[Any, str]]
_T = TypeVar("_T")
#: The job that folds the ledger and runs the tax engine for the portfolio.
SNAPSHOT_JOB = "snapshot"
#: Marks the worker thread while it runs a job: there, a figure is computed, not awaited.
_in_job = threading.local()


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
        cache: where results are kept across restarts (the ledger database), or ``None``.
        answer_within: how long a caller may wait for a figure the worker thread computes
            before :class:`StillComputing` is raised (the web's choice); ``None``: wait until
            it is done (the command line's).
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
    _snapshot: LedgerSnapshot | None = field(default=None, repr=False)
    _partial_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _partial: tuple[list[Any], FoldResult] | None = field(default=None, repr=False)
    _tax: dict[int, _TaxEntry] = field(default_factory=dict, repr=False)
    cache: ResultCache | None = None
    answer_within: float | None = None
    _worker: Worker = field(default_factory=Worker, repr=False)
    _failures: dict[str, tuple[int, MarginbookError]] = field(default_factory=dict, repr=False)
    _exports: dict[str, tuple[int, list[Path]]] = field(default_factory=dict, repr=False)
    _downloads: Path | None = field(default=None, repr=False)
    _liquidations: dict[int, tuple[int, LiquidationTax]] = field(default_factory=dict, repr=False)
    _backtest_docs: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = field(
        default_factory=dict, repr=False
    )

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
                at once and recompute in the background (the pages' choice: on a
                100,000-event ledger it takes seconds, and the page says its figures are being
                updated). Without it, the caller waits for the new snapshot.
            engine_may_follow: when nothing is cached for the ledger yet (the first view after
                start), return the fold as soon as it is done, with the engine's figures
                pending, rather than waiting for the engine too (the pages' choice: the engine
                takes tens of seconds on a 100,000-event ledger).

        Raises:
            StillComputing: with :attr:`answer_within` set, when the figures are not ready
                within it (they go on being computed in the background).
        """
        store = self.require_store()
        count = store.count()
        with self._lock:
            cached = self._snapshot
            if cached is not None and (cached.count == count or allow_stale):
                if cached.count != count:
                    self._refold_in_background()
                return cached
        wait = self._wait()
        if wait is None:
            return self._compute_snapshot(store)
        self._worker.schedule(SNAPSHOT_JOB, self._snapshot_job, urgent=True)

        def partial() -> FoldResult | None:
            held = self._partial
            return held[1] if held is not None and held[1].events >= count else None

        def ready() -> bool:
            done = self._snapshot
            if done is not None and done.count >= count:
                return True
            return self._failure(SNAPSHOT_JOB, count) is not None or (
                engine_may_follow and partial() is not None
            )

        self._worker.wait_for(ready, wait)
        done = self._snapshot
        if done is not None and done.count >= count:
            return done
        failure = self._failure(SNAPSHOT_JOB, count)
        if failure is not None:
            raise failure
        fold = partial() if engine_may_follow else None
        if fold is not None:
            # The first view: show the fold now; the engine's basis and gains follow.
            return LedgerSnapshot(fold.events, fold, None, "", engine_pending=True)
        if partial() is None:
            awaited = "holdings" if engine_may_follow else ""
            raise StillComputing(SNAPSHOT_JOB, "the holdings fold", ready=awaited)
        raise StillComputing(SNAPSHOT_JOB, "the tax engine's run for the portfolio")

    def _compute_snapshot(self, store: EventStore) -> LedgerSnapshot:
        """Fold and tax the ledger now in this thread (or take the stored result)."""
        with self._fold_lock:  # one computation at a time; a second caller finds it done
            count = store.count()
            with self._lock:
                if self._snapshot is not None and self._snapshot.count == count:
                    return self._snapshot
            mark = self.cache.ledger_mark() if self.cache is not None else (count, 0)
            key = result_cache.fingerprint(self.tax_profile, "snapshot", str(now().year))
            result = self._stored_snapshot(mark, key)
            if result is None:
                events, fold = self._fold_now(store)
                standing, problem = self.standing_source(events, now(), self.tax_profile)
                result = LedgerSnapshot(fold.events, fold, standing, problem)
                if self.cache is not None and fold.events == mark[0]:
                    self.cache.save(SNAPSHOT_JOB, mark, key, {
                        "fold": result_cache.fold_payload(fold),
                        "standing": None if standing is None else result_cache.standing_payload(standing),
                        "problem": problem,
                    })
            with self._lock:
                self._snapshot = result
            with self._partial_lock:
                self._partial = None
            self._worker.notify()
            return result

    def _stored_snapshot(self, mark: tuple[int, int], key: str) -> LedgerSnapshot | None:
        if self.cache is None:
            return None
        payload = self.cache.load(SNAPSHOT_JOB, mark, key)
        if payload is None:
            return None
        fold = result_cache.fold_from_payload(payload["fold"])
        stored = payload.get("standing")
        standing = None if stored is None else result_cache.standing_from_payload(stored)
        return LedgerSnapshot(fold.events, fold, standing, str(payload.get("problem", "")))

    def _snapshot_job(self) -> None:
        self._run_job(SNAPSHOT_JOB, lambda: self._compute_snapshot(self.require_store()))

    def _fold_now(self, store: EventStore) -> tuple[list[Any], FoldResult]:
        """Read and fold the ledger, or reuse the fold another thread has just made of it."""
        with self._partial_lock:
            count = store.count()
            if self._partial is not None and self._partial[1].events == count:
                return self._partial
            events = features.ledger_events_fast(store)
            fold = fold_events(events, prices=self.prices)
            self._partial = (events, fold)
        self._worker.notify()  # a page waiting for the fold alone can show it now
        return events, fold

    def _refold_in_background(self) -> None:
        """Queue a new snapshot (behind any job a person is waiting for)."""
        self._worker.schedule(SNAPSHOT_JOB, self._snapshot_job)

    def wait_for_refold(self, timeout: float | None = None) -> None:
        """Wait for the background work to finish (for tests and orderly shutdown)."""
        self._worker.join(timeout)

    def is_stale(self, portfolio: Portfolio) -> bool:
        """True when ``portfolio`` was folded from fewer events than the ledger now holds."""
        return self.store is not None and portfolio.events != self.store.count()

    def warm(self) -> None:
        """Queue the snapshot and the last full year's tax document (at start-up and after an
        import), so that the next Overview and Taxes views find them ready. Failures are kept
        for those views to show."""
        if self.store is None:
            return
        self._refold_in_background()
        year = now().year - 1
        name = f"tax:{year}"
        self._worker.schedule(name, lambda: self._run_job(name, lambda: self._tax_entry(year)))

    # -- background work ------------------------------------------------------------------
    def _wait(self) -> float | None:
        """How long this caller may wait for a figure: ``None`` (until done) in the worker
        thread and when :attr:`answer_within` is ``None``."""
        if getattr(_in_job, "active", False):
            return None
        return self.answer_within

    def _run_job(self, name: str, compute: Callable[[], object]) -> None:
        """Run ``compute`` as job ``name`` in the worker thread, keeping its failure for the
        callers waiting for it (a failure stays valid for the ledger size it was computed at)."""
        count = self.store.count() if self.store is not None else 0
        _in_job.active = True
        try:
            compute()
        except MarginbookError as error:
            with self._lock:
                self._failures[name] = (count, error)
        except Exception as error:  # shown to the waiting page, not lost in a thread
            with self._lock:
                self._failures[name] = (count, MarginbookError(f"{name} failed: {error!r}"))
        else:
            with self._lock:
                self._failures.pop(name, None)
        finally:
            _in_job.active = False

    def _failure(self, name: str, count: int) -> MarginbookError | None:
        with self._lock:
            failed = self._failures.get(name)
        return failed[1] if failed is not None and failed[0] == count else None

    def _awaited(
        self, name: str, what: str, count: int, get: Callable[[], _T | None], compute: Callable[[], _T]
    ) -> _T:
        """The result ``get()`` finds for ledger size ``count``; else compute it: now, in this
        thread, when this caller may block; else as job ``name``, waiting :attr:`answer_within`.

        Raises:
            StillComputing: not ready in time (the job goes on).
            MarginbookError: what the job raised for this ledger size.
        """

        def settled() -> _T | None:
            """The result when there is one; the job's failure raised; ``None`` while neither."""
            found = get()
            if found is not None:
                return found
            failure = self._failure(name, count)
            if failure is not None:
                raise failure
            return None

        found = settled()
        if found is not None:
            return found
        wait = self._wait()
        if wait is None:
            return compute()
        self._worker.schedule(name, lambda: self._run_job(name, compute), urgent=True)
        self._worker.wait_for(lambda: get() is not None or self._failure(name, count) is not None, wait)
        found = settled()
        if found is not None:
            return found
        raise StillComputing(name, what)

    def status(self) -> dict[str, Any]:
        """What is ready for the ledger as it is now, what failed and what is being computed
        (``/api/status``; the pages' "computing…" state polls it)."""
        count = self.event_count()
        ready: list[str] = []
        with self._lock:
            snap = self._snapshot
            partial = self._partial
            if snap is not None and snap.count == count:
                ready += ["holdings", SNAPSHOT_JOB]
            elif partial is not None and partial[1].events == count:
                ready.append("holdings")
            ready += [f"tax:{year}" for year, entry in sorted(self._tax.items()) if entry.count == count]
            ready += [name for name, (at, _) in sorted(self._exports.items()) if at == count]
            ready += [f"liquidation:{i}" for i, (at, _) in sorted(self._liquidations.items()) if at == count]
            failed = {name: str(error) for name, (at, error) in sorted(self._failures.items()) if at == count}
        return {"events": count, "ready": ready, "failed": failed, "jobs": self._worker.jobs()}

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
        store = self.require_store()
        count = store.count()
        name = f"liquidation:{index}"

        def cached() -> LiquidationTax | None:
            with self._lock:
                known = self._liquidations.get(index)
            return known[1] if known is not None and known[0] == count else None

        def compute() -> LiquidationTax:
            answer = position_liquidation_tax(
                store.events(),
                wallet=view.position.wallet,
                asset=view.position.risk_asset,
                quantity=view.quantity,
                price=price,
                profile_path=self.tax_profile,
            )
            with self._lock:
                self._liquidations[index] = (count, answer)
            self._worker.notify()
            return answer

        what = f"the tax engine's what-if for a liquidation of position {index}"
        return self._awaited(name, what, count, cached, compute)

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

        def cached() -> _TaxEntry | None:
            with self._lock:
                entry = self._tax.get(year)
            return entry if entry is not None and entry.count >= count else None

        what = f"the tax engine's run for {year}"
        return self._awaited(f"tax:{year}", what, count, cached, lambda: self._compute_tax(store, year))

    def _compute_tax(self, store: EventStore, year: int) -> _TaxEntry:
        with self._tax_lock:  # one engine run at a time: a caller waits for the running one's result
            count = store.count()
            with self._lock:
                cached = self._tax.get(year)
                if cached is not None and cached.count == count:
                    return cached
            name = f"tax:{year}"
            mark = self.cache.ledger_mark() if self.cache is not None else (count, 0)
            key = result_cache.fingerprint(self.tax_profile, name)
            document = self.cache.load(name, mark, key) if self.cache is not None else None
            if document is None:
                document = self.tax_source(store, year, self.tax_profile)
                if self.cache is not None and store.count() == mark[0]:
                    self.cache.save(name, mark, key, document)
            entry = _TaxEntry(mark[0], document, tax_views.rows(document), tax_views.choices(document))
            with self._lock:
                self._tax[year] = entry
            self._worker.notify()
            return entry

    def download(self, year: int, fmt: str) -> list[Path]:
        """The files of export ``fmt`` (``pdf``, ``csv``, ``txf``, ``turbotax``, ``json``) of
        ``year``, written on first request into a folder of this server's (not the user's
        export folder), and kept while the ledger does not change.

        Raises:
            StillComputing: not written yet (the worker is writing them; the tax year's
                document comes first).
            InputError: an unknown format.
        """
        if fmt not in tax_downloads.FORMATS:
            raise InputError(
                InputProblem("format", None, "format", f"expected one of {', '.join(tax_downloads.FORMATS)}")
            )
        store = self.require_store()
        count = store.count()
        name = f"export:{year}:{fmt}"

        def cached() -> list[Path] | None:
            with self._lock:
                written = self._exports.get(name)
            return written[1] if written is not None and written[0] >= count else None

        def compute() -> list[Path]:
            entry = self._tax_entry(year)
            folder = self._download_folder() / f"{year}-{fmt}-{entry.count}"
            paths = tax_downloads.write(fmt, entry.document, folder, self.tax_profile)
            with self._lock:
                previous = self._exports.get(name)
                self._exports[name] = (entry.count, paths)
            if previous is not None and previous[1] and previous[1][0].parent != folder:
                shutil.rmtree(previous[1][0].parent, ignore_errors=True)
            self._worker.notify()
            return paths

        what = f"the {tax_downloads.LABELS[fmt]} of {year}"
        return self._awaited(name, what, count, cached, compute)

    def _download_folder(self) -> Path:
        with self._lock:
            if self._downloads is None:
                self._downloads = Path(tempfile.mkdtemp(prefix="marginbook-downloads-"))
                atexit.register(shutil.rmtree, self._downloads, ignore_errors=True)
            return self._downloads

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
            document = self._backtest_document(path)
            if document is not None:
                runs.append(BacktestRun(path.stem, document))
        return runs

    def _backtest_document(self, path: Path) -> dict[str, Any] | None:
        """A stored run's document, parsed once per file version (with its equity curve, a run
        on hourly bars is megabytes of JSON: not worth reading on every page view)."""
        try:
            stat = path.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            with self._lock:
                known = self._backtest_docs.get(path)
            if known is not None and known[0] == version:
                return known[1]
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return None
        if not isinstance(document, dict):
            return None
        with self._lock:
            self._backtest_docs[path] = (version, document)
        return document


def _renamed(problem: InputProblem, temporary: str, source_name: str) -> InputProblem:
    source = source_name if problem.source in (temporary, "") else problem.source
    return InputProblem(source, problem.row, problem.field, problem.problem)


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)
