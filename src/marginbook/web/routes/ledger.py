"""The ledger's events, page by page, filterable by wallet, asset and time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from marginbook.web.deps import DashboardDep, render
from marginbook.web.routes.overview import UNAVAILABLE
from marginbook.web.schemas import EventsPage, event_out

router = APIRouter()
NameQuery = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:\-/ ]*$")]


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(status_code=422, detail=f"{name}: a time needs a zone (write Z)")
    return value


@router.get("/api/events", response_model=EventsPage, responses=UNAVAILABLE, tags=["ledger"])
def events_api(
    dashboard: DashboardDep,
    wallet: NameQuery = "",
    asset: NameQuery = "",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> EventsPage:
    """Events in ledger order (``from``/``to`` are ISO-8601 times with a zone)."""
    selected = dashboard.events(
        wallet=wallet or None,
        asset=asset or None,
        start=_utc(start, "from"),
        end=_utc(end, "to"),
        limit=limit,
        offset=offset,
    )
    return EventsPage(total=dashboard.event_count(), offset=offset, events=[event_out(e) for e in selected])


@router.get("/ledger", include_in_schema=False)
def ledger_page(
    request: Request,
    dashboard: DashboardDep,
    wallet: NameQuery = "",
    asset: NameQuery = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The Ledger page: 100 events at a time."""
    page = [
        event_out(e)
        for e in dashboard.events(wallet=wallet or None, asset=asset or None, limit=100, offset=offset)
    ]
    return render(
        request,
        "ledger.html",
        {
            "events": page,
            "wallet": wallet,
            "asset": asset,
            "offset": offset,
            "total": dashboard.event_count(),
        },
    )
