"""The JSON text of ``marginbook tax --format json``, written without the rows' dicts.

The file is ``json.dumps(to_document(report))`` (default separators, ASCII) and must stay
byte for byte that. A year has up to hundreds of thousands of Form 8949 rows, and building
a dict per row and lot only for the encoder to take it apart again was most of the cost of
the output (issue #8). So each row's JSON object is written here directly, from the same
field values :func:`~marginbook.tax.document.row_document` gives; everything else in the
document still goes through :func:`~marginbook.tax.document.to_document` and ``json.dumps``.
Tests compare both on random rows and on whole reports.

Text that cannot need escaping (cents, quantities, dates, times: digits, ``-``, ``.``,
``:``, ``T``, ``Z``) is quoted as is; every other string goes through the ``json``
module's own ASCII string encoder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from json.encoder import encode_basestring_ascii
from typing import TextIO

from marginbook.tax.document import (
    AllocationFields,
    _ts,
    allocation_fields,
    quantity_text,
    timestamp_text,
    to_document,
    usd,
)
from marginbook.tax.form8949 import Form8949Row
from marginbook.tax.holding import Term
from marginbook.tax.lots import Lot
from marginbook.tax.report import TaxReport

#: The ``json`` module's encoder of one string (quotes included, non-ASCII escaped).
_quote: Callable[[str], str] = encode_basestring_ascii

#: Rows joined into one string before it is written (bounded memory, few writes).
_BATCH = 4096

_TERMS = {term: f'"{term.value}"' for term in Term}


class _Quoted(dict[str, str]):
    """``_quote`` remembered, for the few strings every row repeats (assets, wallets, kinds)."""

    def __missing__(self, key: str) -> str:
        value = self[key] = _quote(key)
        return value


class RowWriter:
    """Writes Form 8949 rows as ``json.dumps(row_document(row))`` would, remembering repeats."""

    __slots__ = ("_days", "_stamps", "_strings")

    def __init__(self) -> None:
        self._strings = _Quoted()
        self._days: dict[date | None, str] = {None: '"VARIOUS"'}
        #: A lot's acquisition time as JSON: most lots are on two or three rows (partial sales).
        self._stamps: dict[datetime | None, str] = {None: "null"}

    def _stamp(self, value: datetime | None) -> str:
        found = self._stamps.get(value)
        if found is None:
            found = self._stamps[value] = f'"{_ts(value)}"'
        return found

    def _day(self, value: date | None) -> str:
        found = self._days.get(value)
        if found is None:
            assert value is not None
            found = self._days[value] = f'"{value.isoformat()}"'
        return found

    def row(self, row: Form8949Row) -> str:
        """One row's JSON object."""
        strings = self._strings
        quantity = quantity_text(row.quantity)
        kind = row.kind
        asset = row.asset
        description = (
            _quote(row.description) if kind in ("realized_pnl", "funding") else _quote(f"{quantity} {asset}")
        )
        # ``format(x, "f")`` is ``_cents``: the rows hold cents already (called inline here).
        proceeds = format(row.proceeds, "f")
        basis = format(row.cost_basis, "f")
        stamp = self._stamp
        lots = row.lots
        if len(lots) == 1:
            # A one-lot row: its lot's figures are usually the row's own objects (same text).
            lot = lots[0]
            lot_quantity = quantity if lot.quantity is row.quantity else quantity_text(lot.quantity)
            lot_proceeds = proceeds if lot.proceeds is row.proceeds else format(lot.proceeds, "f")
            lot_basis = basis if lot.cost_basis is row.cost_basis else format(lot.cost_basis, "f")
            lots_text = (
                f'[{{"acquisition_id": {_quote(lot.acquisition_id)}, "quantity": "{lot_quantity}", '
                f'"cost_basis": "{lot_basis}", "proceeds": "{lot_proceeds}", '
                f'"acquired_at": {stamp(lot.acquired_at)}, '
                f'"basis_missing": {"true" if lot.basis_missing else "false"}}}]'
            )
        else:
            lots_text = "[" + ", ".join(
                [
                    f'{{"acquisition_id": {_quote(lot.acquisition_id)}, '
                    f'"quantity": "{quantity_text(lot.quantity)}", '
                    f'"cost_basis": "{lot.cost_basis:f}", "proceeds": "{lot.proceeds:f}", '
                    f'"acquired_at": {stamp(lot.acquired_at)}, '
                    f'"basis_missing": {"true" if lot.basis_missing else "false"}}}'
                    for lot in lots
                ]
            ) + "]"
        warnings = row.warnings
        warnings_text = "[" + ", ".join([_quote(w) for w in warnings]) + "]" if warnings else "[]"
        return (
            f'{{"box": {strings[row.box]}, "term": {_TERMS[row.term]}, "description": {description}, '
            f'"asset": {strings[asset]}, "wallet": {strings[row.wallet]}, "quantity": "{quantity}", '
            f'"date_acquired": {self._day(row.date_acquired)}, "date_sold": {self._day(row.date_sold)}, '
            f'"proceeds": "{proceeds}", "cost_basis": "{basis}", '
            f'"adjustment_code": {strings[row.adjustment_code]}, "adjustment": "{row.adjustment:f}", '
            f'"gain": "{row.gain:f}", "disposal_id": {_quote(row.disposal_id)}, '
            f'"kind": {strings[kind]}, "lots": {lots_text}, "warnings": {warnings_text}}}'
        )


