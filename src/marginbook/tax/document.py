"""The report as the JSON document and CSV rows of spec/cli.md (field names are a contract).

Decimals are strings; USD in form-facing fields to the cent; quantities never rounded;
dates ``YYYY-MM-DD``; losses negative, carryovers positive.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from marginbook.domain.events import format_timestamp
from marginbook.domain.numbers import plain
from marginbook.tax.book import AllocationRow
from marginbook.tax.form8949 import Form8949Row, to_cents
from marginbook.tax.holding import local_date
from marginbook.tax.report import TaxReport
from marginbook.tax.schedule_d import BoxTotals

#: The Form 4952 lines of the JSON document, in form order (``line_N`` = the form's line N).
FORM_4952_LINES = (
    "line_1", "line_2", "line_3", "line_4a", "line_4b", "line_4c", "line_4d", "line_4e",
    "line_4f", "line_4g", "line_4h", "line_5", "line_6", "line_7", "line_8",
)


def usd(value: Decimal) -> str:
    """A form-facing USD amount: cents, half-up, no exponent (``-8000.00``)."""
    return format(to_cents(value), "f")


def _cents(value: Decimal) -> str:
    """A Form 8949 amount, which the rows already hold to the cent."""
    return format(value, "f")


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else "VARIOUS"


def timestamp_text(value: datetime) -> str:
    """:func:`~marginbook.domain.events.format_timestamp`, the same text, at half the cost for a UTC time.

    The engine's times are UTC (``datetime.UTC``), mostly to the second, and nearly every
    holding and allocation row has its own: ``isoformat`` with ``Z`` for ``+00:00`` is the
    same text (``strftime`` and ``isoformat`` agree on four-digit years). Any other time
    goes through ``format_timestamp``.
    """
    if value.tzinfo is UTC and not value.microsecond and value.year >= 1000:
        return value.isoformat()[:-6] + "Z"
    return format_timestamp(value)


def _ts(value: datetime | None) -> str | None:
    """A lot's acquisition time (``None``: unknown)."""
    if value is None:
        return None
    if value.tzinfo is UTC and not value.microsecond:
        return value.isoformat()[:-6] + "Z"
    if value.microsecond or value.utcoffset():
        return format_timestamp(value)
    return value.replace(tzinfo=None).isoformat() + "Z"


