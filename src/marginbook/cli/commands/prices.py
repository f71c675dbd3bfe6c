"""``marginbook prices``: look up a fair market value, download bars into the price cache."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from marginbook.domain.errors import InputError, InputProblem

prices_app = typer.Typer(
    help="Price data: fair-market-value look-up and OHLCV downloads.", no_args_is_help=True
)


def _moment(text: str, option: str) -> datetime:
    """An ISO time or date from the command line; no zone means UTC, a bare date 00:00 UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        problem = f"not a time: {text!r} (use 2024-03-02T14:05:00Z)"
        raise InputError(InputProblem(option, None, "", problem)) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@prices_app.command("show")
def show(
    asset: Annotated[str, typer.Argument(help="Asset code, e.g. BTC.")],
    at: Annotated[str, typer.Option("--at", help="Time (ISO-8601; no zone = UTC).")],
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Show the USD fair market value of ASSET at a time, and how it was found."""
    from marginbook.market.prices import default_price_source

    quote = default_price_source().quote(asset, _moment(at, "--at"))
    if output == "json":
        document = {"asset": quote.asset, "at": quote.at.isoformat().replace("+00:00", "Z"),
                    "usd": str(quote.usd), "rule": quote.rule, "source": quote.source, "quote": quote.quote}
        typer.echo(json.dumps(document))
    elif output == "text":
        typer.echo(f"{quote.asset} at {quote.at.isoformat()}: {quote.usd} USD ({quote.rule})")
        if quote.source:
            typer.echo(f"source: {quote.source}")
    else:
        raise InputError(InputProblem("--format", None, "", f"expected text or json, got {output!r}"))


@prices_app.command("fetch")
def fetch(
    exchange: Annotated[str, typer.Option("--exchange", help="ccxt exchange id, e.g. binance, kraken.")],
    symbol: Annotated[str, typer.Option("--symbol", help="Unified symbol, e.g. BTC/USDT.")],
    since: Annotated[str, typer.Option("--since", help="First day (or time) to fetch, UTC.")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="Bar length: 1h, 1d ...")] = "1d",
    until: Annotated[str | None, typer.Option("--until", help="Stop before this time; default now.")] = None,
) -> None:
    """Download OHLCV bars through ccxt into the price cache used by the FMV look-up."""
    from marginbook.domain.errors import MarginbookError
    from marginbook.market import fetch as fetching
    from marginbook.market.prices import price_cache_dir

    target = fetching.cache_file(price_cache_dir(), symbol, timeframe)
    client = fetching.public_exchange(exchange)

    def report(count: int, last: datetime) -> None:
        print(f"\r{count} bars, up to {last:%Y-%m-%d %H:%M}", end="", file=sys.stderr, flush=True)

    import ccxt

    try:
        bars = fetching.fetch_bars(client, symbol, timeframe, _moment(since, "--since"),
                                   until=_moment(until, "--until") if until else None, progress=report)
    except ccxt.BadSymbol as error:
        problem = f"{exchange} does not list {symbol}: {error}"
        raise InputError(InputProblem("--symbol", None, "", problem)) from None
    except ccxt.BaseError as error:
        raise MarginbookError(f"{exchange}: {type(error).__name__}: {error}") from None
    print(file=sys.stderr)
    total = fetching.merge_into_cache(target, bars)
    typer.echo(f"fetched {len(bars)} bars of {symbol} {timeframe} from {exchange}; {target} holds {total}")


def register(app: typer.Typer) -> None:
    """Add ``marginbook prices``."""
    app.add_typer(prices_app, name="prices")
