"""Entry point of the ``marginbook`` command.

Global options (``--db``, ``--version``) live here; every command group lives in its own
module under :mod:`marginbook.cli.commands` and is found at start-up, so that groups can be
added without touching this file. Exit codes follow the CLI contract: 2 for bad input,
1 for other failures.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from marginbook import __version__
from marginbook.cli import commands
from marginbook.cli.context import CliState

app = typer.Typer(
    name="marginbook",
    help="Margin trading simulator, portfolio tracker and US tax engine for crypto, on one ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"marginbook {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="MARGINBOOK_DB",
            help="Ledger database URL (sqlite:///FILE or postgresql+psycopg://...). "
            "Default: a SQLite file in the user's data directory.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Margin trading simulator, portfolio tracker and US tax engine for crypto, on one ledger."""
    ctx.obj = CliState(db_url=db)


def _register_commands() -> None:
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue  # helpers of a command (e.g. its tables), imported by it when it runs
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_commands()


@contextmanager
def _only_the_invoked_command(argv: list[str]) -> Iterator[None]:
    """Register only the command (or group) named first on ``argv`` while the app runs.

    Typer builds every registered command's parameters (signatures, annotations) before it
    dispatches, which costs tens of milliseconds for a dozen commands; ``marginbook risk``
    must start in under 300 ms. The first word that is not an option (``--db`` takes a
    value) names the command; when it names none (``--help``, a typo), everything is kept so
    that the overview and Typer's "No such command" message stay as they are. The full
    lists are restored afterwards (``run`` may be called more than once in one process).
    """
    commands, groups = list(app.registered_commands), list(app.registered_groups)
    words = iter(argv)
    for word in words:
        if word == "--db":
            next(words, None)
            continue
        if word.startswith("-"):
            continue
        chosen = [info for info in commands if info.name == word]
        chosen_groups = [info for info in groups if info.name == word]
        if chosen or chosen_groups:
            app.registered_commands[:] = chosen
            app.registered_groups[:] = chosen_groups
        break
    try:
        yield
    finally:
        app.registered_commands[:] = commands
        app.registered_groups[:] = groups


def program() -> None:
    """The ``marginbook`` program (its console script and ``python -m marginbook``): :func:`run`,
    ending the process as soon as a command's output is written (:mod:`marginbook.cli.process`).

    Tests and other programs call :func:`run` or the app, which return as usual.
    """
    from marginbook.cli.process import console_program

    console_program()
    run()


def run() -> None:
    """Console-script entry point: run the app and map marginbook's errors to exit codes.

    Typer handles usage errors itself (exit 2); marginbook's own errors propagate to here.
    """
    from marginbook.domain.errors import InputError, MarginbookError

    try:
        with _only_the_invoked_command(sys.argv[1:]):
            app()
    except InputError as error:
        for problem in error.problems[:20]:
            print(f"error: {problem}", file=sys.stderr)
        if len(error.problems) > 20:
            print(f"error: ... and {len(error.problems) - 20} more problems", file=sys.stderr)
        sys.exit(2)
    except MarginbookError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
