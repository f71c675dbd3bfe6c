"""Plotly charts of the dashboard and the static report, as HTML fragments.

Each function returns a ``<div>`` with its inline figure script and never the plotly.js library
itself: the page includes it once (served locally by the dashboard, inlined in the static
report), so no chart ever fetches anything from the network.

Figures are written as plain dicts and rendered with ``validate=False``: plotly's figure
validation costs tens of milliseconds per chart, which would eat the pages' latency budget, and
the dicts here are fixed in shape (every key is one plotly.js knows).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from marginbook.app.candles import Candles
from marginbook.app.portfolio import Portfolio

_CONFIG = {"displaylogo": False, "responsive": True}
_AXIS = {"gridcolor": "#eceff3", "zerolinecolor": "#d0d5dd", "automargin": True}
_PALETTE = {"entry": "#1d3557", "margin call": "#f4a261", "liquidation": "#e63946", "bankruptcy": "#6a040f"}


def _layout(title: str, height: int, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "height": height,
        "margin": {"l": 55, "r": 20, "t": 45, "b": 40},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": "system-ui, sans-serif"},
        "xaxis": dict(_AXIS),
        "yaxis": dict(_AXIS),
        **extra,
    }


def _html(figure: dict[str, Any], element_id: str) -> str:
    import plotly.io as pio

    html: str = pio.to_html(
        figure, full_html=False, include_plotlyjs=False, config=_CONFIG, div_id=element_id, validate=False
    )
    return html


def _floats(values: Iterable[float]) -> list[float | None]:
    return [None if math.isnan(value) else value for value in values]


def _times(values: Iterable[datetime]) -> list[str]:
    return [value.strftime("%Y-%m-%dT%H:%M:%S") for value in values]


def value_over_time(portfolio: Portfolio) -> str:
    """Net portfolio value at the end of each day with events (ledger prices of that day)."""
    trace = {
        "type": "scatter",
        "mode": "lines",
        "line": {"shape": "hv", "color": "#1d3557"},
        "name": "net value",
        "x": [point.day for point in portfolio.value_history],
        "y": [float(point.value) for point in portfolio.value_history],
    }
    return _html({"data": [trace], "layout": _layout("Portfolio value (USD)", 320)}, "chart-value")


def allocation(portfolio: Portfolio) -> str:
    """Market value by asset, all wallets together (holdings without a price are left out)."""
    by_asset: dict[str, Decimal] = {}
    for holding in portfolio.holdings:
        if holding.market_value is not None and holding.market_value > 0:
            by_asset[holding.asset] = by_asset.get(holding.asset, Decimal(0)) + holding.market_value
    trace = {
        "type": "pie",
        "hole": 0.4,
        "labels": list(by_asset),
        "values": [float(v) for v in by_asset.values()],
    }
    return _html({"data": [trace], "layout": _layout("Allocation", 320)}, "chart-allocation")


def pnl(portfolio: Portfolio) -> str:
    """Realized P&L of the year, unrealized P&L now, and the year's interest, side by side."""
    year = portfolio.at.year
    labels = [f"interest paid {year}"]
    values = [-float(portfolio.interest_paid_year)]
    if portfolio.unrealized_pnl is not None:  # unknown until the tax engine gives the basis
        labels.insert(0, "unrealized")
        values.insert(0, float(portfolio.unrealized_pnl))
    if portfolio.realized_pnl_year is not None:  # unknown when the tax engine could not run
        labels.insert(0, f"realized {year}")
        values.insert(0, float(portfolio.realized_pnl_year))
    colors = ["#2a9d8f" if value >= 0 else "#e76f51" for value in values]
    trace = {"type": "bar", "x": labels, "y": values, "marker": {"color": colors}}
    return _html({"data": [trace], "layout": _layout("Profit and loss (USD)", 320)}, "chart-pnl")


def _level(price: float, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    color = _PALETTE.get(label, "#264653")
    shape = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": price,
        "y1": price,
        "line": {"color": color, "width": 2},
    }
    note = {
        "xref": "paper",
        "x": 0,
        "yref": "y",
        "y": price,
        "text": f"{label} {price:,.2f}",
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"color": color, "size": 11},
    }
    return shape, note