def _batched(texts: Iterable[str]) -> Iterable[str]:
    """A JSON list of the objects ``texts`` in pieces (``[``, batches joined by ``, ``, ``]``)."""
    yield "["
    batch: list[str] = []
    first = True
    for text in texts:
        batch.append(text)
        if len(batch) == _BATCH:
            yield ("" if first else ", ") + ", ".join(batch)
            first = False
            batch = []
    if batch:
        yield ("" if first else ", ") + ", ".join(batch)
    yield "]"


def rows_json(rows: Iterable[Form8949Row]) -> Iterable[str]:
    """The JSON list of ``rows`` in pieces."""
    make = RowWriter().row
    return _batched(make(row) for row in rows)


def holdings_json(open_lots: Iterable[tuple[str, Lot]]) -> Iterable[str]:
    """The document's ``holdings`` list in pieces."""
    quoted = _Quoted()
    return _batched(
        f'{{"wallet": {quoted[wallet]}, "asset": {quoted[lot.asset]}, '
        f'"acquisition_id": {_quote(lot.acquisition_id)}, "quantity": "{quantity_text(lot.quantity)}", '
        f'"cost_basis": "{usd(lot.basis)}", "acquired_at": "{timestamp_text(lot.acquired_at)}"}}'
        for wallet, lot in open_lots
    )


def allocation_json(fields: Iterable[AllocationFields]) -> Iterable[str]:
    """The document's ``allocation`` list in pieces (from :func:`allocation_fields`)."""
    quoted = _Quoted()
    return _batched(
        f'{{"asset": {quoted[asset]}, "wallet": {quoted[wallet]}, "acquisition_id": {_quote(acquisition)}, '
        f'"quantity": "{quantity}", "cost_basis": "{basis}", "acquired_at": "{acquired}", '
        f'"rule": {quoted[rule]}}}'
        for asset, wallet, acquisition, quantity, basis, acquired, rule in fields
    )


def write_document_json(
    report: TaxReport, out: TextIO, allocation: list[AllocationFields] | None = None
) -> None:
    """Write ``json.dumps(to_document(report)) + "\\n"`` to ``out``, the large lists written directly.

    ``allocation``: :func:`~marginbook.tax.document.allocation_fields` of the report's
    allocation, when the caller has made them already (for the CSV beside the file).
    """
    if allocation is None:
        allocation = allocation_fields(report.allocation)
    # Every quote inside a JSON string is escaped, so an unescaped ``"holdings": []`` can only
    # be that key (each of the three is the only key of its name in the document).
    text = json.dumps(to_document(report, large_lists=False))
    pieces = (
        ('"form_8949": []', rows_json(report.rows)),
        ('"holdings": []', holdings_json(report.open_lots)),
        ('"allocation": []', allocation_json(allocation)),
    )
    for marker, lists in pieces:
        head, found, text = text.partition(marker)
        if not found:
            raise AssertionError(f"the document has no {marker}")
        out.write(head)
        out.write(marker[:-2])
        for piece in lists:
            out.write(piece)
    out.write(text)
    out.write("\n")
