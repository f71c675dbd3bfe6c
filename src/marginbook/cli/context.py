"""State shared by all commands of one invocation (the global options)."""

from __future__ import annotations

from dataclasses import dataclass

import typer


@dataclass(frozen=True, slots=True)
class CliState:
    """Global options. ``db_url`` is ``None`` for the default SQLite file."""

    db_url: str | None


def state(ctx: typer.Context) -> CliState:
    """The global options of this invocation, from any command's context."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState(db_url=None)
