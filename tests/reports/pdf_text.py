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


@functools.cache
def widget_rects(form: str, year: int) -> dict[str, tuple[float, float, float, float]]:
    """Full field name -> widget rectangle (x0, y0, x1, y1), read from the bundled IRS PDF itself.

    The flattened output has no widgets left, so where a value was drawn is checked against
    the rectangles of the unfilled form the value belongs in.
    """
    import io

    from marginbook.reports.fields import template_bytes

    rects: dict[str, tuple[float, float, float, float]] = {}
    for page in PdfReader(io.BytesIO(template_bytes(form, year))).pages:
        for ref in page.get("/Annots", []):
            widget: Any = ref.get_object()
            names = []
            node = widget
            while node is not None:
                if "/T" in node:
                    names.append(str(node["/T"]))
                node = node.get("/Parent").get_object() if "/Parent" in node else None
            x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
            rects[".".join(reversed(names))] = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    return rects


def text_in_field(placed: list[Placed], rect: tuple[float, float, float, float], slack: float = 1.5) -> str:
    """The text drawn starting inside a field's rectangle, runs joined left to right."""
    x0, y0, x1, y1 = rect
    inside = [p for p in placed if x0 - slack <= p.x <= x1 + slack and y0 - slack <= p.y <= y1 + slack]
    return "".join(p.text for p in sorted(inside, key=lambda p: p.x))


@functools.cache
def template_texts(form: str, year: int, page_number: int) -> tuple[Placed, ...]:
    """The text the unfilled IRS form itself prints on a page (labels, instructions), with positions."""
    import io

    from marginbook.reports.fields import template_bytes

    found: list[Placed] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: Any) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append(Placed(text.strip(), x, y))

    PdfReader(io.BytesIO(template_bytes(form, year))).pages[page_number].extract_text(visitor_text=visit)
    return tuple(found)


def filled_texts(path: Path, page_number: int, form: str, year: int, template_page: int) -> list[Placed]:
    """The text runs of a filled page that the blank form does not print: the values we drew."""
    printed = {(p.text, round(p.x), round(p.y)) for p in template_texts(form, year, template_page)}
    return [p for p in placed_texts(path, page_number) if (p.text, round(p.x), round(p.y)) not in printed]
