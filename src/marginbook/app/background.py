"""One worker thread that computes the dashboard's slow figures, so that no page waits for them.

The holdings fold, the tax engine's runs and the generated exports take seconds to minutes on
a large ledger, and the machine may have only a couple of cores: running them one at a time in
a single thread keeps each as fast as it can be and leaves the request threads free. A request
that needs a figure *schedules* it here and waits a bounded time for it
(:meth:`Worker.wait_for`); if it is not done by then the request answers "computing" and the
browser (or the API client) asks again.

Jobs are named (``snapshot``, ``tax:2025``, ``export:2025:pdf`` ...): scheduling a job that is
already queued or running does nothing, so a hundred polling browsers start one computation.
A job a person asked for goes to the front of the queue; the start-up warming goes to the back.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from marginbook.domain.errors import MarginbookError


class StillComputing(MarginbookError):
    """A figure is being computed in the background; ask again in ``retry_after`` seconds.

    Attributes:
        job: the job's name (``tax:2025`` ...), as ``/api/status`` lists it.
        what: what is being computed, for a person.
        ready: the name ``/api/status`` lists under ``ready`` once the awaited part is done
            (the job's name, or ``holdings`` for the fold the snapshot job makes first).
        retry_after: whole seconds a client should wait before asking again.
    """

    def __init__(self, job: str, what: str, retry_after: int = 2, ready: str = "") -> None:
        self.job = job
        self.what = what
        self.retry_after = retry_after
        self.ready = ready or job
        super().__init__(f"{what} is being computed; ask again in {retry_after} s")


@dataclass
class Worker:
    """A queue of named jobs run one at a time by a daemon thread (started on first use)."""

    _queue: deque[tuple[str, Callable[[], None]]] = field(default_factory=deque)
    _running: str | None = None
    _started_at: float = 0.0
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def schedule(self, name: str, job: Callable[[], None], *, urgent: bool = False) -> None:
        """Queue ``job`` under ``name`` unless a job of that name is queued or running.

        Args:
            urgent: put it first (a person is waiting), else last (warming).
        """
        with self._lock:
            if name == self._running:
                return
            queued = [entry for entry in self._queue if entry[0] == name]
            if queued:
                if urgent and self._queue[0][0] != name:
                    self._queue.remove(queued[0])
                    self._queue.appendleft(queued[0])
                return
            if urgent:
                self._queue.appendleft((name, job))
            else:
                self._queue.append((name, job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="marginbook-worker", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running = None
                    self._thread = None
                    break
                name, job = self._queue.popleft()
                self._running, self._started_at = name, time.monotonic()
            try:
                job()  # a job records its own result or failure; nothing may kill the worker
            except Exception:  # the next job must still run
                pass
            finally:
                self.notify()
        self.notify()

    def notify(self) -> None:
        """Wake the waiters: a result or a failure has been recorded."""
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``ready()`` to be true (it is checked after each job
        and each notification); return its last value."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(min(remaining, 0.5))
        return True

    def busy(self) -> bool:
        """True while a job is queued or running."""
        with self._lock:
            return self._running is not None or bool(self._queue)

    def jobs(self) -> list[dict[str, object]]:
        """The running job (with its seconds so far) and the queued ones, in order."""
        with self._lock:
            listed: list[dict[str, object]] = []
            if self._running is not None:
                seconds = round(time.monotonic() - self._started_at, 1)
                listed.append({"name": self._running, "state": "running", "seconds": seconds})
            listed.extend({"name": name, "state": "queued"} for name, _ in self._queue)
            return listed

    def join(self, timeout: float | None = None) -> None:
        """Wait until the queue is empty (for tests and orderly shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.busy():
            if deadline is not None and time.monotonic() > deadline:
                return
            self.wait_for(lambda: not self.busy(), 0.2)
