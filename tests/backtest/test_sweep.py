"""Grids expand as written, and every way of running them gives the same rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from marginbook.backtest.data import load_bars
from marginbook.backtest.settings import BacktestSettings
from marginbook.backtest.sweep import grid_points, parse_axis, run_point, run_sweep
from marginbook.domain.errors import InputError

FIXTURE = Path(__file__).parent / "fixtures" / "BTC-USDT_1d_2021-10_2022-07.csv"
BARS = load_bars(FIXTURE)
SETTINGS = BacktestSettings(venue="binance-usdm", leverage=5)


def test_axis_includes_stop_and_steps_exactly() -> None:
    assert parse_axis("stop_loss=0.01:0.05:0.01") == ("stop_loss", [0.01, 0.02, 0.03, 0.04, 0.05])
    assert parse_axis("fast=5:20:5")[1] == [5.0, 10.0, 15.0, 20.0]
    assert parse_axis("k=1:1:1")[1] == [1.0]


@pytest.mark.parametrize("text", ["fast", "fast=1:2", "fast=a:b:c", "fast=5:1:1", "fast=1:5:0"])
def test_malformed_axis_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="--grid"):
        parse_axis(text)


def test_grid_is_the_cartesian_product() -> None:
    points = grid_points([("fast", [5.0, 10.0]), ("leverage", [2.0, 5.0, 10.0])])
    assert len(points) == 6 and points[1] == {"fast": 5.0, "leverage": 5.0}


def test_grid_keys_reach_settings_and_strategy_parameters() -> None:
    low = run_point(BARS, "sma-cross", {"slow": 20}, SETTINGS, {"fast": 5.0, "leverage": 2.0})
    high = run_point(BARS, "sma-cross", {"slow": 20}, SETTINGS, {"fast": 5.0, "leverage": 20.0})
    assert low.liquidations == 0 and high.liquidations > 0


def test_processes_give_the_same_rows_as_one_process() -> None:
    points = grid_points([parse_axis("fast=5:15:5"), parse_axis("leverage=2:10:4")])
    alone = run_sweep(BARS, "sma-cross", {"slow": 30}, SETTINGS, points, workers=1)
    pooled = run_sweep(BARS, "sma-cross", {"slow": 30}, SETTINGS, points, workers=2)
    assert alone == pooled and len(alone) == 9


def test_a_bad_parameter_fails_before_any_worker_starts() -> None:
    with pytest.raises(InputError, match="no such parameter"):
        run_sweep(BARS, "sma-cross", {}, SETTINGS, [{"fsat": 1.0}, {"fsat": 2.0}], workers=2)


@pytest.mark.slow  # starts a local Ray instance: about 20 s
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (extra 'ray')")
def test_ray_gives_the_same_rows_as_local_processes() -> None:
    points = grid_points([parse_axis("fast=5:10:5"), parse_axis("slow=20:30:10")])
    local = run_sweep(BARS, "sma-cross", {}, SETTINGS, points, workers=1)
    on_ray = run_sweep(BARS, "sma-cross", {}, SETTINGS, points, ray_address="local")
    assert on_ray == local
