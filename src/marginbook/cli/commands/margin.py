"""``marginbook risk``, ``marginbook interest`` and ``marginbook paper``: the margin engine's commands.

Thin: parse flags, call :mod:`marginbook.margin`, render. Everything heavy is imported inside
the command functions, so ``marginbook risk`` starts fast.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class Side(StrEnum):
    """Position side."""

    long = "long"
    short = "short"


class Mode(StrEnum):
    """Margin mode."""

    isolated = "isolated"
    cross = "cross"


class Output(StrEnum):
    """Output format."""

    table = "table"
    json = "json"


class LotMethod(StrEnum):
    """Lot method for ``risk --collateral-wallet`` (the tax engine's ``--method``)."""

    fifo = "fifo"
    lifo = "lifo"
    hifo = "hifo"
    lofo = "lofo"


class RatePeriod(StrEnum):
    """What a quoted rate covers."""

    hour = "hour"
    day = "day"
    four_hours = "4h"


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _table(title: str, rows: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)


def risk(
    ctx: typer.Context,
    venue: Annotated[
        str, typer.Option(help="binance-usdm, binance-margin, kraken-margin, bybit-linear, okx-swap, generic")
    ],
    side: Annotated[Side, typer.Option(help="long or short")],
    entry: Annotated[float, typer.Option(help="Entry price.")],
    quantity: Annotated[float, typer.Option(help="Position size in base units.")],
    leverage: Annotated[float, typer.Option(help="Leverage (notional / own margin).")],
    mode: Annotated[Mode | None, typer.Option(help="isolated or cross (default: the venue's)")] = None,
    wallet_balance: Annotated[
        float | None, typer.Option(help="Isolated: the position's margin; cross: the account balance (USD).")
    ] = None,
    mmr: Annotated[
        float | None, typer.Option(help="Maintenance margin rate (fraction), overrides tiers.")
    ] = None,
    maintenance_amount: Annotated[
        float | None, typer.Option(help="Maintenance amount (USD) for --mmr.")
    ] = None,
    taker_fee: Annotated[float | None, typer.Option(help="Taker fee rate (fraction).")] = None,
    collateral_wallet: Annotated[
        str | None,
        typer.Option(help="Ledger wallet whose coins a liquidation would sell: adds tax_if_liquidated."),
    ] = None,
    collateral_asset: Annotated[
        str, typer.Option(help="The collateral coin in --collateral-wallet (the profiles are BTC markets).")
    ] = "BTC",
    collateral_quantity: Annotated[
        str | None, typer.Option(help="Units sold (default: all the wallet's units of the asset).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Liquidation time for the lots (ISO-8601 with zone; default now)."),
    ] = None,
    tax_profile: Annotated[
        Path | None, typer.Option("--profile", help="Taxpayer profile (TOML) for the lot method and boxes.")
    ] = None,
    method: Annotated[
        LotMethod | None, typer.Option(help="Lot method (default: the profile's for that year, else FIFO).")
    ] = None,
    output: Annotated[Output, typer.Option("--format", help="table or json")] = Output.table,
) -> None:
    """Pre-trade calculator: liquidation, margin-call and bankruptcy prices, margins, carry.

    With ``--collateral-wallet`` it also prices the tax of the forced sale of that ledger
    wallet's coins at the liquidation price (``tax_if_liquidated``).
    """
    from marginbook.margin import venues
    from marginbook.margin.risk import RiskQuestion, assess, risk_json, with_flag_overrides

    profile = with_flag_overrides(venues.profile(venue), mmr, maintenance_amount, taker_fee)
    margin_mode = mode.value if mode is not None else profile.default_mode
    raw = assess(
        RiskQuestion(
            venue=profile,
            side=1 if side is Side.long else -1,
            entry=entry,
            quantity=quantity,
            leverage=leverage,
            mode=margin_mode,
            wallet_balance=wallet_balance,
        )
    )
    figures = risk_json(raw)
    tax_lines: list[tuple[str, str]] = []
    if collateral_wallet is not None:
        figures["tax_if_liquidated"] = _tax_if_liquidated(
            ctx, profile, raw, figures, collateral_wallet, collateral_asset, collateral_quantity, at,
            tax_profile, method,
        )  # fmt: skip
        tax_lines = _tax_lines(figures["tax_if_liquidated"])
    if output is Output.json:
        _print_json(figures)
        return
    _table(
        f"{profile.name} {side.value} {quantity:g} @ {entry:g}, {leverage:g}x {margin_mode}",
        [(k, "never" if v is None else str(v)) for k, v in figures.items() if k not in _NOT_IN_TABLE]
        + tax_lines,
    )
    typer.echo(f"source: {profile.source}")


_NOT_IN_TABLE = ("source", "tax_if_liquidated")


def _tax_if_liquidated(
    ctx: typer.Context,
    venue: Any,
    raw: dict[str, Any],
    figures: dict[str, Any],
    wallet: str,
    asset: str,
    quantity_text: str | None,
    at_text: str | None,
    profile_path: Path | None,
    method: LotMethod | None,
) -> dict[str, Any] | None:
    """The ``tax_if_liquidated`` object, or ``None`` when the position is never liquidated."""
    from datetime import UTC, datetime

    from marginbook.app.liquidation_tax import LiquidationTaxRequest, liquidation_tax, liquidation_tax_json
    from marginbook.cli.context import state
    from marginbook.domain.errors import InputError, InputProblem
    from marginbook.domain.numbers import D
    from marginbook.margin.prices import parse_time
    from marginbook.margin.risk import collateral_sale_fee_terms
    from marginbook.tax.methods import Method

    problems = []
    quantity = None
    when = datetime.now(UTC)
    try:
        quantity = D(quantity_text) if quantity_text is not None else None
    except (ValueError, TypeError) as error:
        problems.append(InputProblem("--collateral-quantity", None, "", str(error)))
    if at_text is not None:
        try:
            when = parse_time(at_text)
        except ValueError as error:
            problems.append(InputProblem("--at", None, "", str(error)))
    if problems:
        raise InputError(problems)
    if figures["liquidation_price"] is None:
        return None
    rate, fixed = collateral_sale_fee_terms(venue, raw["liquidation_fee"])
    request = LiquidationTaxRequest(
        wallet=wallet,
        asset=asset.upper(),
        at=when,
        quantity=quantity,
        liquidation_price=D(figures["liquidation_price"]),
        fee_rate=D(repr(rate)),
        fixed_fee=D(figures["liquidation_fee"]) if fixed else D("0"),
        profile_path=profile_path,
        method=Method(method.value) if method is not None else None,
    )
    return liquidation_tax_json(liquidation_tax(state(ctx).db_url, request))


def _tax_lines(tax: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The table lines of ``tax_if_liquidated``."""
    if tax is None:
        return [("tax_if_liquidated", "n/a (never liquidated)")]
    lines = [
        (
            "tax_if_liquidated",
            f"{tax['quantity']} {tax['asset']} of {tax['wallet']} ({tax['method']}): gain {tax['gain']} "
            f"(short {tax['short_term_gain']}, long {tax['long_term_gain']}), box {tax['box']}",
        ),
        (
            "  proceeds − basis",
            f"{tax['proceeds']} − {tax['cost_basis']} (fee {tax['liquidation_fee']})",
        ),
    ]
    lines += [
        (f"  lot {lot['acquisition_id']}", f"{lot['quantity']} basis {lot['cost_basis']} {lot['term']}")
        for lot in tax["lots"][:10]
    ]
    lines += [("  warning", text) for text in tax["warnings"]]
    return lines


def interest(
    venue: Annotated[str, typer.Option(help="binance-margin, kraken-margin or generic")],
    principal: Annotated[str, typer.Option(help="Amount borrowed.")],
    asset: Annotated[str, typer.Option(help="Asset borrowed (USDC, BTC ...).")],
    rate: Annotated[
        str, typer.Option(help="Interest rate per --rate-period, a fraction (0.00001 = 0.001 %).")
    ],
    from_: Annotated[str, typer.Option("--from", help="Borrowed at (ISO-8601 with zone).")],
    to: Annotated[str, typer.Option("--to", help="Repaid at (ISO-8601 with zone).")],
    rate_period: Annotated[RatePeriod, typer.Option(help="hour, day or 4h")] = RatePeriod.hour,
    output: Annotated[Output, typer.Option("--format", help="table or json")] = Output.table,
) -> None:
    """Interest on a margin loan over a span, charge by charge, per the venue's clock."""
    from marginbook.domain.errors import InputError, InputProblem
    from marginbook.domain.events import format_timestamp
    from marginbook.domain.numbers import D, plain
    from marginbook.margin.interest import loan_interest
    from marginbook.margin.prices import parse_time

    problems = []
    values: dict[str, Any] = {}
    for flag, text, parse in (
        ("--principal", principal, D),
        ("--rate", rate, D),
        ("--from", from_, parse_time),
        ("--to", to, parse_time),
    ):
        try:
            values[flag] = parse(text)
        except (ValueError, TypeError) as error:
            problems.append(InputProblem(flag, None, "", str(error)))
    if problems:
        raise InputError(problems)
    result = loan_interest(
        venue, values["--principal"], values["--rate"], rate_period.value, values["--from"], values["--to"]
    )
    schedule = [{"at": format_timestamp(at), "amount": plain(amount)} for at, amount in result.schedule]
    document: dict[str, Any] = {
        "venue": venue,
        "asset": asset.upper(),
        "principal": plain(values["--principal"]),
        "interest": plain(result.interest),
        "periods_charged": result.periods_charged,
        "schedule": schedule,
    }
    if output is Output.json:
        _print_json(document)
        return
    _table(
        f"{venue}: {document['principal']} {document['asset']} from {from_} to {to}",
        [
            ("interest", f"{document['interest']} {document['asset']}"),
            ("periods charged", str(result.periods_charged)),
        ]
        + [(row["at"], row["amount"]) for row in schedule[:48]],
    )


DEFAULT_QUOTE = {"kraken-margin": "USD", "generic": "USD"}


def paper(
    venue: Annotated[str, typer.Option(help="The venue whose rules apply.")],
    orders: Annotated[Path, typer.Option(help="Orders CSV: timestamp,side,type,quantity[,price,...].")],
    prices: Annotated[
        Path | None, typer.Option(help="Price CSV: timestamp,open,high,low,close[,volume].")
    ] = None,
    deposit: Annotated[
        list[str] | None,
        typer.Option(help="Opening deposit, e.g. 10000USD; repeat for coins as collateral (0.5BTC)."),
    ] = None,
    mode: Annotated[Mode | None, typer.Option(help="isolated or cross (default: the venue's)")] = None,
    leverage: Annotated[float, typer.Option(help="Leverage of orders that give none.")] = 1.0,
    on_margin_call: Annotated[str, typer.Option(help="none, or topup:AMOUNT")] = "none",
    funding_rate: Annotated[
        float, typer.Option(help="Funding rate per funding interval (perpetuals).")
    ] = 0.0,
    base: Annotated[
        str | None, typer.Option(help="Traded asset (default: from the price file's name).")
    ] = None,
    wallet: Annotated[
        str | None, typer.Option(help="Wallet of the exported events (default paper-VENUE).")
    ] = None,
    export_ledger: Annotated[Path | None, typer.Option(help="Write the run's events as ledger CSV.")] = None,
    live: Annotated[bool, typer.Option(help="Trade a live ccxt feed instead of --prices.")] = False,
    exchange: Annotated[str | None, typer.Option(help="ccxt exchange id for --live.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Unified symbol for --live, e.g. BTC/USDT.")] = None,
    timeframe: Annotated[str, typer.Option(help="Bar length for --live (1m, 5m, 1h ...).")] = "1m",
    max_bars: Annotated[int, typer.Option(help="--live: stop after this many bars (0 = until Ctrl-C).")] = 0,
    output: Annotated[Output, typer.Option("--format", help="table or json")] = Output.table,
) -> None:
    """Replay orders against a price history (or a live feed) through the margin engine."""
    import hashlib

    from marginbook.domain.errors import InputError, InputProblem
    from marginbook.margin import venues
    from marginbook.margin.broker.engine import RunConfig
    from marginbook.margin.paper import base_from_file, parse_amount, run_id_for, split_deposits

    profile = venues.profile(venue)
    margin_mode = mode.value if mode is not None else profile.default_mode
    if not leverage > 0:
        raise InputError(InputProblem("--leverage", None, "", "must be positive"))
    if live:
        if not exchange or not symbol:
            raise InputError(InputProblem("--live", None, "", "needs --exchange and --symbol"))
        traded = base or symbol.split("/")[0].upper()
    else:
        if prices is None:
            raise InputError(InputProblem("--prices", None, "", "is required (or use --live)"))
        traded = base or base_from_file(prices) or ""
        if not traded:
            raise InputError(
                InputProblem(
                    "--base", None, "", f"cannot tell the traded asset from {prices.name}; give --base"
                )
            )
    amount, quote, base_amount = split_deposits(
        deposit or ["10000"], traded.upper(), DEFAULT_QUOTE.get(venue, "USDT")
    )
    topup = None
    if on_margin_call != "none":
        if not on_margin_call.startswith("topup:"):
            raise InputError(InputProblem("--on-margin-call", None, "", "must be none or topup:AMOUNT"))
        topup, topup_asset = parse_amount(on_margin_call.removeprefix("topup:"), "--on-margin-call", quote)
        if topup_asset != quote:
            raise InputError(InputProblem("--on-margin-call", None, "", f"a top-up is paid in {quote}"))
    inputs = [
        venue,
        margin_mode,
        str(amount),
        quote,
        str(base_amount),
        str(leverage),
        on_margin_call,
        str(funding_rate),
        traded,
    ]
    for path in (orders, prices):
        if path is not None and path.is_file():
            inputs.append(hashlib.sha256(path.read_bytes()).hexdigest())
    config = RunConfig(
        venue=profile,
        mode=margin_mode,
        base=traded.upper(),
        quote=quote,
        deposit=amount,
        leverage=leverage,
        run_id=run_id_for(*inputs),
        wallet=wallet or f"paper-{venue}",
        topup=topup,
        funding_rate=funding_rate,
        base_deposit=base_amount,
    )
    result = (
        _run_live(config, orders, exchange or "", symbol or "", timeframe, max_bars)
        if live
        else _run_file(config, prices, orders)
    )
    if export_ledger is not None:
        from marginbook.importers import ledger_csv

        with export_ledger.open("w", newline="", encoding="utf-8") as out:
            ledger_csv.write(result.events, out)
    _render_paper(result, output)


def _run_file(config: Any, prices: Path | None, orders: Path) -> Any:
    from marginbook.margin.paper import load_inputs, replay

    assert prices is not None  # checked by the caller
    bars, order_list = load_inputs(prices, orders)
    _, result = replay(config, bars, order_list)
    return result


def _run_live(config: Any, orders: Path, exchange_id: str, symbol: str, timeframe: str, max_bars: int) -> Any:
    from marginbook.margin.live import PollingFeed, make_exchange
    from marginbook.margin.orders import read_orders
    from marginbook.margin.paper import run_live

    feed = PollingFeed(make_exchange(exchange_id), symbol, timeframe)
    return run_live(config, read_orders(orders), feed, max_bars=max_bars)


def _render_paper(result: Any, output: Output) -> None:
    from marginbook.margin.paper import result_json

    document = result_json(result)
    if output is Output.json:
        _print_json(document)
        return
    _table(
        f"paper run {document['run_id']} ({document['bars']} bars)",
        [
            ("final equity", f"{document['final_equity']} {document['quote']}"),
            ("trades", str(len(document["trades"]))),
            ("liquidations", _liquidation_count(document["liquidations"])),
            ("margin calls", str(len(document["margin_calls"]))),
            ("rejected orders", str(len(document["rejected_orders"]))),
            ("interest paid", document["interest_paid"]),
            ("fees paid", document["fees_paid"]),
            ("funding", document["funding"]),
            ("ledger events", str(document["events"])),
        ],
    )


def _liquidation_count(records: list[dict[str, object]]) -> str:
    """``3`` or ``3 (2 partial)``: tiered venues may liquidate part of a position."""
    partial = sum(1 for r in records if r.get("partial"))
    return f"{len(records)} ({partial} partial)" if partial else str(len(records))


def register(app: typer.Typer) -> None:
    """Add ``risk``, ``interest`` and ``paper`` to the command line."""
    app.command("risk")(risk)
    app.command("interest")(interest)
    app.command("paper")(paper)
