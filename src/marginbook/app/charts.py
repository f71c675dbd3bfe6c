"""Plotly charts of the dashboard and the static report, as HTML fragments.

Each function returns a ``<div>`` with its inline figure script and never the plotly.js library
itself: the page includes it once (served locally by the dashboard, inlined in the static
report), so no chart ever fetches anything from the network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from marginbook.app.candles import Candles, FloatArray
from marginbook.app.portfolio import Portfolio

_CONFIG = {"displaylogo": False, "responsive": True}
_LAYOUT = {"margin": {"l": 50, "r": 20, "t": 40, "b": 40}, "template": "plotly_white"}


def _html(figure: Any, element_id: str) -> str:
    html: str = figure.to_html(full_html=False, include_plotlyjs=False, config=_CONFIG, div_id=element_id)
    return html


def value_over_time(portfolio: Portfolio) -> str:
    """Net portfolio value at the end of each day with events (ledger prices of that day)."""
    import plotly.graph_objects as go

    days = [point.day for point in portfolio.value_history]
    values = [float(point.value) for point in portfolio.value_history]
    figure = go.Figure(go.Scatter(x=days, y=values, mode="lines", line={"shape": "hv"}, name="net value"))
    figure.update_layout(title="Portfolio value (USD)", height=320, **_LAYOUT)
    return _html(figure, "chart-value")


def allocation(portfolio: Portfolio) -> str:
    """Market value by asset, all wallets together (holdings without a price are left out)."""
    import plotly.graph_objects as go

    by_asset: dict[str, Decimal] = {}
    for holding in portfolio.holdings:
        if holding.market_value is not None and holding.market_value > 0:
            by_asset[holding.asset] = by_asset.get(holding.asset, Decimal(0)) + holding.market_value
    figure = go.Figure(go.Pie(labels=list(by_asset), values=[float(v) for v in by_asset.values()], hole=0.4))
    figure.update_layout(title="Allocation", height=320, **_LAYOUT)
    return _html(figure, "chart-allocation")


def pnl(portfolio: Portfolio) -> str:
    """Realized P&L of the year and unrealized P&L now, side by side."""
    import plotly.graph_objects as go

    labels = [f"realized {portfolio.at.year}", "unrealized", f"interest paid {portfolio.at.year}"]
    values = [
        float(portfolio.realized_pnl_year),
        float(portfolio.unrealized_pnl),
        -float(portfolio.interest_paid_year),
    ]
    colors = ["#2a9d8f" if value >= 0 else "#e76f51" for value in values]
    figure = go.Figure(go.Bar(x=labels, y=values, marker_color=colors))
    figure.update_layout(title="Profit and loss (USD)", height=320, **_LAYOUT)
    return _html(figure, "chart-pnl")


def _clean(values: Sequence[float] | FloatArray) -> list[float | None]:
    return [None if math.isnan(value) else value for value in values]


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
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.03)
    figure.add_trace(
        go.Candlestick(
            x=candles.time,
            open=candles.open,
            high=candles.high,
            low=candles.low,
            close=candles.close,
            name="price",
        ),
        row=1,
        col=1,
    )
    for name, series, dash in (
        ("BB upper", candles.bb_upper, "dot"),
        ("BB middle", candles.bb_middle, "dash"),
        ("BB lower", candles.bb_lower, "dot"),
    ):
        figure.add_trace(
            go.Scatter(
                x=candles.time,
                y=_clean(series),
                name=name,
                mode="lines",
                line={"width": 1, "dash": dash, "color": "#6c757d"},
            ),
            row=1,
            col=1,
        )
    figure.add_trace(
        go.Scatter(
            x=candles.time, y=_clean(candles.rsi), name="RSI 14", mode="lines", line={"color": "#7b2cbf"}
        ),
        row=2,
        col=1,
    )
    for level in (30, 70):
        figure.add_hline(y=level, line={"dash": "dot", "width": 1, "color": "#999"}, row=2, col=1)
    palette = {
        "entry": "#1d3557",
        "margin call": "#f4a261",
        "liquidation": "#e63946",
        "bankruptcy": "#6a040f",
    }
    for label, price in lines.items():
        figure.add_hline(
            y=price,
            row=1,
            col=1,
            line={"color": palette.get(label, "#264653"), "width": 2},
            annotation_text=f"{label} {price:,.2f}",
            annotation_position="top left",
        )
    figure.update_layout(title=title, height=560, xaxis_rangeslider_visible=False, showlegend=True, **_LAYOUT)
    figure.update_yaxes(title_text="USD", row=1, col=1)
    figure.update_yaxes(title_text="RSI", range=[0, 100], row=2, col=1)
    return _html(figure, element_id)


def backtest_equity(document: dict[str, Any], *, element_id: str) -> str | None:
    """Equity and drawdown of a stored backtest, with trade and liquidation markers.

    Needs an ``equity_curve`` list of ``{"time", "equity"}`` in the document; ``None`` otherwise.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    curve = document.get("equity_curve")
    if not isinstance(curve, list) or not curve:
        return None
    times = [point.get("time") for point in curve]
    equity = [float(point.get("equity", 0)) for point in curve]
    peak = -math.inf
    drawdown = []
    for value in equity:
        peak = max(peak, value)
        drawdown.append((value / peak - 1) * 100 if peak > 0 else 0.0)
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04)
    figure.add_trace(go.Scatter(x=times, y=equity, name="equity", mode="lines"), row=1, col=1)
    figure.add_trace(
        go.Scatter(
            x=times, y=drawdown, name="drawdown %", fill="tozeroy", mode="lines", line={"color": "#e76f51"}
        ),
        row=2,
        col=1,
    )
    equity_at = dict(zip(times, equity, strict=True))
    for key, symbol, color in (("trades", "triangle-up", "#2a9d8f"), ("liquidations", "x", "#e63946")):
        marks = [
            item for item in document.get(key, []) if isinstance(item, dict) and item.get("time") in equity_at
        ]
        if marks:
            figure.add_trace(
                go.Scatter(
                    x=[m["time"] for m in marks],
                    y=[equity_at[m["time"]] for m in marks],
                    mode="markers",
                    name=key,
                    marker={"symbol": symbol, "size": 10, "color": color},
                ),
                row=1,
                col=1,
            )
    figure.update_layout(height=480, **_LAYOUT)
    return _html(figure, element_id)
