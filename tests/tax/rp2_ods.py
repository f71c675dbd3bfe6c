"""marginbook events as RP2's own input (an ODS workbook and its ``.ini``), and RP2's report read back.

RP2 (PyPI ``rp2``) is used from its command line (``rp2_us``) the way its users run it: a
spreadsheet with one sheet per asset holding ``IN``, ``OUT`` and ``INTRA`` tables, and a
configuration naming each column. Only what :mod:`tests.tax.rp2_adapter` translates is
written (buys for USD with a USD fee, sells for USD, fee-less transfers). Numbers are float
cells, because RP2 reads every numeric cell's float value (``ods_parser``); the synthetic
ledgers' amounts (8 decimals, cents) survive that exactly.

The workbook is written as the OpenDocument XML directly (a zip of ``mimetype``,
``META-INF/manifest.xml`` and ``content.xml``): building 50,000 rows cell by cell through a
spreadsheet library takes minutes, and this is setup, not what is measured.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from marginbook.domain.events import LedgerEvent
from tests.tax.rp2_adapter import _HEADERS, Rp2Field, Rp2Match, rp2_entries

_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
_CONTENT_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>"
)
_CONTENT_TAIL = "</office:spreadsheet></office:body></office:document-content>"

Cell = Rp2Field


def _cell(value: Cell) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, Decimal):
        return f'<table:table-cell office:value-type="float" office:value="{value}"/>'
    return f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'


def _row(values: Sequence[Cell]) -> str:
    return "<table:table-row>" + "".join(_cell(v) for v in values) + "</table:table-row>"


def _tables(events: Sequence[LedgerEvent], asset: str) -> list[str]:
    rows: dict[str, list[list[Cell]]] = {"IN": [], "OUT": [], "INTRA": []}
    for table, _position, fields in rp2_entries([e for e in events if e.asset == asset]):
        rows[table].append([fields[name] for name in _HEADERS[f"{table.lower()}_header"]])
    lines: list[str] = []
    for name, entries in rows.items():
        if not entries:
            continue
        lines.append(_row([name]))
        lines.append(_row(list(_HEADERS[f"{name.lower()}_header"])))
        lines.extend(_row(entry) for entry in entries)
        lines.append(_row(["TABLE END"]))
        lines.append(_row([None]))
    return lines


def write_rp2_input(events: Sequence[LedgerEvent], directory: Path) -> tuple[Path, Path]:
    """Write ``rp2.ini`` and ``input.ods`` for ``events`` into ``directory``; return both paths."""
    assets = sorted({e.asset for e in events})
    wallets = sorted({e.wallet for e in events} | {e.to_wallet for e in events if e.to_wallet})
    config = directory / "rp2.ini"
    lines = ["[general]", f"assets = {', '.join(assets)}", f"exchanges = {', '.join(wallets)}", "holders = me"]
    for section, names in _HEADERS.items():
        lines.append(f"[{section}]")
        lines.extend(f"{name} = {index}" for index, name in enumerate(names))
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    workbook = directory / "input.ods"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", _MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        body = [_CONTENT_HEAD]
        for asset in assets:
            body.append(f'<table:table table:name="{escape(asset)}">')
            body.extend(_tables(events, asset))
            body.append("</table:table>")
        body.append(_CONTENT_TAIL)
        archive.writestr("content.xml", "".join(body), compress_type=zipfile.ZIP_DEFLATED)
    return config, workbook


#: Columns of the "Capital Gains" sheet of RP2's ``tax_report_us`` (one row per lot fraction).
_QUANTITY, _PROCEEDS, _BASIS = 0, 4, 5
_ACQUIRED_ID, _SOLD_ID, _TERM = 11, 13, 14


def read_rp2_gains(report: Path) -> list[Rp2Match]:
    """The rows of the "Capital Gains" sheet of RP2's US tax report (``*_tax_report_us.ods``).

    RP2 writes amounts as float cells; they come back as ``Decimal`` of their shortest repr,
    which the differential comparison allows for (a cent, 1e-8 units).
    """
    import ezodf

    sheet = ezodf.opendoc(str(report)).sheets["Capital Gains"]
    matches: list[Rp2Match] = []
    for row in sheet.rows():
        values = [cell.value for cell in row]
        if len(values) <= _TERM or values[_TERM] not in ("SHORT", "LONG"):
            continue  # titles and headers
        matches.append(
            Rp2Match(
                disposal_id=str(values[_SOLD_ID]),
                acquisition_id=str(values[_ACQUIRED_ID]),
                quantity=Decimal(repr(values[_QUANTITY])),
                proceeds=Decimal(repr(values[_PROCEEDS])),
                cost_basis=Decimal(repr(values[_BASIS])),
                long_term=values[_TERM] == "LONG",
            )
        )
    return matches
