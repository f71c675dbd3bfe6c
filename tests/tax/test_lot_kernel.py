"""The compiled lot kernel (``marginbook/tax/fast/_lotkernel.pyx``): its layout, its absence.

The fast fold's results against the ``Decimal`` fold's are ``test_fast_fold.py``'s; here:
the column numbers compiled into the extension are the ones the replay reads
(:mod:`marginbook.tax.fast.kernel`), the kernel's argument checks, and a checkout whose
extension was never built runs the ``Decimal`` fold with the same results.
"""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from marginbook.tax.book import Scope
from marginbook.tax.engine import RunOptions, run_decimal_fold, run_engine
from marginbook.tax.fast import MIN_EVENTS, _lotkernel, fast_fold, kernel
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile
from tests.tax.synthetic import synthetic_ledger
from tests.tax.test_fast_fold import assert_same


def test_the_compiled_layout_is_the_replays() -> None:
    python = {
        name: getattr(kernel, name)
        for name in dir(kernel)
        if name.startswith(("L_", "S_")) or name in ("LOT_COLUMNS", "SLICE_COLUMNS", "OK", "LEFT_OVER")
    }
    assert python == _lotkernel.LAYOUT
    assert kernel.fold_kernel is _lotkernel.fold_kernel


def _empty_program(n_ops: int = 0, *, short: int = 0) -> tuple[object, ...]:
    column = np.zeros(n_ops, dtype=np.int64)
    return (
        column, column, column, np.zeros(n_ops - short, dtype=np.int64), column, column, column, column,
        np.zeros(0, dtype=np.int64), 0, 0, False, 0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )  # fmt: skip


def test_an_empty_program_gives_empty_tables() -> None:
    status, lots, slices, starts, uncovered = kernel.fold_kernel(*_empty_program())  # type: ignore[arg-type]
    assert status == kernel.OK
    assert lots.shape == (0, kernel.LOT_COLUMNS) and slices.shape == (0, kernel.SLICE_COLUMNS)
    assert starts.tolist() == [0] and uncovered.shape == (0,)
    assert {a.dtype for a in (lots, slices, starts, uncovered)} == {np.dtype(np.int64)}


def test_the_kernel_refuses_columns_of_different_lengths_or_types() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        kernel.fold_kernel(*_empty_program(3, short=1))  # type: ignore[arg-type]
    arguments = list(_empty_program(2))
    arguments[0] = np.zeros(2, dtype=np.int32)
    with pytest.raises(ValueError, match="mismatch"):
        kernel.fold_kernel(*arguments)  # type: ignore[arg-type]


def test_without_the_compiled_kernel_the_decimal_fold_gives_the_same_results(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    events = synthetic_ledger(max(MIN_EVENTS, 1_500), seed=11, windows=8)
    profile, options = Profile(), RunOptions(scope=Scope.TRANSITION, method=Method.FIFO)
    compiled = run_engine(events, profile, None, options)
    assert fast_fold(events, profile, None, options) is not None  # the normal run is the fast fold's

    # A source checkout that was never built: the extension cannot be imported.
    monkeypatch.setitem(sys.modules, "marginbook.tax.fast._lotkernel", None)
    monkeypatch.delitem(sys.modules, "marginbook.tax.fast.kernel")
    with caplog.at_level(logging.DEBUG, logger="marginbook.tax.fast"):
        assert fast_fold(events, profile, None, options) is None
        without = run_engine(events, profile, None, options)
    assert "no compiled lot kernel" in caplog.text
    assert "marginbook.tax.fast.kernel" not in sys.modules
    assert_same(compiled, without)
    assert_same(compiled, run_decimal_fold(events, profile, None, options))
