"""``marginbook serve``: the local web dashboard (FastAPI + uvicorn)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from marginbook.cli.context import state


def data_dir() -> Path:
    """The user's marginbook data directory (where the access token's digest is kept)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("marginbook", appauthor=False))


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command."""

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs the token.")] = (
            "127.0.0.1"
        ),
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        prices: Annotated[
            Path | None, typer.Option(help="OHLCV CSV for the charts (default: the bundled data).")
        ] = None,
        backtests: Annotated[
            Path | None, typer.Option(help="Folder of stored backtest JSON results to show.")
        ] = None,
        exports: Annotated[Path | None, typer.Option(help="Folder of tax exports to offer.")] = None,
        profile: Annotated[Path | None, typer.Option(help="Tax profile TOML for the Taxes page.")] = None,
        new_token: Annotated[
            bool, typer.Option("--new-token", help="Replace the access token (shown once).")
        ] = False,
    ) -> None:
        """Serve the dashboard. On 127.0.0.1 by default; on any other address only with an access
        token, which is generated and shown once (only its hash is stored)."""
        import uvicorn

        from marginbook.web import security
        from marginbook.web.main import create_app, preload
        from marginbook.web.settings import WebSettings, is_loopback

        token_hash = None
        if not is_loopback(host) or new_token:
            folder = data_dir()
            token_hash = None if new_token else security.load_token_hash(folder)
            if token_hash is None:
                token = security.create_token(folder)
                token_hash = security.hash_token(token)
                print(
                    f"Access token (shown once; only its hash is kept in {security.token_file(folder)}):\n"
                    f"  {token}\nSend it as 'Authorization: Bearer TOKEN' or sign in at /login.",
                    file=sys.stderr,
                )
        settings = WebSettings(
            host=host,
            port=port,
            db_url=state(ctx).db_url,
            token_hash=token_hash,
            price_file=prices,
            backtest_dir=backtests,
            export_dir=exports,
            tax_profile=profile,
        )
        application = create_app(settings)
        print("marginbook: preparing the dashboard (templates, price files, charts) …", file=sys.stderr)
        preload(application)  # first, alone: the worker's fold would halve its share of the CPU
        # Queue the fold and the engine runs (or read them back from the ledger database); pages
        # answer "computing…" meanwhile instead of waiting.
        application.state.dashboard.warm()
        shown = f"[{host}]" if ":" in host else host
        print(f"marginbook dashboard on http://{shown}:{port}/  (Ctrl-C stops it)", file=sys.stderr)
        uvicorn.run(application, host=host, port=port, log_level="warning")
