"""``marginbook portfolio``: holdings, basis, value, P&L and open margin positions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from marginbook.cli.context import state


def _parse_at(text: str | None) -> datetime | None:
    from marginbook.domain.errors import InputError, InputProblem

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(InputProblem("--at", None, "", f"not an ISO-8601 time: {text!r}")) from None
    if value.tzinfo is None:
        raise InputError(InputProblem("--at", None, "", "a time needs a zone (write Z or +00:00)"))
    return value


def register(app: typer.Typer) -> None:
    """Add the ``portfolio`` command."""

    @app.command()
    def portfolio(
        ctx: typer.Context,
        at: Annotated[
            str | None, typer.Option("--at", help="Value the ledger as of this time (ISO-8601).")
        ] = None,
        format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
        profile: Annotated[
            Path | None,
            typer.Option("--profile", help="Taxpayer profile (TOML): the lot method of the basis and gains."),
        ] = None,
    ) -> None:
        """Holdings per wallet and asset with basis, market value and unrealized P&L; realized P&L of
        the year; open margin loans with margin level and distance to margin call and liquidation.
        Basis and realized P&L are the tax engine's (the figures of ``marginbook tax``)."""
        from marginbook.app.dashboard import Dashboard
        from marginbook.app.features import market_price_lookup, open_ledger
        from marginbook.domain.errors import InputError, InputProblem

        if format not in ("table", "json"):
            raise InputError(InputProblem("--format", None, "", f"must be table or json, not {format!r}"))
        when = _parse_at(at)
        dashboard = Dashboard(
            open_ledger(state(ctx).db_url), prices=market_price_lookup(), tax_profile=profile
        )
        result = dashboard.portfolio(when)
        if format == "json":
            from marginbook.web.schemas import portfolio_out

            typer.echo(json.dumps(portfolio_out(result).model_dump(), indent=2))
            return
        from marginbook.cli.commands._portfolio_table import print_portfolio

        print_portfolio(result)
