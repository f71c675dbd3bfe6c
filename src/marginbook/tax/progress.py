"""Where a long tax run is, for whoever shows it; nothing happens when nobody listens.

A million-event ledger takes seconds in the fast fold and minutes in the ``Decimal`` fold
(short sales, specific identification ...). The engine names its stages here (reading the
ledger, matching lots, building records, the forms, writing) and counts events where it
walks them one by one; the command line shows that as a progress bar on a terminal
(:mod:`marginbook.cli.commands.tax`). The listener is held in a context variable, so a run
in one thread (a web request) is not shown by another, and a run without a listener pays a
lookup per stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

#: Called with a stage's name, and how far it is (``done`` of ``total`` units) when counted.
Listener = Callable[[str, int | None, int | None], None]

T = TypeVar("T")

_listener: ContextVar[Listener | None] = ContextVar("marginbook_tax_progress", default=None)

#: The ``Decimal`` fold reports every this many events.
EVERY = 10_000


def report(stage: str, done: int | None = None, total: int | None = None) -> None:
    """Tell the listener, if any, that the run is at ``stage`` (``done`` of ``total`` when counted)."""
    listener = _listener.get()
    if listener is not None:
        listener(stage, done, total)


def listening() -> bool:
    """Whether anyone listens (to skip counting work nobody will see)."""
    return _listener.get() is not None


@contextmanager
def listen(listener: Listener) -> Iterator[None]:
    """Send the stages of tax runs in this context to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def counted(items: Iterable[T], stage: str) -> Iterable[T]:
    """``items``, reporting ``stage`` with how many have passed every :data:`EVERY` (and at the
    end), out of their number when they have one; ``items`` themselves when nobody listens
    (a loop over a million events pays nothing for a bar nobody sees)."""
    if not listening():
        return items
    return _counting(items, stage)


def _counting(items: Iterable[T], stage: str) -> Iterator[T]:
    total = len(items) if isinstance(items, Sized) else None
    done = 0
    report(stage, 0, total)
    for done, item in enumerate(items, start=1):
        if done % EVERY == 0:
            report(stage, done, total)
        yield item
    report(stage, done, total)
