"""A tax run of the fast fold's size loads its compiled lot kernel and never numba.

The lot kernel is compiled ahead of time (Cython, ``marginbook/tax/fast/_lotkernel.pyx``):
numba's import and the load of its cached machine code cost a tax run 0.35-0.4 s. The real
entry point runs in a new interpreter, as in ``test_start_imports.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_start_imports import SRC, _python, _run_and_list


def test_a_large_tax_run_never_imports_numba(tmp_path: Path) -> None:
    """30,000 events from a SQLite ledger: the fast fold runs, without numba."""
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(SRC).parent)!r})\n"
        "from tests.tax.synthetic import synthetic_ledger\n"
        "from marginbook.ledger import open_store\n"
        "with open_store(sys.argv[1]) as store:\n"
        "    store.add_events(synthetic_ledger(30_000, seed=5, windows=8))\n"
    )
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    _python(tmp_path, "-c", probe, url)
    args = ["--db", url, "tax", "--year", "2025", "--scope", "universal", "--method", "fifo", "--format", "json"]
    watched = ("numba", "llvmlite", "marginbook.tax.fast.kernel", "marginbook.tax.fast._lotkernel")
    out, imported = _run_and_list(tmp_path, args, watched)
    # The fast fold ran (its compiled kernel was loaded), without numba.
    assert imported == ["marginbook.tax.fast._lotkernel", "marginbook.tax.fast.kernel"]
    assert json.loads(out)["form_8949"]
