"""Backtests: equity curve, drawdown, trades and liquidation markers of stored runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marginbook.app import charts
from marginbook.web.deps import DashboardDep, render
from marginbook.web.routes.overview import UNAVAILABLE

router = APIRouter()
SUMMARY_FIELDS = ("final_equity", "return_pct", "max_drawdown_pct", "interest_paid", "fees_paid", "bars")


@router.get("/api/backtests", responses=UNAVAILABLE, tags=["backtest"])
def backtests_api(dashboard: DashboardDep) -> list[dict[str, Any]]:
    """Stored backtest runs: name and summary figures."""
    return [
        {
            "name": run.name,
            **{key: run.document.get(key) for key in SUMMARY_FIELDS},
            "trades": len(run.document.get("trades", [])),
            "liquidations": len(run.document.get("liquidations", [])),
        }
        for run in dashboard.backtests()
    ]


@router.get("/backtests", include_in_schema=False)
def backtests_page(request: Request, dashboard: DashboardDep) -> Response:
    """One section per stored run: figures, equity and drawdown chart, trades."""
    runs = []
    for index, run in enumerate(dashboard.backtests()):
        runs.append(
            {
                "name": run.name,
                "document": run.document,
                "chart": charts.backtest_equity(run.document, element_id=f"chart-backtest-{index}"),
            }
        )
    return render(request, "backtests.html", {"runs": runs, "summary_fields": SUMMARY_FIELDS})
