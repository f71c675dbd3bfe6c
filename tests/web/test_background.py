"""The worker thread's queue and the stored payloads' exactness."""

from __future__ import annotations

import threading
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from marginbook.app.background import Worker
from marginbook.app.holdings_fold import FoldResult
from marginbook.app.result_cache import (
    fold_from_payload,
    fold_payload,
    standing_from_payload,
    standing_payload,
)


def test_a_job_a_person_waits_for_runs_before_the_queued_warming_and_names_run_once() -> None:
    worker = Worker()
    gate, order = threading.Event(), []
    worker.schedule("first", lambda: (gate.wait(10), order.append("first")))
    assert worker.wait_for(lambda: worker.jobs()[0].get("state") == "running", 10)
    worker.schedule("warm-a", lambda: order.append("warm-a"))
    worker.schedule("warm-b", lambda: order.append("warm-b"))
    worker.schedule("warm-a", lambda: order.append("warm-a again"))  # already queued: nothing
    worker.schedule("asked", lambda: order.append("asked"), urgent=True)
    worker.schedule("warm-b", lambda: order.append("warm-b again"), urgent=True)  # moved to the front
    assert [job["name"] for job in worker.jobs()] == ["first", "warm-b", "asked", "warm-a"]
    gate.set()
    worker.join(10)
    assert order == ["first", "warm-b", "asked", "warm-a"] and not worker.busy()


def test_a_failing_job_does_not_stop_the_next() -> None:
    worker, done = Worker(), []

    def boom() -> None:
        raise RuntimeError("boom")

    worker.schedule("boom", boom)
    worker.schedule("next", lambda: done.append(True))
    worker.join(10)
    assert done == [True]


def test_wait_for_gives_up_after_its_timeout() -> None:
    worker = Worker()
    assert worker.wait_for(lambda: False, 0.05) is False
    assert worker.wait_for(lambda: True, 0.05) is True


decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: d.is_finite())
names = st.text(alphabet="abcXYZ-_:", min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(balances=st.dictionaries(st.tuples(names, names), decimals, max_size=5),
       prices=st.dictionaries(names, decimals, max_size=4),
       interest=st.dictionaries(st.integers(2009, 2100), decimals, max_size=3),
       history=st.lists(st.tuples(st.dates().map(str), decimals), max_size=5),
       events=st.integers(0, 10**9))
def test_a_stored_fold_reads_back_exactly(balances: dict[tuple[str, str], Decimal], prices: dict[str, Decimal],
                                          interest: dict[int, Decimal], history: list[tuple[str, Decimal]],
                                          events: int) -> None:
    fold = FoldResult(balances=balances, last_price=prices, interest_by_year=interest,
                      interest_by_wallet=dict(prices), liabilities=dict(balances),
                      loan_position={key: "p1" for key in balances}, last_bought={k: k for k in prices},
                      value_history=history, events=events)
    back = fold_from_payload(fold_payload(fold))
    assert back == fold
    # Exactly the same decimals (not merely equal values): 1.10 stays 1.10, 1E+3 stays 1E+3.
    assert [str(v) for v in back.balances.values()] == [str(v) for v in fold.balances.values()]


def test_a_stored_standing_reads_back_with_its_basis_and_gains() -> None:
    from marginbook.tax.standing import HeldBasis, Standing

    standing = Standing(held={("kraken", "BTC"): HeldBasis(Decimal("0.4"), Decimal("20000.00"), False, 2),
                              ("", "ETH"): HeldBasis(Decimal("1.5"), Decimal("0"), True, 1)},
                        realized_by_year={2024: Decimal("1003.96"), 2025: Decimal("-12.5")},
                        reports={}, warnings=("a warning",))
    back = standing_from_payload(standing_payload(standing))
    assert back.held == standing.held and back.realized_by_year == standing.realized_by_year
    assert back.warnings == standing.warnings