def candlestick(
    candles: Candles, lines: dict[str, float], *, element_id: str = "chart-candles", title: str = ""
) -> str:
    """Candles with Bollinger bands, an RSI panel below, and a level line per entry of ``lines``.

    Args:
        candles: the bars and indicators.
        lines: label → price, e.g. ``{"entry": 60000, "margin call": 48000, "liquidation": 45000}``.
        element_id: the ``id`` of the chart's div (one page may hold several charts).
        title: the chart title.
    """
    x = _times(candles.time)
    data: list[dict[str, Any]] = [
        {
            "type": "candlestick",
            "name": "price",
            "x": x,
            "open": candles.open.tolist(),
            "high": candles.high.tolist(),
            "low": candles.low.tolist(),
            "close": candles.close.tolist(),
        }
    ]
    for name, series, dash in (
        ("BB upper", candles.bb_upper, "dot"),
        ("BB middle", candles.bb_middle, "dash"),
        ("BB lower", candles.bb_lower, "dot"),
    ):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": x,
                "y": _floats(series.tolist()),
                "line": {"width": 1, "dash": dash, "color": "#6c757d"},
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "RSI 14",
            "x": x,
            "y": _floats(candles.rsi.tolist()),
            "yaxis": "y2",
            "line": {"color": "#7b2cbf"},
        }
    )
    shapes: list[dict[str, Any]] = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y2",
            "y0": level,
            "y1": level,
            "line": {"dash": "dot", "width": 1, "color": "#999"},
        }
        for level in (30, 70)
    ]
    notes = []
    for label, price in lines.items():
        shape, note = _level(price, label)
        shapes.append(shape)
        notes.append(note)
    layout = _layout(title, 560, shapes=shapes, annotations=notes, showlegend=True)
    layout["xaxis"] = {**_AXIS, "anchor": "y2", "rangeslider": {"visible": False}}
    layout["yaxis"] = {**_AXIS, "domain": [0.3, 1.0], "title": {"text": "USD"}}
    layout["yaxis2"] = {**_AXIS, "domain": [0.0, 0.24], "range": [0, 100], "title": {"text": "RSI"}}
    return _html({"data": data, "layout": layout}, element_id)


#: A stored run's chart draws at most about this many points (a few years of hourly bars would
#: otherwise make a page of megabytes); each bucket keeps its extremes, so no peak or trough is lost.
MAX_CURVE_POINTS = 2000


def _kept(equity: list[float], drawdown: list[float], limit: int) -> list[int]:
    """Indexes to draw: every point, or per bucket its first, last, highest, lowest and deepest."""
    count = len(equity)
    if count <= limit:
        return list(range(count))
    size = math.ceil(count / (limit / 5))
    kept: set[int] = set()
    for start in range(0, count, size):
        span = range(start, min(start + size, count))
        kept.update((span[0], span[-1], max(span, key=equity.__getitem__),
                     min(span, key=equity.__getitem__), min(span, key=drawdown.__getitem__)))
    return sorted(kept)


def _drawdown(equity: list[float]) -> list[float]:
    """Percent below the running peak (for curves stored without ``drawdown_pct``)."""
    peak = -math.inf
    drawdown = []
    for value in equity:
        peak = max(peak, value)
        drawdown.append((value / peak - 1) * 100 if peak > 0 else 0.0)
    return drawdown


def backtest_equity(document: dict[str, Any], *, element_id: str) -> str | None:
    """Equity and drawdown of a stored backtest, with trade and liquidation markers.

    Needs an ``equity_curve`` list of ``{"time", "equity"[, "drawdown_pct"]}`` in the document
    (``marginbook backtest --format json`` writes it); ``None`` otherwise. The drawdown is the
    run's own (from the peak, starting cash included) when stored, else derived from the curve.
    """
    curve = document.get("equity_curve")
    if not isinstance(curve, list) or not curve or not all(isinstance(p, dict) for p in curve):
        return None
    try:
        times = [str(point["time"]) for point in curve]
        equity = [float(point["equity"]) for point in curve]
        stored = all("drawdown_pct" in point for point in curve)
        drawdown = [float(point["drawdown_pct"]) for point in curve] if stored else _drawdown(equity)
    except (KeyError, TypeError, ValueError):
        return None
    equity_at = dict(zip(times, equity, strict=True))
    keep = _kept(equity, drawdown, MAX_CURVE_POINTS)
    shown_times = [times[i] for i in keep]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "equity",
            "x": shown_times,
            "y": [equity[i] for i in keep],
            "line": {"color": "#1d3557"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "drawdown %",
            "x": shown_times,
            "y": [drawdown[i] for i in keep],
            "yaxis": "y2",
            "fill": "tozeroy",
            "line": {"color": "#e76f51"},
        },
    ]
    for key, symbol, color in (("trades", "triangle-up", "#2a9d8f"), ("liquidations", "x", "#e63946")):
        marks = [
            item for item in document.get(key, []) if isinstance(item, dict) and item.get("time") in equity_at
        ]
        if marks:
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": key,
                    "x": [m["time"] for m in marks],
                    "y": [equity_at[m["time"]] for m in marks],
                    "marker": {"symbol": symbol, "size": 10, "color": color},
                }
            )
    layout = _layout("Equity and drawdown", 480)
    layout["xaxis"] = {**_AXIS, "anchor": "y2"}
    layout["yaxis"] = {**_AXIS, "domain": [0.32, 1.0], "title": {"text": "equity"}}
    layout["yaxis2"] = {**_AXIS, "domain": [0.0, 0.26], "title": {"text": "drawdown %"}}
    return _html({"data": data, "layout": layout}, element_id)
