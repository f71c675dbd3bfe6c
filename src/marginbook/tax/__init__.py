"""The US tax engine: lots per wallet, cost-basis methods, Form 8949, Schedule D, Form 4952.

Data flow (one function each): ledger events → :func:`marginbook.tax.engine.run_engine`
(a fold that books lots and records disposals, income, gifts and expenses) →
:func:`marginbook.tax.report.compute_tax_report` (8949 rows per year, Schedule D, Form 4952,
carryovers chained year to year) → :func:`marginbook.tax.document.to_document` (the JSON of
spec/cli.md). See ``docs/tax.md`` for the rules and every setting.
"""

from marginbook.tax.book import Scope
from marginbook.tax.engine import MissingBasisError, RunOptions, run_engine
from marginbook.tax.methods import Method
from marginbook.tax.profile import Profile, load_profile, parse_profile
from marginbook.tax.report import TaxReport, compute_tax_report

__all__ = [
    "Method",
    "MissingBasisError",
    "Profile",
    "RunOptions",
    "Scope",
    "TaxReport",
    "compute_tax_report",
    "load_profile",
    "parse_profile",
    "run_engine",
]
