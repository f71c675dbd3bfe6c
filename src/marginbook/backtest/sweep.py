"""Parameter sweeps: one backtest per point of a grid, across local processes or a Ray cluster.

A grid axis is ``K=START:STOP:STEP`` (STOP included). ``K`` is a strategy parameter
(``fast``, ``period`` ...) or a run setting (``leverage``, ``stop_loss``, ``take_profit``,
``trailing_stop``, ``size_fraction``, ``fee``, ``interest_rate``, ``funding_rate``). The
bars are sent to each worker once; each task is a chunk of grid points, so the per-task
overhead does not swamp backtests that take milliseconds.

Local processes (``concurrent.futures``) are the default; ``ray_address`` runs the same
chunks as Ray tasks (``pip install 'marginbook[ray]'``), e.g. on a cluster started with
``ray start --head``, or ``"local"`` for an in-process Ray instance.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from marginbook.backtest.data import Bars
from marginbook.backtest.settings import BacktestSettings
from marginbook.domain.errors import InputError, InputProblem, MarginbookError

#: Settings a grid may vary (all numeric fields of :class:`BacktestSettings`).
SETTING_KEYS = frozenset(
    f.name for f in fields(BacktestSettings)
    if f.name not in ("venue", "mode", "rate_period")
)

_MAX_POINTS = 100_000


@dataclass(frozen=True, slots=True)
class SweepRow:
    """The summary of one grid point's backtest."""

    point: dict[str, float]
    final_equity: float
    return_pct: float
    max_drawdown_pct: float
    trades: int
    liquidations: int
    margin_calls: int
    fees_paid: float
    interest_paid: float


def parse_axis(text: str) -> tuple[str, list[float]]:
    """Parse ``K=START:STOP:STEP`` into the key and its values (STOP included, exact steps).

    The values are stepped in decimal arithmetic, so ``0.01:0.05:0.01`` gives five values,
    not four or six.

    Raises:
        InputError: naming the axis when it is malformed or has more than 10,000 values.
    """
    def bad(problem: str) -> InputError:
        return InputError(InputProblem("--grid", None, text, problem))

    key, sep, spec = text.partition("=")
    parts = spec.split(":")
    if not sep or not key.strip() or len(parts) != 3:
        raise bad("write K=START:STOP:STEP, e.g. fast=5:50:5")
    try:
        start, stop, step = (Decimal(p.strip()) for p in parts)
    except InvalidOperation:
        raise bad("START, STOP and STEP must be numbers") from None
    if step <= 0 or stop < start:
        raise bad("need STEP > 0 and STOP ≥ START")
    count = int((stop - start) / step) + 1
    if count > 10_000:
        raise bad(f"{count} values on one axis is too many (at most 10,000)")
    return key.strip(), [float(start + k * step) for k in range(count)]


def grid_points(axes: Sequence[tuple[str, list[float]]]) -> list[dict[str, float]]:
    """Every combination of the axes' values, the last axis varying fastest.

    Raises:
        InputError: when an axis repeats or the grid has more than 100,000 points.
    """
    keys = [key for key, _ in axes]
    if len(set(keys)) != len(keys):
        raise InputError(InputProblem("--grid", None, "", "an axis is given twice"))
    total = 1
    for _, values in axes:
        total *= len(values)
    if total > _MAX_POINTS:
        problem = f"{total} points is too many (at most {_MAX_POINTS:,})"
        raise InputError(InputProblem("--grid", None, "", problem))
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))]


def run_point(bars: Bars, strategy: str, params: Mapping[str, float], settings: BacktestSettings,
              point: Mapping[str, float]) -> SweepRow:
    """Backtest one grid point: ``point`` overrides ``params`` and ``settings``."""
    from marginbook.backtest.engine import run_backtest
    from marginbook.backtest.strategies import resolve_strategy

    setting_changes: dict[str, Any] = {k: v for k, v in point.items() if k in SETTING_KEYS}
    strategy_params = {**params, **{k: v for k, v in point.items() if k not in SETTING_KEYS}}
    run_settings = replace(settings, **setting_changes) if setting_changes else settings
    signals = resolve_strategy(strategy).signals(bars, strategy_params)
    result = run_backtest(bars, signals, run_settings)
    return SweepRow(
        point=dict(point), final_equity=result.final_equity, return_pct=result.return_pct,
        max_drawdown_pct=result.max_drawdown_pct, trades=len(result.trades),
        liquidations=len(result.liquidations), margin_calls=len(result.margin_calls),
        fees_paid=result.fees_paid, interest_paid=result.interest_paid,
    )


