"""The fast fold: the engine's normal path for ordinary ledgers, with the exact same results.

:func:`fast_fold` encodes the events into lot operations with quantities as scaled
integers (:mod:`.encode`), runs the lot matching in a compiled kernel (:mod:`.kernel`, a
Cython extension built at install) and builds the exact ``Decimal`` records from the parts
taken (:mod:`.replay`). A run it does not support (short sales, specific identification, an
allocation file, missing basis, different methods per year, HIFO/LOFO across the 2025
allocation, quantities beyond 64-bit integers ...), or a source checkout whose kernel was
never compiled, returns ``None``, says why in a debug log, and the caller runs the
``Decimal`` fold (:func:`marginbook.tax.engine.run_engine` does).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sized

from marginbook.domain.numbers import decimal_context
from marginbook.domain.prices import PriceSource
from marginbook.tax.engine import EngineResult, Fold, RunOptions
from marginbook.tax.events import TaxEvent
from marginbook.tax.profile import Profile

log = logging.getLogger(__name__)

#: Below this many events the ``Decimal`` fold runs: the fast fold's fixed costs (encoding,
#: numpy arrays, the kernel's call) outweigh what it saves on a smaller ledger. Measured in one
#: process (median of 11, ``tests/tax/synthetic.py`` ledgers, FIFO, 2026-12-05): the fast fold
#: takes 2x the ``Decimal`` fold's time at 10 events, ties at 20-50, is 1.3-1.4x faster at 100,
#: 1.6x at 200, 2.2x at 5,000. One threshold, in a fresh process as in a warm one: the compiled
#: kernel loads in about a millisecond (numba took 0.35-0.4 s, so a fresh process used to wait
#: for 20,000 events).
MIN_EVENTS = 100


def worth_it(events: Iterable[TaxEvent]) -> bool:
    """Whether the fast fold is worth trying on ``events`` (see :data:`MIN_EVENTS`).

    An iterable without a length (a ledger database read as it is iterated) is taken to be
    large.
    """
    return not isinstance(events, Sized) or len(events) >= MIN_EVENTS


def fast_fold(
    events: Iterable[TaxEvent], profile: Profile, prices: PriceSource | None, options: RunOptions
) -> EngineResult | None:
    """The engine's result by the fast fold, or ``None`` when the run needs the ``Decimal`` fold.

    Any exception while encoding (a missing price, an odd event) also returns ``None``: the
    ``Decimal`` fold then raises it at the same event, with the same message, as it always did.
    """
    try:
        import marginbook.tax.fast.kernel  # noqa: F401  (the compiled lot kernel)
    except ImportError as error:
        log.debug("fast fold not used (no compiled lot kernel: %s), the Decimal fold runs", error)
        return None
    from marginbook.tax.fast.encode import Unsupported, encode
    from marginbook.tax.fast.replay import replay

    fold = Fold(profile, prices, options)
    try:
        with decimal_context():
            program, encoder = encode(events, fold)
            return replay(program, encoder)
    except Unsupported as reason:
        log.debug("fast fold not used, the Decimal fold runs: %s", reason)
    except Exception as error:
        log.debug("fast fold not used (%s: %s), the Decimal fold runs", type(error).__name__, error)
    return None


__all__ = ["MIN_EVENTS", "fast_fold", "worth_it"]
