"""``marginbook report``: write the static HTML report of the ledger (portfolio, backtests, taxes)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from marginbook.cli.context import state


def register(app: typer.Typer) -> None:
    """Add the ``report`` command."""

    @app.command()
    def report(
        ctx: typer.Context,
        out: Annotated[Path, typer.Option("--out", help="Folder to write report.html into.")],
        year: Annotated[
            list[int] | None,
            typer.Option("--year", help="Tax year to summarise (repeatable; default: none)."),
        ] = None,
        backtests: Annotated[
            Path | None, typer.Option(help="Folder of backtest JSON documents to chart.")
        ] = None,
        profile: Annotated[Path | None, typer.Option(help="Tax profile TOML.")] = None,
        strategy: Annotated[
            list[str] | None,
            typer.Option(
                "--strategy",
                help="Also backtest this built-in strategy (repeatable) on --data: binance-usdm, "
                "3x isolated, a quarter of equity per entry.",
            ),
        ] = None,
        data: Annotated[
            Path | None,
            typer.Option(help="Price CSV for --strategy (default: the bundled BTC-USDT daily bars)."),
        ] = None,
    ) -> None:
        """Write one self-contained HTML file (plotly.js inlined; it opens offline) and print its
        path and the command that serves the same ledger."""
        from marginbook.app.demo_report import BacktestSection, write_report
        from marginbook.app.features import market_price_lookup, open_ledger

        db_url = state(ctx).db_url
        sections = []
        problem = ""
        if backtests is not None:
            for path in sorted(backtests.glob("*.json")):
                document = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(document, dict):
                    sections.append(BacktestSection(path.stem, document))
        for name in strategy or []:
            from marginbook.app.demo_report import run_backtest_section
            from marginbook.app.features import FeatureUnavailable, bundled_price_file

            prices_file = data or bundled_price_file("BTC")
            if prices_file is None:
                raise FeatureUnavailable("backtests", "no price data is bundled; give --data FILE")
            section = run_backtest_section(name, prices_file)
            sections.append(section)
            # Stored beside the report, so `serve --backtests OUT/backtests` charts the same runs.
            stored = out / "backtests"
            stored.mkdir(parents=True, exist_ok=True)
            (stored / f"{name}.json").write_text(json.dumps(section.document), encoding="utf-8")
        if not sections:
            problem = "No backtest results were given (marginbook report --backtests DIR or --strategy NAME)."
        serve = "marginbook serve" if db_url is None else f"marginbook --db {db_url} serve"
        if strategy:
            serve += f" --backtests {out / 'backtests'}"
        store = open_ledger(db_url)
        path = write_report(
            out,
            store=store,
            years=year or [],
            backtests=sections,
            backtest_problem=problem,
            prices=market_price_lookup(),
            tax_profile=profile,
            serve_command=serve,
        )
        print(f"Report: {path.resolve()}")
        print(f"Explore it: {serve}", file=sys.stderr)
