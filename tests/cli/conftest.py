"""Run the real command line in-process (through ``marginbook.cli.main.run``, so exit codes
and error messages are those a user sees) and capture what it prints."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from marginbook.cli.main import run


@dataclass(frozen=True)
class Outcome:
    """Exit code and captured output of one invocation."""

    code: int
    out: str
    err: str


Cli = Callable[..., Outcome]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("ledger", "--format", "json")`` runs ``marginbook ledger --format json``."""
    monkeypatch.delenv("MARGINBOOK_DB", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> Outcome:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["marginbook", *args])
        with pytest.raises(SystemExit) as exit_:
            run()
        captured = capsys.readouterr()
        code = exit_.value.code
        return Outcome(code if isinstance(code, int) else 1, captured.out, captured.err)

    return invoke
