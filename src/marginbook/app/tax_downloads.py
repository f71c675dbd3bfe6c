"""The tax year's exports as files to download: the files ``marginbook tax --out DIR`` writes.

The dashboard offers every format the ``tax`` command can write, generated when asked, by the
same writers (:func:`marginbook.reports.exports.write_export` for the forms, the 8949 CSV, TXF
and TurboTax; the JSON document as ``tax --format json --out`` writes it), so a download and
the command's file are the same bytes for the same ledger (TXF carries the day it was written).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Download formats, in the order the Taxes page lists them.
FORMATS = ("pdf", "csv", "txf", "turbotax", "json")
#: What each format is, for a person.
LABELS = {
    "pdf": "PDF forms (Form 8949, Schedule D, Form 4952, statements)",
    "csv": "Form 8949 CSV",
    "txf": "TXF (TurboTax desktop, TaxAct)",
    "turbotax": "TurboTax Online crypto CSV",
    "json": "JSON document",
}
_MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
    ".txf": "text/plain; charset=us-ascii",
    ".json": "application/json",
}


def media_type(name: str) -> str:
    """The content type of a written file, by its suffix."""
    return _MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def write(fmt: str, document: Mapping[str, Any], folder: Path, profile_path: Path | None) -> list[Path]:
    """Write the files of ``fmt`` for the year of ``document`` into ``folder``; return them.

    Raises:
        FeatureUnavailable: the forms part (``marginbook.reports``) is not installed.
        InputError, MarginbookError: what the writers raise (nothing is left half-written).
    """
    from marginbook.app.features import optional_module

    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path = folder / f"tax-{document.get('year')}.json"
        temporary = folder / f".{path.name}.partial"
        temporary.write_text(json.dumps(document) + "\n", encoding="utf-8")
        temporary.replace(path)
        return [path]
    exports = optional_module("marginbook.reports.exports", "the tax forms")
    profile = None
    if fmt == "pdf":  # the taxpayer's name and TIN on the forms
        profile = optional_module("marginbook.tax.profile_file", "the tax engine").load_profile(profile_path)
    paths: list[Path] = exports.write_export(fmt, document, folder, profile)
    return paths
