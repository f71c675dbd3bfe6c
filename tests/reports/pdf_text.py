"""Read back what a flattened PDF page shows: its text, and where each piece of text is drawn."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader


def page_texts(path: Path) -> list[str]:
    """The extracted text of every page (cached: the files a test reads are never rewritten)."""
    return list(_page_texts(str(path)))


@functools.cache
def _page_texts(path: str) -> tuple[str, ...]:
    return tuple(page.extract_text() for page in PdfReader(path).pages)


@dataclass(frozen=True)
class Placed:
    """A piece of text and the page coordinates (points) where it starts."""

    text: str
    x: float
    y: float


def placed_texts(path: Path, page_number: int) -> list[Placed]:
    """Every text run on a page with its position, via pypdf's text visitor (cm x tm)."""
    found: list[Placed] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: Any) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        found.append(Placed(text.strip(), x, y))

    PdfReader(path).pages[page_number].extract_text(visitor_text=visit)
    return found
