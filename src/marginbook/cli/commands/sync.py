"""``marginbook sync --exchange ID``: fetch trades, ledger, borrow interest and funding via ccxt."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from marginbook.cli.context import state
from marginbook.domain.errors import InputError, InputProblem, MarginbookError


def make_client(exchange_id: str, secrets: dict[str, str]) -> Any:
    """A ccxt exchange with ``secrets`` set, rate-limited as ccxt recommends."""
    import ccxt

    return getattr(ccxt, exchange_id)({**secrets, "enableRateLimit": True})


def _since_ms(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(InputProblem("--since", None, "", f"not a date or time: {text!r}")) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(moment.timestamp() * 1000)


def sync_command(
    ctx: typer.Context,
    exchange: Annotated[str, typer.Option("--exchange", help="ccxt exchange id, e.g. kraken, binance.")],
    since: Annotated[
        str | None, typer.Option("--since", help="Start here instead of the last sync (UTC).")
    ] = None,
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="Market(s) for per-market histories.")
    ] = None,
    kinds: Annotated[
        str, typer.Option("--kinds", help="Comma list of trades,ledger,borrow_interest,funding.")
    ] = ("trades,ledger,borrow_interest,funding"),
    wallet: Annotated[
        str | None, typer.Option("--wallet", help="Wallet to book into; default the exchange id.")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Fetch new records from an exchange API and add them to the ledger (incremental)."""
    import ccxt

    from marginbook.importers import ccxt_sync, sync_state

    if exchange not in ccxt.exchanges:
        raise InputError(InputProblem("--exchange", None, "", f"ccxt knows no exchange {exchange!r}"))
    wanted = [kind.strip() for kind in kinds.split(",") if kind.strip()]
    unknown = [kind for kind in wanted if kind not in ccxt_sync.KINDS]
    if unknown or not wanted:
        raise InputError(
            InputProblem("--kinds", None, "", f"unknown kind(s) {unknown}; known: {ccxt_sync.KINDS}")
        )
    if output not in ("text", "json"):
        raise InputError(InputProblem("--format", None, "", f"expected text or json, got {output!r}"))
    db_url = state(ctx).db_url
    secrets = sync_state.credentials(exchange)
    client = make_client(exchange, secrets)
    start = _since_ms(since)
    cursors = {} if start is not None else sync_state.load_cursors(db_url, exchange)
    try:
        result = ccxt_sync.sync(
            client, kinds=wanted, cursors=cursors, since=start, symbols=symbol or (), wallet=wallet
        )
    except ccxt.AuthenticationError as error:
        raise MarginbookError(
            f"{exchange} refused the API key: {sync_state.redact(str(error), secrets)}"
        ) from None
    except ccxt.BaseError as error:
        message = sync_state.redact(str(error), secrets)
        raise MarginbookError(f"{exchange}: {type(error).__name__}: {message}") from None
    if result.problems:
        raise InputError(result.problems)
    from marginbook.ledger.store import open_store

    added = open_store(db_url).add_events(result.events) if result.events else 0
    sync_state.save_cursors(db_url, exchange, result.cursors)
    summary = {
        "exchange": exchange,
        "fetched": len(result.events),
        "added": added if isinstance(added, int) else None,
        "unsupported": result.unsupported,
        "cursors": {k: datetime.fromtimestamp(v / 1000, UTC).isoformat() for k, v in result.cursors.items()},
    }
    if output == "json":
        typer.echo(json.dumps(summary))
        return
    typer.echo(
        f"{exchange}: fetched {len(result.events)} events"
        + (f", {added} new in the ledger" if isinstance(added, int) else "")
    )
    if result.unsupported:
        typer.echo(f"not offered by {exchange} through ccxt: {', '.join(result.unsupported)}")


def register(app: typer.Typer) -> None:
    """Add ``marginbook sync``."""
    app.command("sync")(sync_command)
