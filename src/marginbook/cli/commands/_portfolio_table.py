"""Rich tables of ``marginbook portfolio`` (kept apart so the command module stays import-light)."""

from __future__ import annotations

from decimal import Decimal

from marginbook.app.portfolio import Portfolio
from marginbook.domain.numbers import cents, plain


def _usd(value: Decimal | None) -> str:
    return "—" if value is None else f"{cents(value):,}"


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} %"


def print_portfolio(portfolio: Portfolio) -> None:
    """Print holdings, totals, positions and warnings to stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    holdings = Table(title=f"Holdings at {portfolio.at:%Y-%m-%d %H:%M} UTC ({portfolio.events} events)")
    for name in ("wallet", "asset"):
        holdings.add_column(name)
    for name in ("quantity", "cost basis", "price", "market value", "unrealized P&L"):
        holdings.add_column(name, justify="right")
    for h in portfolio.holdings:
        price = _usd(h.price) + (f" ({h.price_source})" if h.price_source not in ("", "par") else "")
        holdings.add_row(
            h.wallet,
            h.asset,
            plain(h.quantity),
            _usd(h.cost_basis),
            price,
            _usd(h.market_value),
            _usd(h.unrealized_pnl),
        )
    console.print(holdings)
    console.print(
        f"market value {_usd(portfolio.total_value)}  loans {_usd(portfolio.total_liabilities)}  "
        f"net {_usd(portfolio.net_value)}  unrealized {_usd(portfolio.unrealized_pnl)}  "
        f"realized {portfolio.at.year} {_usd(portfolio.realized_pnl_year)}  "
        f"interest paid {portfolio.at.year} {_usd(portfolio.interest_paid_year)}"
    )
    if portfolio.positions:
        positions = Table(title="Open margin positions")
        for name in ("wallet", "side", "asset", "borrowed"):
            positions.add_column(name)
        for name in ("margin level", "margin call at", "to call", "liquidation at", "to liquidation"):
            positions.add_column(name, justify="right")
        for p in portfolio.positions:
            level = "—" if p.margin_level is None else f"{p.margin_level:.3f}"
            positions.add_row(
                p.wallet,
                p.side,
                p.risk_asset,
                f"{plain(p.borrowed)} {p.asset}",
                level,
                _usd(p.margin_call_price),
                _pct(p.distance_to_call),
                _usd(p.liquidation_price),
                _pct(p.distance_to_liquidation),
            )
        console.print(positions)
    for warning in portfolio.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
