"""Use case: tax a year — load the ledger up to the end of the year, price it, compute forms.

Joins the ledger store (or ledger CSV files), the market's price data, the profile and the
tax engine; the command line and the web call these functions and only render the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from marginbook.domain.events import LedgerEvent
from marginbook.domain.prices import MissingPriceError, PriceSource
from marginbook.tax.book import Scope
from marginbook.tax.engine import RunOptions
from marginbook.tax.events import TaxEvent
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile
from marginbook.tax.profile_file import load_profile
from marginbook.tax.report import TaxReport, compute_tax_report, year_end


@dataclass(frozen=True, slots=True)
class TaxRequest:
    """What to compute (the ``marginbook tax`` flags).

    Attributes:
        year: the tax year.
        method: ``--method`` (every year of this run), or ``None`` for the profile's.
        scope: ``--scope``.
        profile_path: ``--profile``, or ``None`` for the defaults.
        allocation_path: ``--allocation``, a Rev. Proc. 2024-28 allocation file.
        allow_missing_basis: ``--allow-missing-basis``.
    """

    year: int
    method: Method | None = None
    scope: Scope = Scope.TRANSITION
    profile_path: Path | None = None
    allocation_path: Path | None = None
    allow_missing_basis: bool = False


class _NoPrices:
    """Stands in for the market's price data when that part is not installed."""

    def usd_price(self, asset: str, at: datetime) -> Decimal:
        raise MissingPriceError(
            asset,
            at,
            "the bundled price data (marginbook.market) is not available; give usd_value in the ledger",
        )


def default_prices() -> PriceSource:
    """The market's default price source, or a stand-in whose every answer is a clear error."""
    try:
        from marginbook.market.prices import default_price_source
    except ImportError:
        return _NoPrices()
    source: PriceSource = default_price_source()
    return source


class _DefaultPricesOnFirstUse:
    """:func:`default_prices`, made when the first price is asked for.

    Most tax runs value nothing at market (every event carries its USD side); they then
    neither import the market's price module nor list the price folders.
    """

    def __init__(self) -> None:
        self._source: PriceSource | None = None

    def usd_price(self, asset: str, at: datetime) -> Decimal:
        if self._source is None:
            self._source = default_prices()
        return self._source.usd_price(asset, at)


def _options(request: TaxRequest, profile: Profile) -> RunOptions:
    allocation = None
    made_at = None
    if request.allocation_path is not None:
        from marginbook.tax.allocation import read_allocation

        allocation, made_at = read_allocation(request.allocation_path)
    return RunOptions(
        scope=request.scope,
        method=request.method,
        allow_missing_basis=request.allow_missing_basis,
        allocation=allocation,
        allocation_made_at=made_at,
        end=year_end(request.year, profile),
    )


def tax_events(
    events: Iterable[TaxEvent],
    request: TaxRequest,
    prices: PriceSource | None = None,
    profile: Profile | None = None,
) -> TaxReport:
    """Tax a year from events already in ledger order."""
    profile = profile if profile is not None else load_profile(request.profile_path)
    options = _options(request, profile)
    return compute_tax_report(
        events, request.year, profile, prices if prices is not None else _DefaultPricesOnFirstUse(), options
    )


def tax_ledger_files(
    paths: Sequence[Path], request: TaxRequest, prices: PriceSource | None = None
) -> TaxReport:
    """Tax a year straight from ledger CSV files (no database): events in timestamp order,
    ties in file order, files in the order given.

    Large plain files are read by the vectorised reader, as columns for the fast fold
    (:func:`marginbook.app.csv_columns.plain_ledger_events`); any other input by the codec,
    which also reports bad rows (file, row and field).
    """
    from marginbook.app.csv_columns import plain_ledger_events

    plain = plain_ledger_events(paths)
    if plain is not None:
        return tax_events(plain, request, prices)
    from marginbook.importers.ledger_csv import read

    events: list[LedgerEvent] = []
    for path in paths:
        events.extend(read(path))
    events.sort(key=lambda event: event.timestamp)
    return tax_events(events, request, prices)


def tax_year(db_url: str | None, request: TaxRequest, prices: PriceSource | None = None) -> TaxReport:
    """Tax a year from the ledger database (events up to the end of the year, streamed; an
    up-to-date SQLite file read directly, see :mod:`marginbook.app.tax_ledger`)."""
    from marginbook.app.tax_ledger import ledger_tax_events

    profile = load_profile(request.profile_path)
    unavailable = "the ledger database is not available in this build; tax a ledger CSV with --ledger FILE"
    with ledger_tax_events(db_url, year_end(request.year, profile), unavailable) as events:
        return tax_events(events, request, prices, profile)
