"""Ending the command-line process as soon as a command's output is written.

A large tax run leaves a gigabyte of small objects (records, rows, lots) behind. Freeing them
one by one, then the interpreter's own teardown (its last garbage collection over every
loaded library), take about 0.3 s on a million-event ledger and 0.15 s on 50,000 events, and
the user waits for them with nothing left to happen: the files are written and closed. The
console program therefore ends right there; the operating system reclaims the memory at once.

Only the console program (:func:`marginbook.cli.main.program`) asks for this; a test runner or
another program calling the app directly keeps running as usual.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

_console = False


def console_program() -> None:
    """Record that this process is the ``marginbook`` command itself (the console entry point)."""
    global _console
    _console = True


def done() -> None:
    """A command's output is complete: in the console program, flush and end the process now (status 0).

    Streams are flushed and logging is shut down first, as a normal exit would; nothing else
    registered to run at exit is needed by a command that calls this (its files and database
    connections are closed by then).
    """
    if not _console:
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing can reach it
            stream.flush()
    os._exit(0)