def _run_chunk(bars: Bars, strategy: str, params: Mapping[str, float], settings: BacktestSettings,
               points: Sequence[Mapping[str, float]]) -> list[SweepRow]:
    return [run_point(bars, strategy, params, settings, point) for point in points]


# Per-worker state for the process pool: the bars are sent once, in the initializer.
_WORKER: dict[str, Any] = {}


def _init_worker(bars: Bars, strategy: str, params: Mapping[str, float], settings: BacktestSettings) -> None:
    _WORKER.update(bars=bars, strategy=strategy, params=params, settings=settings)


def _run_chunk_in_worker(points: Sequence[Mapping[str, float]]) -> list[SweepRow]:
    return _run_chunk(_WORKER["bars"], _WORKER["strategy"], _WORKER["params"], _WORKER["settings"], points)


def _chunks(points: list[dict[str, float]], workers: int) -> list[list[dict[str, float]]]:
    size = max(1, -(-len(points) // (workers * 4)))
    return [points[i : i + size] for i in range(0, len(points), size)]


def run_sweep(bars: Bars, strategy: str, params: Mapping[str, float], settings: BacktestSettings,
              points: list[dict[str, float]], *, workers: int | None = None,
              ray_address: str | None = None) -> list[SweepRow]:
    """Backtest every grid point; rows come back in the order of ``points``.

    Args:
        workers: local processes (default: the machine's CPU count; 1 runs in this process).
        ray_address: run on Ray instead (``"auto"``, ``"ray://host:10001"``, ``"local"``).

    Raises:
        InputError: for a bad parameter or setting (checked on the first point, here).
        MarginbookError: when Ray is asked for but not installed.
    """
    if not points:
        return []
    # Fail fast, in this process, on a bad parameter or setting rather than in every worker.
    first = run_point(bars, strategy, params, settings, points[0])
    rest = points[1:]
    if not rest:
        return [first]
    if ray_address is not None:
        return [first, *_run_on_ray(bars, strategy, params, settings, rest, ray_address)]
    count = workers or os.cpu_count() or 1
    if count <= 1:
        return [first, *_run_chunk(bars, strategy, params, settings, rest)]
    chunks = _chunks(rest, count)
    with ProcessPoolExecutor(max_workers=min(count, len(chunks)), initializer=_init_worker,
                             initargs=(bars, strategy, dict(params), settings)) as pool:
        rows = [first]
        for chunk_rows in pool.map(_run_chunk_in_worker, chunks):
            rows.extend(chunk_rows)
    return rows


def _run_on_ray(bars: Bars, strategy: str, params: Mapping[str, float], settings: BacktestSettings,
                points: list[dict[str, float]], address: str) -> list[SweepRow]:
    try:
        import ray
    except ImportError:
        raise MarginbookError("--ray needs Ray: pip install 'marginbook[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=None if address == "local" else address, ignore_reinit_error=True,
                 include_dashboard=False, log_to_driver=False)
    try:
        remote_chunk = ray.remote(_run_chunk)
        shared_bars = ray.put(bars)
        workers = max(1, int(cast(Any, ray).cluster_resources().get("CPU", 1)))
        futures = [remote_chunk.remote(shared_bars, strategy, dict(params), settings, chunk)
                   for chunk in _chunks(points, workers)]
        rows: list[SweepRow] = []
        for chunk_rows in ray.get(futures):
            rows.extend(chunk_rows)
        return rows
    finally:
        if started_here:
            ray.shutdown()


def heatmap(rows: Sequence[SweepRow], x: str, y: str, metric: str = "return_pct") -> object:
    """A Plotly heatmap of ``metric`` over two grid axes (other axes: the best value per cell)."""
    import plotly.graph_objects as go

    xs = sorted({row.point[x] for row in rows})
    ys = sorted({row.point[y] for row in rows})
    cells: dict[tuple[float, float], float] = {}
    for row in rows:
        key = (row.point[x], row.point[y])
        value = float(getattr(row, metric))
        cells[key] = max(value, cells.get(key, value))
    z = [[cells.get((xv, yv)) for xv in xs] for yv in ys]
    fig = go.Figure(go.Heatmap(x=xs, y=ys, z=z, colorscale="RdYlGn", colorbar={"title": metric}))
    fig.update_layout(title=f"{metric} by {x} and {y}", xaxis_title=x, yaxis_title=y)
    return fig
