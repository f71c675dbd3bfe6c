"""Overview: portfolio value over time, allocation, realized and unrealized P&L, holdings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marginbook import __version__
from marginbook.app import charts
from marginbook.app.background import StillComputing
from marginbook.app.dashboard import SNAPSHOT_JOB
from marginbook.app.portfolio import PENDING_NOTE, Portfolio
from marginbook.web.deps import DashboardDep, render
from marginbook.web.schemas import Computing, Health, PortfolioOut, Status, Unavailable, portfolio_out

router = APIRouter()
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Unavailable, "description": "a part this needs is not installed yet"}
}
#: The answer of an endpoint whose figures are computed in the background.
COMPUTING: dict[int | str, dict[str, Any]] = {
    202: {
        "model": Computing,
        "description": "still being computed: ask again after the Retry-After header's seconds",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    },
    **UNAVAILABLE,
}


@router.get("/", include_in_schema=False)
def overview_page(request: Request, dashboard: DashboardDep) -> Response:
    """The Overview page."""
    portfolio = dashboard.portfolio(allow_stale=True, engine_may_follow=True)
    ledger_events = dashboard.event_count()
    figures = {
        "value_chart": charts.value_over_time(portfolio),
        "allocation_chart": charts.allocation(portfolio),
        "pnl_chart": charts.pnl(portfolio),
    }
    computing = still_computing(portfolio, ledger_events)
    # The "computing…" notice already says the engine is running: not a second notice for it.
    warnings = [w for w in portfolio.warnings if computing is None or not w.startswith(PENDING_NOTE)]
    context = {"portfolio": portfolio, "warnings": warnings, "computing": computing, **figures}
    return render(request, "overview.html", context)


def still_computing(portfolio: Portfolio, ledger_events: int) -> StillComputing | None:
    """What a page showing ``portfolio`` is still waiting for: the tax engine's first run (basis
    and realized P&L), or the new snapshot after an import; ``None`` when it is complete."""
    if ledger_events != portfolio.events:
        return StillComputing(
            SNAPSHOT_JOB,
            f"the portfolio over all {ledger_events} events (the figures below cover {portfolio.events}, "
            "the ledger before its last import)",
        )
    if portfolio.realized_pnl_year is None and any(PENDING_NOTE in w for w in portfolio.warnings):
        return StillComputing(SNAPSHOT_JOB, "the tax engine's run (cost basis and realized P&L)")
    return None


@router.get("/api/portfolio", response_model=PortfolioOut, responses=COMPUTING, tags=["portfolio"])
def portfolio_api(dashboard: DashboardDep) -> PortfolioOut:
    """Holdings, values, P&L and open margin positions now (the ``marginbook portfolio`` JSON).

    Right after an import the figures may come from the ledger as it was before it (``events``
    says how many events they cover) while the new fold is computed in the background. Before
    the first fold and tax engine run are done (right after start), ``202`` with ``Retry-After``.
    """
    return portfolio_out(dashboard.portfolio(allow_stale=True))


@router.get("/api/status", response_model=Status, responses=UNAVAILABLE, tags=["server"])
def status(dashboard: DashboardDep) -> dict[str, Any]:
    """What is ready, what failed and what is being computed (a "computing…" page polls this)."""
    return dashboard.status()


@router.get("/api/health", response_model=Health, tags=["server"])
def health(dashboard: DashboardDep) -> Health:
    """The server answers; says whether the ledger is open."""
    return Health(status="ok", ledger=dashboard.store is not None, version=__version__)
