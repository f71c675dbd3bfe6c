"""The fast fold: the engine's normal path for ordinary ledgers, with the exact same results.

:func:`fast_fold` encodes the events into lot operations with quantities as scaled
integers (:mod:`.encode`), runs the lot matching in a compiled kernel (:mod:`.kernel`) and
builds the exact ``Decimal`` records from the parts taken (:mod:`.replay`). A run it does
not support (short sales, specific identification, an allocation file, missing basis,
different methods per year, HIFO/LOFO across the 2025 allocation, quantities beyond 64-bit
integers ...) returns ``None``, says why in a debug log, and the caller runs the
``Decimal`` fold (:func:`marginbook.tax.engine.run_engine` does).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sized

from marginbook.domain.numbers import decimal_context
from marginbook.domain.prices import PriceSource
from marginbook.tax.engine import EngineResult, Fold, RunOptions
from marginbook.tax.events import TaxEvent
from marginbook.tax.profile import Profile

log = logging.getLogger(__name__)

#: Below this many events a process that has not loaded the compiled kernel yet runs the
#: ``Decimal`` fold: loading numba and the cached kernel costs about a second (two on a busy
#: machine), more than the fast fold saves on a small ledger.
MIN_EVENTS_COLD = 20_000
#: Once the kernel is loaded (a server, a second run), the fast fold runs from this size.
MIN_EVENTS_WARM = 500


def worth_it(events: Iterable[TaxEvent]) -> bool:
    """Whether the fast fold is worth trying on ``events`` (see :data:`MIN_EVENTS_COLD`).

    An iterable without a length (a ledger database read as it is iterated) is taken to be
    large.
    """
    if not isinstance(events, Sized):
        return True
    loaded = "marginbook.tax.fast.kernel" in sys.modules
    return len(events) >= (MIN_EVENTS_WARM if loaded else MIN_EVENTS_COLD)


def fast_fold(
    events: Iterable[TaxEvent], profile: Profile, prices: PriceSource | None, options: RunOptions
) -> EngineResult | None:
    """The engine's result by the fast fold, or ``None`` when the run needs the ``Decimal`` fold.

    Any exception while encoding (a missing price, an odd event) also returns ``None``: the
    ``Decimal`` fold then raises it at the same event, with the same message, as it always did.
    """
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


__all__ = ["MIN_EVENTS_COLD", "MIN_EVENTS_WARM", "fast_fold", "worth_it"]
