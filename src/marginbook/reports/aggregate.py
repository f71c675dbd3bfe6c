"""Exception 2 of the Form 8949 instructions: one summary row per box and broker, code M.

A year with tens of thousands of disposals is filed this way: instead of a row per
transaction, Form 8949 carries, for each checked box and each broker (wallet), the totals
of columns (d), (e), (g) and (h), with "<broker> see attached statement" in column (a),
columns (b) and (c) blank, and code M in column (f) together with any other code the
rows used. The attached statement (:mod:`marginbook.reports.statements`) lists every
transaction with all the columns of Parts I and II.
"""

from __future__ import annotations

from collections.abc import Sequence

from marginbook.reports.document import ALL_BOXES, Form8949Row
from marginbook.reports.form8949_pdf import page_totals


def summary_rows(rows: Sequence[Form8949Row]) -> list[Form8949Row]:
    """Collapse the rows to one code-M row per (box, wallet), in box order then wallet order.

    Args:
        rows: every Form 8949 row of the year.

    Returns:
        The summary rows; their totals equal the totals of the rows they replace.
    """
    groups: dict[tuple[str, str], list[Form8949Row]] = {}
    for row in rows:
        groups.setdefault((row.box, row.wallet), []).append(row)
    result: list[Form8949Row] = []
    for box, wallet in sorted(groups, key=lambda key: (ALL_BOXES.index(key[0]), key[1])):
        members = groups[(box, wallet)]
        totals = page_totals(members)
        codes = {"M"} | {code for row in members for code in row.adjustment_code}
        broker = wallet or "all wallets"
        result.append(
            Form8949Row(
                box=box,
                term=members[0].term,
                description=f"{broker} see attached statement",
                asset="",
                wallet=wallet,
                quantity=sum((row.quantity for row in members), start=members[0].quantity * 0),
                date_acquired="",
                date_sold="",
                proceeds=totals.proceeds,
                cost_basis=totals.cost_basis,
                adjustment_code="".join(sorted(codes)),
                adjustment=totals.adjustment,
                gain=totals.gain,
                disposal_id=f"{len(members)} transactions",
                lots=(),
            )
        )
    return result
