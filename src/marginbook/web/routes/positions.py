"""Positions and risk: open positions on a candlestick chart, and the pre-trade risk form."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from marginbook.app import charts
from marginbook.app.background import StillComputing
from marginbook.app.candles import Candles
from marginbook.app.dashboard import Dashboard
from marginbook.app.features import FeatureUnavailable
from marginbook.app.position_views import position_views
from marginbook.domain.errors import InputError
from marginbook.domain.events import format_timestamp
from marginbook.domain.numbers import cents, plain
from marginbook.web.deps import DashboardDep, render
from marginbook.web.routes.overview import COMPUTING, UNAVAILABLE, still_computing

router = APIRouter()
VENUES = ("binance-usdm", "binance-margin", "kraken-margin", "bybit-linear", "okx-swap", "generic")
_DECIMAL = r"^[0-9]{1,12}(\.[0-9]{1,18})?$"
DecimalQuery = Annotated[str, Query(pattern=_DECIMAL, max_length=32)]
OptionalDecimal = Annotated[str, Query(pattern=r"^([0-9]{1,12}(\.[0-9]{1,18})?)?$", max_length=32)]
#: The risk figures drawn as lines, by their JSON names.
LINE_FIELDS = {
    "entry": "entry",
    "margin call": "margin_call_price",
    "liquidation": "liquidation_price",
    "bankruptcy": "bankruptcy_price",
}


class Candle(BaseModel):
    """One bar with its indicators (floats: display only); ``null`` before a window fills."""

    time: str
    open: float
    high: float
    low: float
    close: float
    bb_upper: float | None
    bb_middle: float | None
    bb_lower: float | None
    rsi: float | None


def _risk_params(
    venue: str,
    side: str,
    entry: str,
    quantity: str,
    leverage: str,
    mode: str,
    wallet_balance: str,
    mmr: str,
    maintenance_amount: str,
    taker_fee: str,
) -> dict[str, str]:
    """The calculator's parameters; 422 for a size, price or leverage that cannot be traded."""
    for name, value in (("entry", entry), ("quantity", quantity), ("leverage", leverage)):
        if Decimal(value) <= 0:
            raise HTTPException(status_code=422, detail=f"{name} must be positive")
    if Decimal(leverage) < 1:
        raise HTTPException(status_code=422, detail="leverage must be at least 1")
    params = {
        "venue": venue,
        "side": side,
        "entry": entry,
        "quantity": quantity,
        "leverage": leverage,
        "mode": mode,
    }
    for name, value in (
        ("wallet_balance", wallet_balance),
        ("mmr", mmr),
        ("maintenance_amount", maintenance_amount),
        ("taker_fee", taker_fee),
    ):
        if value:
            params[name] = value
    return params


def _lines(figures: dict[str, Any], entry: str) -> dict[str, float]:
    lines = {"entry": float(Decimal(entry))}
    for label, name in LINE_FIELDS.items():
        value = figures.get(name)
        if label != "entry" and value not in (None, ""):
            lines[label] = float(Decimal(str(value)))
    return lines


@router.get("/api/risk", responses=UNAVAILABLE, tags=["margin"])
def risk_api(
    dashboard: DashboardDep,
    entry: DecimalQuery,
    quantity: DecimalQuery,
    leverage: DecimalQuery,
    venue: Annotated[str, Query(pattern="^(" + "|".join(VENUES) + ")$")] = "generic",
    side: Annotated[str, Query(pattern="^(long|short)$")] = "long",
    mode: Annotated[str, Query(pattern="^(isolated|cross)$")] = "isolated",
    wallet_balance: OptionalDecimal = "",
    mmr: OptionalDecimal = "",
    maintenance_amount: OptionalDecimal = "",
    taker_fee: OptionalDecimal = "",
) -> dict[str, Any]:
    """The pre-trade risk figures (``marginbook risk --format json``)."""
    return dashboard.risk(
        _risk_params(
            venue, side, entry, quantity, leverage, mode, wallet_balance, mmr, maintenance_amount, taker_fee
        )
    )


@router.get("/api/candles", response_model=list[Candle], responses=UNAVAILABLE, tags=["market"])
def candles_api(dashboard: DashboardDep, bars: Annotated[int, Query(ge=1, le=5000)] = 180) -> list[Candle]:
    """The last ``bars`` price bars with Bollinger bands (20, 2σ) and RSI (14)."""
    candles = dashboard.candles(bars)

    def clean(value: float) -> float | None:
        return None if value != value else value

    return [
        Candle(
            time=t.isoformat().replace("+00:00", "Z"),
            open=o,
            high=h,
            low=lo,
            close=c,
            bb_upper=clean(u),
            bb_middle=clean(m),
            bb_lower=clean(lw),
            rsi=clean(r),
        )
        for t, o, h, lo, c, u, m, lw, r in zip(
            candles.time,
            candles.open.tolist(),
            candles.high.tolist(),
            candles.low.tolist(),
            candles.close.tolist(),
            candles.bb_upper.tolist(),
            candles.bb_middle.tolist(),
            candles.bb_lower.tolist(),
            candles.rsi.tolist(),
            strict=True,
        )
    ]


