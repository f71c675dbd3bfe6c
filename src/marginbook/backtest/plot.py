"""Draw a backtest: price with entries, exits, liquidations and the liquidation-price line;
the equity curve; the drawdown. One self-contained HTML file (plotly.js inlined, no network).

Long runs are thinned for drawing only (every k-th bar, at most ``max_points``), because a
browser cannot draw a million candles; trades and liquidations are always drawn in full.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import numpy as np

from marginbook.backtest.results import BacktestResult

_CANDLE_LIMIT = 3_000


def figure(result: BacktestResult, title: str | None = None, max_points: int = 20_000) -> object:
    """Build the Plotly figure of ``result`` (three rows sharing the time axis)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    bars = result.bars
    n = len(bars)
    step = max(1, -(-n // max_points))
    picked = np.arange(0, n, step)
    times = [t.replace(tzinfo=UTC) for t in bars.timestamps[picked].astype("datetime64[s]").astype(object)]
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        row_heights=[0.6, 0.25, 0.15], subplot_titles=("Price", "Equity", "Drawdown (%)"))
    if len(picked) <= _CANDLE_LIMIT and step == 1:
        fig.add_trace(go.Candlestick(x=times, open=bars.open, high=bars.high, low=bars.low, close=bars.close,
                                     name="price"), row=1, col=1)
    else:
        fig.add_trace(go.Scattergl(x=times, y=bars.close[picked], mode="lines", name="close",
                                   line={"width": 1}), row=1, col=1)
    fig.add_trace(go.Scattergl(x=times, y=result.liquidation_prices[picked], mode="lines",
                               name="liquidation price", line={"color": "crimson", "dash": "dot", "width": 1},
                               connectgaps=False), row=1, col=1)
    for side, symbol, colour in (("long", "triangle-up", "green"), ("short", "triangle-down", "orange")):
        trades = [t for t in result.trades if t.side == side and not t.continues]
        fig.add_trace(go.Scatter(x=[t.entry_time for t in trades], y=[t.entry_price for t in trades],
                                 mode="markers", name=f"{side} entry",
                                 marker={"symbol": symbol, "color": colour, "size": 9}), row=1, col=1)
    exits = [t for t in result.trades if t.exit_reason not in ("liquidation", "open")]
    fig.add_trace(go.Scatter(x=[t.exit_time for t in exits], y=[t.exit_price for t in exits], mode="markers",
                             name="exit", text=[t.exit_reason for t in exits],
                             marker={"symbol": "circle-open", "color": "black", "size": 8}), row=1, col=1)
    liquidations = result.liquidations
    fig.add_trace(go.Scatter(x=[t.exit_time for t in liquidations], y=[t.exit_price for t in liquidations],
                             mode="markers", name="liquidation",
                             marker={"symbol": "x", "color": "red", "size": 14, "line": {"width": 2}}),
                  row=1, col=1)
    fig.add_trace(go.Scattergl(x=times, y=result.equity[picked], mode="lines", name="equity"), row=2, col=1)
    fig.add_trace(go.Scattergl(x=times, y=result.drawdown[picked], mode="lines", name="drawdown",
                               fill="tozeroy", line={"color": "firebrick"}), row=3, col=1)
    settings = result.settings
    heading = title or (f"{bars.source}: {settings.venue} {settings.mode} {settings.leverage:g}×, "
                        f"final equity {result.final_equity:,.2f}, {len(liquidations)} liquidation(s)")
    fig.update_layout(title=heading, xaxis_rangeslider_visible=False, height=900, hovermode="x unified")
    return fig


def write_html(result: BacktestResult, path: str | Path, title: str | None = None) -> Path:
    """Write the figure of ``result`` to ``path`` as self-contained HTML; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig = figure(result, title)
    fig.write_html(str(target), include_plotlyjs=True, full_html=True)  # type: ignore[attr-defined]
    return target
