"""One module per command group. Each defines ``register(app: typer.Typer) -> None``.

:mod:`marginbook.cli.main` discovers the modules here, so adding a command never edits a
shared file. Keep heavy imports (numpy, SQLAlchemy, ccxt ...) inside the command functions:
``marginbook risk`` must start in well under 300 ms.
"""
