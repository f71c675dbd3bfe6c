"""Rev. Proc. 2024-28 allocation files: read and check them against the lots at 2025-01-01.

The file is CSV ``asset,wallet,acquisition_id,quantity`` (optionally ``made_at``, when the
allocation was made). It must allocate, per asset it names, exactly the units each wallet
holds, from lots that exist in the universal pool and are not allocated twice; anything
else is bad input naming the file, row and field, and nothing is computed.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from marginbook.domain.errors import InputError, InputProblem
from marginbook.domain.numbers import ZERO, D, plain
from marginbook.tax.book import UNIVERSAL, WALLET_RULES_START, AllocationRequest, LotBook
from marginbook.tax.profile import AllocationDeadline, Profile

REQUIRED = ("asset", "wallet", "acquisition_id", "quantity")
OPTIONAL = ("made_at",)


def read_allocation(path: Path) -> tuple[list[AllocationRequest], datetime | None]:
    """Read an allocation file.

    Returns:
        The allocation lines and the earliest ``made_at`` given (``None`` when none is).

    Raises:
        InputError: a missing or unknown column, or a bad cell (``FILE:ROW: field: problem``).
    """
    source = str(path)
    problems: list[InputProblem] = []
    requests: list[AllocationRequest] = []
    made: list[datetime] = []
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(InputProblem(source, None, "", "no such allocation file")) from None
    with handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        for name in REQUIRED:
            if name not in header:
                problems.append(InputProblem(source, 1, name, "required column is missing"))
        for name in header:
            if name not in REQUIRED and name not in OPTIONAL:
                problems.append(InputProblem(source, 1, name, "unknown column"))
        if problems:
            raise InputError(problems)
        for row_number, raw in enumerate(reader, start=2):
            row = {key.strip(): (value or "").strip() for key, value in raw.items() if key}
            if not any(row.values()):
                continue
            for name in ("asset", "wallet", "acquisition_id"):
                if not row[name]:
                    problems.append(InputProblem(source, row_number, name, "is required"))
            try:
                quantity = D(row["quantity"])
                if quantity <= 0:
                    raise ValueError
            except ValueError:
                problems.append(InputProblem(source, row_number, "quantity", "must be a positive decimal"))
                continue
            if row.get("made_at"):
                try:
                    moment = datetime.fromisoformat(row["made_at"].replace("Z", "+00:00"))
                    if moment.tzinfo is None:
                        raise ValueError
                    made.append(moment.astimezone(UTC))
                except ValueError:
                    problems.append(
                        InputProblem(source, row_number, "made_at", "needs an ISO-8601 time with a zone")
                    )
            requests.append(
                AllocationRequest(
                    row["asset"].upper(), row["wallet"], row["acquisition_id"], quantity, source, row_number
                )
            )
    if problems:
        raise InputError(problems)
    return requests, min(made) if made else None


def validate(requests: Sequence[AllocationRequest], book: LotBook, dust: Decimal) -> None:
    """Check an allocation against the book just before the 2025 switch.

    Rules (Rev. Proc. 2024-28): same asset only; the units allocated to a wallet equal the
    units it holds; every allocated lot exists in the universal pool and is not used twice.

    Raises:
        InputError: naming each offending file row and field.
    """
    problems: list[InputProblem] = []
    open_by_acquisition: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (_wallet, asset), pool in book.pools.items():
        for lot in pool.lots.values():
            open_by_acquisition[(asset, lot.acquisition_id)] += lot.quantity
    used: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    allocated: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    first_row: dict[tuple[str, str], AllocationRequest] = {}
    for request in requests:
        key = (request.asset, request.acquisition_id)
        if (UNIVERSAL, request.asset) not in book.pools:
            problems.append(
                InputProblem(request.source, request.row, "asset", f"no lots of {request.asset} are held")
            )
            continue
        if key not in open_by_acquisition:
            problems.append(
                InputProblem(
                    request.source,
                    request.row,
                    "acquisition_id",
                    f"no unused lot of {request.asset} was acquired by {request.acquisition_id!r}",
                )
            )
            continue
        used[key] += request.quantity
        if used[key] > open_by_acquisition[key]:
            problems.append(
                InputProblem(
                    request.source,
                    request.row,
                    "quantity",
                    f"allocates {plain(used[key])} of lot {request.acquisition_id!r}, which has only "
                    f"{plain(open_by_acquisition[key])} unused",
                )
            )
        allocated[(request.wallet, request.asset)] += request.quantity
        first_row.setdefault((request.wallet, request.asset), request)
    assets = {request.asset for request in requests}
    for (wallet, asset), held in sorted(book.holdings.items()):
        if asset not in assets or held <= 0:
            continue
        given = allocated.get((wallet, asset), ZERO)
        if abs(given - held) > dust:
            named = first_row.get((wallet, asset))
            problems.append(
                InputProblem(
                    named.source if named else (requests[0].source if requests else "allocation"),
                    named.row if named else None,
                    "quantity",
                    f"allocates {plain(given)} {asset} to wallet {wallet!r}, "
                    f"which holds {plain(held)} at 2025-01-01",
                )
            )
    for (wallet, asset), request in first_row.items():
        if book.holdings.get((wallet, asset), ZERO) <= 0:
            problems.append(
                InputProblem(
                    request.source, request.row, "wallet", f"wallet {wallet!r} holds no {asset} at 2025-01-01"
                )
            )
    if problems:
        raise InputError(problems)


#: The return due date for 2025 (the later end of the [U] specific-unit deadline).
DUE_DATE_2025_RETURN = datetime(2026, 4, 15, 23, 59, 59, tzinfo=UTC)


def allocation_deadline_warning(
    made_at: datetime | None, first_2025_disposal: datetime | None, profile: Profile
) -> str | None:
    """A warning when an allocation file was made after the deadline the profile chose ([U]).

    Rev. Proc. 2024-28 allows no late allocation; sources disagree whether a specific-unit
    allocation was due by 2025-01-01 or by the earlier of the first 2025 disposal and the
    return's due date. The engine warns rather than refuses (rules spec 2.5).
    """
    if made_at is None:
        return (
            "the allocation file records no made_at: Rev. Proc. 2024-28 needs a record of when "
            "the allocation was made"
        )
    if profile.allocation_deadline is AllocationDeadline.START_OF_2025:
        deadline = WALLET_RULES_START
    else:
        deadline = min(first_2025_disposal or DUE_DATE_2025_RETURN, DUE_DATE_2025_RETURN)
    if made_at > deadline:
        return (
            f"the allocation was made at {made_at.isoformat()}, after the Rev. Proc. 2024-28 deadline "
            f"{deadline.isoformat()} ({profile.allocation_deadline.value})"
        )
    return None
