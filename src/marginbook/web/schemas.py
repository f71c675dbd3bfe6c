"""Pydantic models of the JSON API: what leaves the server, with decimals as strings.

These are neither the domain records nor the database rows (STYLE §8): they are the public
shape of ``/api``, built from ``marginbook.app`` results by the ``from_*`` functions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from marginbook.app.portfolio import Holding, MarginPosition, Portfolio
from marginbook.domain.events import LedgerEvent, format_timestamp
from marginbook.domain.numbers import cents, decimal_context, plain


def text(value: Decimal | None) -> str | None:
    """A decimal as the contract's plain string (``None`` stays ``None``)."""
    return None if value is None else plain(value)


def _usd_text(value: Decimal) -> str:
    return plain(cents(value))


def _optional_usd_text(value: Decimal | None) -> str | None:
    return None if value is None else _usd_text(value)


_PRICE_STEP = Decimal("1e-10")
_RATIO_STEP = Decimal("1e-6")


def usd(value: Decimal | None) -> str | None:
    """A USD amount to the cent: bases split pro rata carry 20 decimal places, which tell nobody
    anything past the cent (quantities, by contrast, are never rounded)."""
    return None if value is None else plain(cents(value))


def price_text(value: Decimal | None) -> str | None:
    """A unit price to 1e-10 USD (enough for the smallest-priced tokens)."""
    if value is None:
        return None
    with decimal_context():
        return plain(value.quantize(_PRICE_STEP))


def ratio_text(value: Decimal | None) -> str | None:
    """A margin level or a relative distance, to six decimals."""
    if value is None:
        return None
    with decimal_context():
        return plain(value.quantize(_RATIO_STEP))


class Problem(BaseModel):
    """One problem of an upload: file, row (header = 1), field, what is wrong."""

    source: str
    row: int | None
    field: str
    problem: str


class ImportResult(BaseModel):
    """An import that succeeded: every event was written in one transaction."""

    added: int
    unchanged: int


class ImportRejected(BaseModel):
    """An import that failed: nothing was written."""

    detail: str
    problems: list[Problem]


class HoldingOut(BaseModel):
    """One holding; decimals are strings, ``null`` when unknown."""

    wallet: str
    asset: str
    quantity: str
    cost_basis: str | None
    price: str | None
    price_source: str
    market_value: str | None
    unrealized_pnl: str | None


class PositionOut(BaseModel):
    """An open margin loan and its risk figures."""

    wallet: str
    position: str
    asset: str
    borrowed: str
    risk_asset: str
    side: str
    margin_level: str | None
    margin_call_price: str | None
    liquidation_price: str | None
    distance_to_call: str | None
    distance_to_liquidation: str | None


class PortfolioOut(BaseModel):
    """The portfolio, as ``marginbook portfolio --format json`` prints it."""

    at: str
    events: int
    total_value: str
    total_liabilities: str
    net_value: str
    total_cost_basis: str | None
    unrealized_pnl: str | None
    realized_pnl_year: str | None
    interest_paid_year: str
    holdings: list[HoldingOut]
    positions: list[PositionOut]
    warnings: list[str]


class EventOut(BaseModel):
    """One ledger event (the ledger CSV's columns; empty ones left out)."""

    id: str
    timestamp: str
    type: str
    wallet: str
    asset: str
    amount: str
    fields: dict[str, str] = Field(default_factory=dict, description="the other non-empty columns")


class EventsPage(BaseModel):
    """A page of ledger events."""

    total: int
    offset: int
    events: list[EventOut]


class Unavailable(BaseModel):
    """A part of marginbook this endpoint needs is not installed yet."""

    detail: str


class Computing(BaseModel):
    """``202``: the figures are being computed in the background; ask again after ``retry_after``
    seconds (also the ``Retry-After`` header). ``job`` is listed by ``/api/status``."""

    status: str = "computing"
    job: str
    detail: str
    retry_after: int


class Job(BaseModel):
    """A background computation: ``running`` (for ``seconds``) or ``queued``."""

    name: str
    state: str
    seconds: float | None = None


class Status(BaseModel):
    """What the server has ready for the ledger as it is now (``events``), what failed (name →
    why) and what it is computing. Names: ``holdings`` (the fold), ``snapshot`` (the portfolio
    with the tax engine's basis), ``tax:YEAR``, ``export:YEAR:FORMAT``."""

    events: int
    ready: list[str]
    failed: dict[str, str]
    jobs: list[Job]


class Health(BaseModel):
    """The server answers; ``ledger`` says whether the ledger store is open."""

    status: str
    ledger: bool
    version: str


def holding_out(holding: Holding) -> HoldingOut:
    """API shape of a holding."""
    return HoldingOut(
        wallet=holding.wallet,
        asset=holding.asset,
        quantity=plain(holding.quantity),
        cost_basis=usd(holding.cost_basis),
        price=price_text(holding.price),
        price_source=holding.price_source,
        market_value=usd(holding.market_value),
        unrealized_pnl=usd(holding.unrealized_pnl),
    )


def position_out(position: MarginPosition) -> PositionOut:
    """API shape of an open margin position."""
    return PositionOut(
        wallet=position.wallet,
        position=position.position,
        asset=position.asset,
        borrowed=plain(position.borrowed),
        risk_asset=position.risk_asset,
        side=position.side,
        margin_level=ratio_text(position.margin_level),
        margin_call_price=price_text(position.margin_call_price),
        liquidation_price=price_text(position.liquidation_price),
        distance_to_call=ratio_text(position.distance_to_call),
        distance_to_liquidation=ratio_text(position.distance_to_liquidation),
    )


def portfolio_out(portfolio: Portfolio) -> PortfolioOut:
    """API shape of the portfolio (also the CLI's JSON)."""
    return PortfolioOut(
        at=format_timestamp(portfolio.at),
        events=portfolio.events,
        total_value=_usd_text(portfolio.total_value),
        total_liabilities=_usd_text(portfolio.total_liabilities),
        net_value=_usd_text(portfolio.net_value),
        total_cost_basis=_optional_usd_text(portfolio.total_cost_basis),
        unrealized_pnl=_optional_usd_text(portfolio.unrealized_pnl),
        realized_pnl_year=usd(portfolio.realized_pnl_year),
        interest_paid_year=_usd_text(portfolio.interest_paid_year),
        holdings=[holding_out(h) for h in portfolio.holdings],
        positions=[position_out(p) for p in portfolio.positions],
        warnings=list(portfolio.warnings),
    )


_EXTRA_FIELDS = (
    "counter_asset",
    "counter_amount",
    "fee_asset",
    "fee_amount",
    "usd_value",
    "to_wallet",
    "cost_basis_usd",
    "acquired_at",
    "position",
    "opened_at",
    "note",
)


def event_out(event: LedgerEvent) -> EventOut:
    """API shape of an event."""
    extra: dict[str, str] = {}
    for name in _EXTRA_FIELDS:
        value: Any = getattr(event, name)
        if value is None:
            continue
        extra[name] = (
            plain(value)
            if isinstance(value, Decimal)
            else (format_timestamp(value) if hasattr(value, "tzinfo") else str(value))
        )
    if event.lots:
        extra["lots"] = ";".join(f"{pick.acquisition_id}:{plain(pick.quantity)}" for pick in event.lots)
    return EventOut(
        id=event.id,
        timestamp=format_timestamp(event.timestamp),
        type=event.kind.value,
        wallet=event.wallet,
        asset=event.asset,
        amount=plain(event.amount),
        fields=extra,
    )
