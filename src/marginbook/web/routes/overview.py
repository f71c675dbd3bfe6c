"""Overview: portfolio value over time, allocation, realized and unrealized P&L, holdings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marginbook import __version__
from marginbook.app import charts
from marginbook.web.deps import DashboardDep, render
from marginbook.web.schemas import Health, PortfolioOut, Unavailable, portfolio_out

router = APIRouter()
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Unavailable, "description": "a part this needs is not installed yet"}
}


@router.get("/", include_in_schema=False)
def overview_page(request: Request, dashboard: DashboardDep) -> Response:
    """The Overview page."""
    portfolio = dashboard.portfolio(allow_stale=True, engine_may_follow=True)
    figures = {
        "value_chart": charts.value_over_time(portfolio),
        "allocation_chart": charts.allocation(portfolio),
        "pnl_chart": charts.pnl(portfolio),
    }
    ledger_events = dashboard.event_count()
    return render(
        request, "overview.html", {"portfolio": portfolio, "ledger_events": ledger_events, **figures}
    )


@router.get("/api/portfolio", response_model=PortfolioOut, responses=UNAVAILABLE, tags=["portfolio"])
def portfolio_api(dashboard: DashboardDep) -> PortfolioOut:
    """Holdings, values, P&L and open margin positions now (the ``marginbook portfolio`` JSON).

    Right after an import the figures may come from the ledger as it was before it (``events``
    says how many events they cover) while the new fold is computed in the background.
    """
    return portfolio_out(dashboard.portfolio(allow_stale=True))


@router.get("/api/health", response_model=Health, tags=["server"])
def health(dashboard: DashboardDep) -> Health:
    """The server answers; says whether the ledger is open."""
    return Health(status="ok", ledger=dashboard.store is not None, version=__version__)
