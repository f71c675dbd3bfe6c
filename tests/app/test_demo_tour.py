"""``marginbook demo`` runs the whole product on bundled data; its parts must agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from marginbook.app.demo import DEMO_TAX_YEARS, run_tour


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return run_tour(tmp_path_factory.mktemp("tour"))


def test_every_demo_year_is_taxed_onto_the_forms(tour) -> None:  # type: ignore[no-untyped-def]
    assert [t.year for t in tour.taxes] == list(DEMO_TAX_YEARS)
    for year in tour.taxes:
        names = {path.name for path in year.files}
        assert f"form-8949-{year.year}.pdf" in names and f"schedule-d-{year.year}.pdf" in names
        assert all(path.read_bytes().startswith(b"%PDF") for path in year.files)
    # The Kraken opening and rollover fees of 2024 are investment interest: Form 4952 is filed.
    assert any(path.name == "form-4952-2024.pdf" for path in tour.taxes[0].files)
    assert tour.taxes[0].document["form_4952"]["line_1"] != "0.00"


def test_the_liquidation_is_a_2024_disposal_in_box_c(tour) -> None:  # type: ignore[no-untyped-def]
    rows = tour.taxes[0].document["form_8949"]
    liquidated = [row for row in rows if row["wallet"] == "kraken" and row["date_sold"] == "2024-08-05"]
    assert len(liquidated) == 1 and liquidated[0]["box"] == "C"


def test_leverage_decides_who_survives(tour) -> None:  # type: ignore[no-untyped-def]
    assert tour.backtest["survivors"] == [5.0]
    assert tour.backtest["liquidated"] == [20.0]
    for run in tour.backtest["runs"]:
        assert Path(run.plot).is_file()


def test_the_report_shows_the_engines_figures(tour) -> None:  # type: ignore[no-untyped-def]
    html = tour.report.read_text(encoding="utf-8")
    # Self-contained: plotly.js is inlined, no script is loaded from the network.
    assert "<script src=" not in html and "plotly" in html
    for year in tour.taxes:
        line_16 = year.document["schedule_d"]["line_16"]
        assert f"{float(line_16):,.2f}" in html or line_16 in html
