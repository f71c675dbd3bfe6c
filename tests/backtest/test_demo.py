"""The leverage demo shows 5× surviving where 20× is liquidated, on real BTC prices."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from marginbook.app.demo_backtest import bundled_prices, print_leverage_demo, run_leverage_demo
from marginbook.domain.errors import MarginbookError

FIXTURE = Path(__file__).parent / "fixtures" / "BTC-USDT_1d_2021-10_2022-07.csv"


def test_on_the_real_slice_5x_survives_where_20x_is_liquidated(tmp_path: Path) -> None:
    summary = run_leverage_demo(tmp_path, prices=FIXTURE, start=date(2021, 10, 1), end=date(2022, 7, 31),
                                params={"fast": 5.0, "slow": 20.0, "short": 0.0})
    assert summary["survivors"] == [5.0] and summary["liquidated"] == [20.0]
    for run in summary["runs"]:  # type: ignore[attr-defined]
        assert run.plot.is_file() and run.plot.stat().st_size > 1_000_000


def test_bundled_demo_prints_both_fates_and_the_chart_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        bundled_prices()
    except MarginbookError:
        pytest.skip("the package's bundled BTC-USDT_1d.csv is not in this checkout yet")
    summary = print_leverage_demo(tmp_path)
    out = capsys.readouterr().out
    assert summary["survivors"] == [5.0] and summary["liquidated"] == [20.0]
    assert "LIQUIDATED" in out and "survived" in out and str(tmp_path / "backtest-20x.html") in out


def test_a_window_without_bars_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MarginbookError, match="no bars"):
        run_leverage_demo(tmp_path, prices=FIXTURE, start=date(2030, 1, 1), end=date(2030, 12, 31))