@router.get("/positions", include_in_schema=False)
def positions_page(
    request: Request,
    dashboard: DashboardDep,
    entry: OptionalDecimal = "",
    quantity: OptionalDecimal = "",
    leverage: OptionalDecimal = "",
    venue: Annotated[str, Query(pattern="^(" + "|".join(VENUES) + ")$")] = "generic",
    side: Annotated[str, Query(pattern="^(long|short)$")] = "long",
    mode: Annotated[str, Query(pattern="^(isolated|cross)$")] = "isolated",
    wallet_balance: OptionalDecimal = "",
    mmr: OptionalDecimal = "",
    maintenance_amount: OptionalDecimal = "",
    taker_fee: OptionalDecimal = "",
) -> Response:
    """Open positions with their charts, and the risk form (a GET form: it changes nothing)."""
    context: dict[str, Any] = {
        "venues": VENUES,
        "form": dict(request.query_params),
        "figures": None,
        "risk_problem": "",
        "chart_problem": "",
        "risk_chart": "",
        "views": [],
        "fold_pending": False,
    }
    try:  # the risk form needs no ledger: it is drawn while the fold is being computed
        portfolio = dashboard.portfolio(allow_stale=True, engine_may_follow=True)
        views = position_views(dashboard.snapshot(allow_stale=True, engine_may_follow=True).fold, portfolio)
        context["computing"] = still_computing(portfolio, dashboard.event_count())
    except StillComputing as computing:
        views, context["computing"], context["fold_pending"] = [], computing, True
    try:
        candles = dashboard.candles(180)
    except FeatureUnavailable as error:
        candles, context["chart_problem"] = None, str(error)
    for index, view in enumerate(views):
        try:
            own = dashboard.candles(180, view.position.risk_asset)
        except FeatureUnavailable:
            own = None
        title = f"{view.position.wallet} {view.position.risk_asset}"
        chart = (
            charts.candlestick(own, view.lines, element_id=f"chart-position-{index}", title=title)
            if own is not None
            else ""
        )
        context["views"].append({"view": view, "chart": chart})
    if entry and quantity and leverage:
        _draw_planned_trade(
            context,
            dashboard,
            candles,
            side,
            entry,
            (
                venue,
                side,
                entry,
                quantity,
                leverage,
                mode,
                wallet_balance,
                mmr,
                maintenance_amount,
                taker_fee,
            ),
        )
    return render(request, "positions.html", context)


def _draw_planned_trade(
    context: dict[str, Any],
    dashboard: Dashboard,
    candles: Candles | None,
    side: str,
    entry: str,
    form: tuple[str, ...],
) -> None:
    """Fill the risk figures and chart of the form into ``context``; a problem is shown, not raised."""
    try:
        params = _risk_params(*form)
    except HTTPException as error:
        context["risk_problem"] = str(error.detail)
        return
    lines = {"entry": float(Decimal(entry))}
    try:
        figures = dashboard.risk(params)
        context["figures"] = figures
        lines = _lines(figures, entry)
    except (FeatureUnavailable, InputError) as error:
        context["risk_problem"] = str(error)
    if candles is not None:
        context["risk_chart"] = charts.candlestick(
            candles, lines, element_id="chart-risk", title=f"Planned {side} at {entry}"
        )


class LiquidationTaxOut(BaseModel):
    """What the tax engine says a forced sale of an open position would realize."""

    at: str
    quantity: str
    price: str
    gain: str
    rows: list[dict[str, Any]]
    warnings: list[str]


def _liquidation_tax(dashboard: Dashboard, index: int) -> LiquidationTaxOut:
    try:
        answer = dashboard.liquidation_tax(index)
    except LookupError:
        raise HTTPException(status_code=404, detail=f"no open position {index}") from None
    return LiquidationTaxOut(
        at=format_timestamp(answer.at),
        quantity=plain(answer.quantity),
        price=plain(cents(answer.price)),
        gain=plain(cents(answer.gain)),
        rows=answer.rows,
        warnings=answer.warnings,
    )


@router.get(
    "/api/positions/{index}/liquidation-tax",
    response_model=LiquidationTaxOut,
    responses={404: {"description": "no such position"}, **COMPUTING},
    tags=["margin"],
)
def liquidation_tax_api(
    dashboard: DashboardDep, index: Annotated[int, Path(ge=0, le=10_000)]
) -> LiquidationTaxOut:
    """The 8949 rows and gain the tax engine gives a forced sale of open position ``index`` at its
    liquidation price (the ledger is not changed; this runs the whole tax year)."""
    return _liquidation_tax(dashboard, index)


@router.get("/positions/{index}/liquidation-tax", include_in_schema=False)
def liquidation_tax_page(
    request: Request, dashboard: DashboardDep, index: Annotated[int, Path(ge=0, le=10_000)]
) -> Response:
    """The same answer as a page."""
    return render(
        request, "liquidation_tax.html", {"index": index, "answer": _liquidation_tax(dashboard, index)}
    )