def quantity_text(value: Decimal) -> str:
    """:func:`marginbook.domain.numbers.plain`, the same text, at half the cost for the usual quantity.

    ``plain`` normalizes in the 60-digit context first; a quantity written in at most 60
    characters has fewer digits than that, so stripping the zeros of its fixed-point text
    gives the same. Longer ones go through ``plain``.
    """
    if not value:
        return "0"
    text = format(value, "f")
    if len(text) > 60:
        return plain(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def row_document(row: Form8949Row) -> dict[str, Any]:
    """One Form 8949 row as JSON."""
    quantity = quantity_text(row.quantity)
    kind = row.kind
    return {
        "box": row.box,
        "term": row.term.value,
        "description": row.description if kind in ("realized_pnl", "funding") else f"{quantity} {row.asset}",
        "asset": row.asset,
        "wallet": row.wallet,
        "quantity": quantity,
        "date_acquired": _day(row.date_acquired),
        "date_sold": row.date_sold.isoformat(),
        "proceeds": _cents(row.proceeds),
        "cost_basis": _cents(row.cost_basis),
        "adjustment_code": row.adjustment_code,
        "adjustment": _cents(row.adjustment),
        "gain": _cents(row.gain),
        "disposal_id": row.disposal_id,
        "kind": kind,
        "lots": [
            {
                "acquisition_id": lot.acquisition_id,
                "quantity": quantity_text(lot.quantity),
                "cost_basis": _cents(lot.cost_basis),
                "proceeds": _cents(lot.proceeds),
                "acquired_at": _ts(lot.acquired_at),
                "basis_missing": lot.basis_missing,
            }
            for lot in row.lots
        ],
        "warnings": list(row.warnings),
    }


def _totals(totals: BoxTotals) -> dict[str, str]:
    return {
        "proceeds": usd(totals.proceeds),
        "cost_basis": usd(totals.cost_basis),
        "adjustment": usd(totals.adjustment),
        "gain": usd(totals.gain),
    }


#: The columns of the allocation CSV and the keys of the document's ``allocation`` rows.
ALLOCATION_COLUMNS = ("asset", "wallet", "acquisition_id", "quantity", "cost_basis", "acquired_at", "rule")

#: One allocation row's texts, in :data:`ALLOCATION_COLUMNS` order.
AllocationFields = tuple[str, str, str, str, str, str, str]


def allocation_fields(rows: Iterable[AllocationRow]) -> list[AllocationFields]:
    """The allocation's texts, made once for both the CSV and the JSON of a run."""
    return [
        (
            row.asset, row.wallet, row.acquisition_id, quantity_text(row.quantity), usd(row.cost_basis),
            timestamp_text(row.acquired_at), row.rule,
        )
        for row in rows
    ]


def allocation_rows(
    rows: Iterable[AllocationRow], fields: list[AllocationFields] | None = None
) -> list[dict[str, str]]:
    """The allocation used at 2025-01-01, as it is written beside the report."""
    return [
        dict(zip(ALLOCATION_COLUMNS, row, strict=True))
        for row in (fields if fields is not None else allocation_fields(rows))
    ]


def to_document(report: TaxReport, *, large_lists: bool = True) -> dict[str, Any]:
    """The whole report as the JSON document of ``marginbook tax --format json``.

    ``large_lists=False``: ``form_8949``, ``holdings`` and ``allocation`` are left empty,
    for :func:`marginbook.tax.document_json.write_document_json`, which writes them itself.
    """
    sched = report.schedule_d
    f = report.form_4952
    zone = report.profile.zone()
    document: dict[str, Any] = {
        "year": report.year,
        "method": report.method.value,
        "scope": report.scope,
        "form_8949": [row_document(row) for row in report.rows] if large_lists else [],
        "schedule_d": {
            **{line: _totals(totals) for line, totals in sched.box_lines.items()},
            "line_4": usd(sched.line_4),
            "line_5": usd(sched.line_5),
            "line_6": usd(sched.line_6),
            "line_7": usd(sched.line_7),
            "line_11": usd(sched.line_11),
            "line_12": usd(sched.line_12),
            "line_13": usd(sched.line_13),
            "line_14": usd(sched.line_14),
            "line_15": usd(sched.line_15),
            "line_16": usd(sched.line_16),
            "line_21": usd(sched.line_21),
            "carryover_to_next_year": {
                "short_term": usd(sched.carryover.short_term),
                "long_term": usd(sched.carryover.long_term),
            },
        },
        "form_4952": {
            name: usd(getattr(f, name))
            for name in FORM_4952_LINES
        },
        "carryover_in": {
            "short_term": usd(report.carryover_in.short_term),
            "long_term": usd(report.carryover_in.long_term),
            "investment_interest": usd(report.carryover_in.investment_interest),
        },
        "income": [
            {
                "date": local_date(i.received_at, zone).isoformat(),
                "received_at": format_timestamp(i.received_at),
                "kind": i.kind,
                "wallet": i.wallet,
                "asset": i.asset,
                "quantity": plain(i.quantity),
                "usd_value": usd(i.usd_value),
                "event_id": i.event_id,
                "note": i.note,
            }
            for i in report.income
        ],
        "gifts_and_donations": [
            {
                "date": local_date(g.given_at, zone).isoformat(),
                "kind": g.kind,
                "wallet": g.wallet,
                "asset": g.asset,
                "quantity": plain(g.quantity),
                "fair_market_value": usd(g.fair_market_value),
                "cost_basis": usd(sum((s.basis for s in g.slices), Decimal(0))),
                "event_id": g.event_id,
                "lots": [
                    {
                        "acquisition_id": s.acquisition_id,
                        "quantity": plain(s.quantity),
                        "cost_basis": usd(s.basis),
                        "acquired_at": _ts(s.acquired_at),
                    }
                    for s in g.slices
                ],
            }
            for g in report.gifts
        ],
        "expenses": {
            "interest": usd(
                sum((e.usd_amount for e in report.expenses if e.category == "interest"), Decimal(0))
            ),
            "fees": usd(sum((e.usd_amount for e in report.expenses if e.category == "fee"), Decimal(0))),
            "ordinary_losses": usd(
                sum((e.usd_amount for e in report.expenses if e.category == "ordinary_loss"), Decimal(0))
            ),
        },
        "holdings": [
            {
                "wallet": wallet,
                "asset": lot.asset,
                "acquisition_id": lot.acquisition_id,
                "quantity": quantity_text(lot.quantity),
                "cost_basis": usd(lot.basis),
                "acquired_at": timestamp_text(lot.acquired_at),
            }
            for wallet, lot in (report.open_lots if large_lists else ())
        ],
        "open_short_sales": [
            {
                "event_id": s.event_id,
                "wallet": s.wallet,
                "asset": s.asset,
                "quantity": plain(s.quantity),
                "proceeds": usd(s.proceeds),
                "sold_at": format_timestamp(s.sold_at),
            }
            for s in report.open_shorts
        ],
        "allocation": allocation_rows(report.allocation) if large_lists else [],
        "warnings": list(report.warnings),
    }
    taxable_income = report.profile.year(report.year).taxable_income
    if taxable_income is not None:
        document["taxable_income"] = f"{taxable_income:f}"
    if report.schedule_c is not None:
        document["schedule_c"] = {
            "interest": usd(report.schedule_c.interest),
            "fees": usd(report.schedule_c.fees),
        }
    return document


def allocation_csv(rows: Iterable[AllocationRow], fields: list[AllocationFields] | None = None) -> str:
    """The allocation used, as CSV ``asset,wallet,acquisition_id,quantity,cost_basis,acquired_at,rule``.

    ``fields``: :func:`allocation_fields` of ``rows`` when the caller has them already.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ALLOCATION_COLUMNS)
    writer.writerows(fields if fields is not None else allocation_fields(rows))
    return out.getvalue()
