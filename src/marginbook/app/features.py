"""Adapters to parts that may not be installed yet, so a page can say "not available yet".

marginbook is built in parallel parts. The dashboard and the portfolio reach the ledger store,
the tax engine, the margin rules, the market prices and the backtest results only through the
functions here: each either returns the part's answer or raises :class:`FeatureUnavailable`
naming what is missing. Nothing here invents a number.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from marginbook.domain.errors import MarginbookError
from marginbook.domain.events import LedgerEvent


class FeatureUnavailable(MarginbookError):
    """A part of marginbook this feature needs is not installed (yet)."""

    def __init__(self, feature: str, detail: str) -> None:
        self.feature = feature
        self.detail = detail
        super().__init__(f"{feature} is not available yet: {detail}")


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """How many events an import added, and how many were already in the ledger."""

    added: int
    unchanged: int


class EventStore(Protocol):
    """The part of ``marginbook.ledger.store.LedgerStore`` the dashboard uses."""

    def add_events(self, events: list[LedgerEvent]) -> Any:
        """Add events in one transaction; returns an object with ``added`` and ``unchanged``."""
        ...

    def events(
        self,
        *,
        wallet: str | None = None,
        asset: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[LedgerEvent]:
        """The events in ledger order, filtered."""
        ...

    def count(self) -> int:
        """How many events the ledger holds."""
        ...


def optional_module(name: str, feature: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and name.startswith(error.name):
            raise FeatureUnavailable(feature, f"module {name} is not installed") from None
        raise


def open_ledger(db_url: str | None) -> EventStore:
    """Open the ledger store at ``db_url`` (``None``: the default SQLite file).

    Raises:
        FeatureUnavailable: when ``marginbook.ledger`` is not installed.
    """
    module = optional_module("marginbook.ledger", "the ledger store")
    store: EventStore = module.open_store(db_url)
    return store


def add_events(store: EventStore, events: list[LedgerEvent]) -> AddOutcome:
    """Add ``events`` in one transaction (a conflict raises ``InputError``; nothing is written)."""
    result = store.add_events(events)
    return AddOutcome(added=int(result.added), unchanged=int(result.unchanged))


def ledger_events_reader(store: EventStore, end: datetime | None = None) -> Iterable[Any]:
    """The events in ledger order (before ``end`` when given), read with the tax engine's light
    reader when the store is the SQL ledger (:func:`marginbook.app.stored_events.tax_events_from_store`,
    as ``marginbook tax``: the rows were validated on import, so building a full ``LedgerEvent``
    per row again is wasted time), else through ``store.events()``. The events have the fields
    of a ledger event, read-only."""
    if not hasattr(store, "engine"):
        return store.events() if end is None else store.events(end=end)
    from marginbook.app.stored_events import tax_events_from_store

    return tax_events_from_store(store, end)


def ledger_events_fast(store: EventStore) -> list[Any]:
    """Every event in ledger order, in a list (:func:`ledger_events_reader`)."""
    return list(ledger_events_reader(store))


class MarketPrices:
    """``(asset, at) -> Decimal | None`` over a market price source: a price the source does not
    have is ``None`` (the portfolio then uses the ledger's last price)."""

    def __init__(self, source: Any, missing: type[Exception]) -> None:
        self._source = source
        self._missing = missing

    def __call__(self, asset: str, at: datetime) -> Decimal | None:
        try:
            price: Decimal = self._source.usd_price(asset, at)
        except self._missing:
            return None
        return price

    def warm(self) -> None:
        """Read every price file now (the source reads a file on its first question, which
        costs the first page that values a holding a second or two on the bundled data)."""
        at = datetime.now(UTC)
        for asset in self._source.assets():
            self(asset, at)


def market_price_lookup() -> MarketPrices | None:
    """The look-up over the market's default price source, or ``None`` without the market
    package (then no look-up at all: the ledger's own prices)."""
    try:
        module = optional_module("marginbook.market.prices", "market prices")
    except FeatureUnavailable:
        return None
    from marginbook.domain.prices import MissingPriceError

    return MarketPrices(module.default_price_source(), MissingPriceError)


def tax_document(store: EventStore, year: int, profile_path: Path | None = None) -> dict[str, Any]:
    """The tax JSON document of ../shared/spec/cli.md for ``year``, from the tax engine.

    Uses the profile at ``profile_path`` (the defaults when ``None``), every event up to the
    end of the year, and the market's prices.

    Raises:
        FeatureUnavailable: when the tax engine is not installed.
        InputError, MarginbookError: what the tax engine raises (missing basis, a missing price).
    """
    module = optional_module("marginbook.app.tax_year", "the tax engine")
    document_module = optional_module("marginbook.tax.document", "the tax engine")
    report_module = optional_module("marginbook.tax.report", "the tax engine")
    profile_module = optional_module("marginbook.tax.profile_file", "the tax engine")
    profile = profile_module.load_profile(profile_path)
    events = ledger_events_reader(store, report_module.year_end(year, profile))
    report = module.tax_events(
        events, module.TaxRequest(year=year, profile_path=profile_path), profile=profile
    )
    document: dict[str, Any] = document_module.to_document(report)
    return document


def tax_standing(
    events: Iterable[Any], at: datetime, profile_path: Path | None = None, prices: Any = None
) -> tuple[Any, str]:
    """One tax engine run over ``events`` (in ledger order, up to ``at``) for the portfolio.

    The run is the Taxes page's run (the profile's lot method per year, the transition scope,
    the market's prices) ending just after ``at``, so the basis of the open lots and each
    year's realized gain are the forms' figures. Missing basis does not stop it (zero basis
    and a warning, as ``--allow-missing-basis``): a lot without basis shows as unknown.

    Returns:
        ``(standing, "")`` (a :class:`marginbook.tax.standing.Standing`), or ``(None, why)``
        when the engine is not installed or refuses the ledger (e.g. a missing price).
    """
    try:
        standing_module = optional_module("marginbook.tax.standing", "the tax engine")
        engine = optional_module("marginbook.tax.engine", "the tax engine")
        profile_module = optional_module("marginbook.tax.profile_file", "the tax engine")
        tax_year_module = optional_module("marginbook.app.tax_year", "the tax engine")
        profile = profile_module.load_profile(profile_path)
        options = engine.RunOptions(allow_missing_basis=True, end=at + timedelta(microseconds=1))
        standing = standing_module.run_standing(
            events,
            profile,
            prices if prices is not None else tax_year_module.default_prices(),
            options,
            standing_module.tax_year_of(at, profile),
        )
    except MarginbookError as error:
        return None, str(error)
    return standing, ""


def risk_figures(params: dict[str, str]) -> dict[str, Any]:
    """The ``marginbook risk --format json`` figures for ``params`` (flag names, ``_`` for ``-``).

    ``params`` holds ``venue``, ``side``, ``entry``, ``quantity``, ``leverage``, ``mode`` and
    optionally ``wallet_balance``, ``mmr``, ``maintenance_amount``, ``taker_fee``. The margin
    engine computes in floats (its calculator is a numeric kernel) and returns decimal strings.

    Raises:
        FeatureUnavailable: when the margin engine's calculator is not installed.
        InputError: for parameters the venue refuses (e.g. leverage above its cap).
    """
    venues = optional_module("marginbook.margin.venues", "the risk calculator")
    risk = optional_module("marginbook.margin.risk", "the risk calculator")

    def optional(name: str) -> float | None:
        return float(params[name]) if params.get(name) else None

    overrides = (optional("mmr"), optional("maintenance_amount"), optional("taker_fee"))
    profile = risk.with_flag_overrides(venues.profile(params["venue"]), *overrides)
    question = risk.RiskQuestion(
        venue=profile,
        side=1 if params["side"] == "long" else -1,
        entry=float(params["entry"]),
        quantity=float(params["quantity"]),
        leverage=float(params["leverage"]),
        mode=params.get("mode") or profile.default_mode,
        wallet_balance=optional("wallet_balance"),
    )
    figures: dict[str, Any] = risk.risk_json(risk.assess(question))
    return figures


def bundled_price_file(asset: str = "BTC") -> Path | None:
    """The bundled daily bars of ``asset`` against USDT (``marginbook/data/prices/ASSET-USDT_1d.csv``),
    else the first bundled daily file, else ``None``."""
    from importlib import resources

    root = Path(str(resources.files("marginbook").joinpath("data", "prices")))
    wanted = root / f"{asset.upper()}-USDT_1d.csv"
    if wanted.is_file():
        return wanted
    daily = sorted(root.glob("*_1d.csv")) if root.is_dir() else []
    return daily[0] if daily else None
