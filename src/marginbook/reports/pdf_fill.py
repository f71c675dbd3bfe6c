"""Fill pages of an IRS fillable PDF with pypdf and burn the values into flat pages.

Why not simply ``PdfWriter.update_page_form_field_values(..., flatten=True)`` on a copy of
the form per page? Three reasons, each measured on Form 8949:

* Identical field names across copies of a page share one value, so pages must be
  flattened (the widgets removed) before they are combined.
* pypdf's own flatten adds one Form XObject per field per page (about 100 objects for an
  8949 page); at 100,000 disposals (~9,000 pages) that is close to a million objects held
  in memory until the file is written.
* Its field loop compares every widget with every value (widgets x values name look-ups),
  about 80 ms per full page.

So a :class:`FormFiller` keeps one scratch copy of the form. For each output page it asks
pypdf to fill one widget at a time (pypdf generates the appearance stream from the
widget's own font, size, alignment and comb settings, and replaces it in place, so the
scratch copy does not grow), then draws those appearance streams into a single content
stream for the output page, the way a viewer draws a widget (PDF 32000-1, 12.5.5). The
form's own page drawing is added to the output once and shared by every page that uses
it. Memory is one small content stream per page; time is linear in the number of fields.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from marginbook.domain.errors import MarginbookError

#: Field values are refreshed on the scratch copy only; nothing it holds reaches the output but
#: the appearance streams, so its size stays that of the form.
_Matrix = tuple[float, float, float, float, float, float]

#: Appearances kept for reuse (dates, descriptions and box checkmarks repeat row after row).
_CACHE_LIMIT = 50_000


def _qualified_name(widget: DictionaryObject) -> str:
    parts: list[str] = []
    node: DictionaryObject | None = widget
    while node is not None:
        if "/T" in node:
            parts.append(str(node["/T"]))
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return ".".join(reversed(parts))


def _number(value: PdfObject) -> float:
    return float(value)  # type: ignore[arg-type]


def _multiply(first: _Matrix, second: _Matrix) -> _Matrix:
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = second
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


def _format_matrix(matrix: _Matrix) -> str:
    return " ".join(format(Decimal(repr(round(v, 4))).normalize(), "f") for v in matrix)


@dataclass(frozen=True, slots=True)
class _Appearance:
    """What is needed to draw one widget's normal appearance: its operators, box, matrix, fonts."""

    data: str
    bbox: tuple[float, float, float, float]
    matrix: _Matrix
    fonts: tuple[tuple[str, IndirectObject], ...]


_ZERO_DIGITS = str.maketrans("123456789", "000000000")
_DIGIT_PROBE = "1234567890"


def _pdf_literal(text: str) -> str:
    """``text`` as it appears inside a PDF literal string ``( ... )``."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _swap_text(appearance: _Appearance, old: str, new: str) -> _Appearance | None:
    """The appearance showing ``new`` instead of ``old``; ``None`` unless ``old`` occurs exactly once."""
    needle = f"({_pdf_literal(old)})"
    if appearance.data.count(needle) != 1:
        return None
    return _Appearance(
        appearance.data.replace(needle, f"({_pdf_literal(new)})"),
        appearance.bbox,
        appearance.matrix,
        appearance.fonts,
    )


def _shape_key(widget: DictionaryObject) -> tuple[object, ...]:
    """What pypdf's appearance of a widget depends on besides the value: size, font, alignment, flags."""
    rect = [round(_number(v), 3) for v in widget["/Rect"]]  # type: ignore[attr-defined]
    return (
        widget.get("/FT"),
        round(rect[2] - rect[0], 3),
        round(rect[3] - rect[1], 3),
        str(widget.get("/DA")),
        widget.get("/Q"),
        widget.get("/Ff"),
        widget.get("/MaxLen"),
        id(widget) if "/AS" in widget else None,
    )


def _placement(rect_obj: PdfObject, appearance: _Appearance) -> _Matrix:
    """The matrix that maps the appearance's form space onto the widget's rectangle (PDF 12.5.5)."""
    bbox = appearance.bbox
    corners = [(bbox[0], bbox[1]), (bbox[2], bbox[1]), (bbox[0], bbox[3]), (bbox[2], bbox[3])]
    a, b, c, d, e, f = appearance.matrix
    xs = [a * x + c * y + e for x, y in corners]
    ys = [b * x + d * y + f for x, y in corners]
    rect = [_number(v) for v in rect_obj]  # type: ignore[attr-defined]
    x0, y0, x1, y1 = (
        min(rect[0], rect[2]),
        min(rect[1], rect[3]),
        max(rect[0], rect[2]),
        max(rect[1], rect[3]),
    )
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    sx = (x1 - x0) / width if width else 1.0
    sy = (y1 - y0) / height if height else 1.0
    fit: _Matrix = (sx, 0.0, 0.0, sy, x0 - min(xs) * sx, y0 - min(ys) * sy)
    return _multiply(appearance.matrix, fit)


@functools.lru_cache(maxsize=8)
def _scratch_copy(template: bytes) -> PdfWriter:
    """A working copy of a form, made once per process (cloning an IRS form takes a quarter second).

    Fillers only ever set a widget's value and read back the appearance pypdf builds for it,
    always in that order, so fillers of the same form can share the copy.
    """
    scratch = PdfWriter(clone_from=PdfReader(io.BytesIO(template)))
    root = scratch._root_object
    acro_form = root.get("/AcroForm")
    if acro_form is None:
        raise MarginbookError("the bundled form has no AcroForm fields")
    acro_form = acro_form.get_object()
    # Hybrid XFA forms: the XFA layer would hide the AcroForm values in Acrobat.
    if "/XFA" in acro_form:
        del acro_form["/XFA"]
    if "/Perms" in root:
        del root["/Perms"]
    return scratch


class FormFiller:
    """Fills pages of one IRS form and appends them, flattened, to an output document.

    Args:
        template: the bytes of the fillable PDF.
        output: the writer the filled pages go to (it may already hold other pages).
        stamp: a one-page PDF (bytes) drawn over every page, e.g. the DRAFT stamp of a
            form used for another tax year; ``None`` for none.
    """

    def __init__(self, template: bytes, output: PdfWriter, stamp: bytes | None = None) -> None:
        self._scratch = _scratch_copy(template)
        self._output = output
        self._widgets: list[dict[str, IndirectObject]] = []
        for page in self._scratch.pages:
            widgets: dict[str, IndirectObject] = {}
            for ref in cast(ArrayObject, page.get("/Annots", ArrayObject())):
                widget = cast(DictionaryObject, ref.get_object())
                if widget.get("/Subtype") == "/Widget":
                    widgets[_qualified_name(widget)] = ref
            self._widgets.append(widgets)
        self._static: dict[int, tuple[ArrayObject, IndirectObject]] = {}
        self._cache: dict[tuple[object, ...], _Appearance] = {}
        self._uniform_digits: dict[tuple[object, ...], bool] = {}
        self._fonts: dict[int, DictionaryObject] = {}
        self._stamp = self._stamp_xobject(stamp) if stamp is not None else None

    @property
    def page_count(self) -> int:
        """Pages of the form (Form 8949 has 2: Part I and Part II)."""
        return len(self._scratch.pages)

    def field_names(self, page_index: int) -> frozenset[str]:
        """Full names of the widgets on a page of the form."""
        return frozenset(self._widgets[page_index])

    def _stamp_xobject(self, stamp: bytes) -> IndirectObject:
        page = PdfReader(io.BytesIO(stamp)).pages[0]
        xobject = DecodedStreamObject()
        xobject.set_data(page.get_contents().get_data())  # type: ignore[union-attr]
        xobject[NameObject("/Type")] = NameObject("/XObject")
        xobject[NameObject("/Subtype")] = NameObject("/Form")
        xobject[NameObject("/BBox")] = ArrayObject(page.mediabox)
        xobject[NameObject("/Resources")] = cast(DictionaryObject, page["/Resources"].get_object()).clone(
            self._output
        )
        return self._output._add_object(xobject.flate_encode())

    def _bracket(self, operator: str) -> IndirectObject:
        # The form's drawing may leave the graphics state changed; q ... Q restores it for the fields.
        stream = DecodedStreamObject()
        stream.set_data(operator.encode("ascii"))
        return self._output._add_object(stream)

    def _static_part(self, page_index: int) -> tuple[ArrayObject, IndirectObject]:
        """The form's own drawing of a page and a resource dictionary, both shared by all its copies."""
        if page_index not in self._static:
            page = self._scratch.pages[page_index]
            contents = page["/Contents"].get_object()
            streams = contents if isinstance(contents, ArrayObject) else ArrayObject([page["/Contents"]])
            shared = ArrayObject([self._bracket("q\n")])
            shared.extend(ref.clone(self._output) for ref in streams)
            shared.append(self._bracket("\nQ\n"))
            resources = cast(DictionaryObject, page["/Resources"].get_object()).clone(self._output)
            font_ref = resources.get("/Font")
            fonts = (
                cast(DictionaryObject, font_ref.get_object()) if font_ref is not None else DictionaryObject()
            )
            resources[NameObject("/Font")] = fonts
            xobject_ref = resources.get("/XObject")
            xobjects = (
                cast(DictionaryObject, xobject_ref.get_object())
                if xobject_ref is not None
                else DictionaryObject()
            )
            if self._stamp is not None:
                xobjects[NameObject("/MBStamp")] = self._stamp
            resources[NameObject("/XObject")] = xobjects
            self._static[page_index] = (shared, self._output._add_object(resources))
            self._fonts[page_index] = fonts
        return self._static[page_index]

    def _generate(self, page_index: int, name: str, value: str) -> _Appearance:
        """Let pypdf set one field and build its appearance stream; return what drawing it needs."""
        ref = self._widgets[page_index][name]
        widget = cast(DictionaryObject, ref.get_object())
        page = self._scratch.pages[page_index]
        saved = page.get("/Annots")
        page[NameObject("/Annots")] = ArrayObject([ref])
        try:
            self._scratch.update_page_form_field_values(page, {name: value}, auto_regenerate=False)
        finally:
            if saved is None:
                del page["/Annots"]
            else:
                page[NameObject("/Annots")] = saved
        normal = cast(StreamObject, cast(DictionaryObject, widget["/AP"])["/N"].get_object())
        if "/AS" in widget:
            state = widget["/AS"]
            if str(state) == "/Off":
                raise MarginbookError(f"checkbox {name!r} has no state {value!r}")
            normal = cast(StreamObject, cast(DictionaryObject, normal)[state].get_object())
        return self._record(normal)

    def _cached(self, key: tuple[object, ...], make: Callable[[], _Appearance]) -> _Appearance:
        appearance = self._cache.get(key)
        if appearance is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            appearance = self._cache[key] = make()
        return appearance

    def _digits_share_one_width(self, page_index: int, name: str, shape: tuple[object, ...]) -> bool:
        """Whether a value's appearance here is a same-pattern value's with the digits swapped.

        True when the font gives every digit the same advance width (Helvetica does), which is
        checked by asking pypdf for two probes and comparing, not assumed.
        """
        verdict = self._uniform_digits.get(shape)
        if verdict is None:
            zeros = self._generate(page_index, name, _DIGIT_PROBE.translate(_ZERO_DIGITS))
            probe = self._generate(page_index, name, _DIGIT_PROBE)
            swapped = _swap_text(zeros, _DIGIT_PROBE.translate(_ZERO_DIGITS), _DIGIT_PROBE)
            verdict = self._uniform_digits[shape] = swapped is not None and swapped == probe
        return verdict

    def _appearance(self, page_index: int, name: str, value: str) -> tuple[DictionaryObject, _Appearance]:
        """The appearance of ``value`` in a field, from pypdf, cached by the widget's shape and the value.

        Figures and dates differ row to row but mostly only in their digits; where the
        widget's font gives all digits one width, the appearance of ``1,234.56`` is that of
        ``0,000.00`` with the text swapped, so one pypdf call serves every value of a pattern.
        """
        try:
            ref = self._widgets[page_index][name]
        except KeyError:
            raise MarginbookError(f"the form has no field {name!r} on page {page_index + 1}") from None
        widget = cast(DictionaryObject, ref.get_object())
        shape = _shape_key(widget)
        pattern = value.translate(_ZERO_DIGITS)
        if pattern != value and "/AS" not in widget and self._digits_share_one_width(page_index, name, shape):
            template = self._cached((shape, pattern), lambda: self._generate(page_index, name, pattern))
            swapped = _swap_text(template, pattern, value)
            if swapped is not None:
                return widget, swapped
        return widget, self._cached((shape, value), lambda: self._generate(page_index, name, value))

    def _record(self, stream: StreamObject) -> _Appearance:
        matrix: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        if "/Matrix" in stream:
            m = [_number(v) for v in stream["/Matrix"]]  # type: ignore[attr-defined]
            matrix = (m[0], m[1], m[2], m[3], m[4], m[5])
        b = [_number(v) for v in stream["/BBox"]]  # type: ignore[attr-defined]
        fonts: list[tuple[str, IndirectObject]] = []
        resources = stream.get("/Resources")
        font_dict = resources.get_object().get("/Font") if resources is not None else None
        if font_dict is not None:
            for font_name, font_ref in font_dict.get_object().items():
                fonts.append((str(font_name), font_ref.clone(self._output)))
        return _Appearance(
            stream.get_data().decode("latin-1"), (b[0], b[1], b[2], b[3]), matrix, tuple(fonts)
        )

    def _share_fonts(self, page_index: int, appearance: _Appearance) -> None:
        """Make the fonts an appearance names available to the output page, under the same names."""
        page_fonts = self._fonts[page_index]
        for font_name, cloned in appearance.fonts:
            existing = page_fonts.get(font_name)
            if existing is None:
                page_fonts[NameObject(font_name)] = cloned
            elif existing.get_object() is not cloned.get_object():
                raise MarginbookError(f"font name {font_name} means two fonts on the form; cannot flatten")

    def add_page(self, page_index: int, values: Mapping[str, str]) -> None:
        """Append page ``page_index`` of the form with ``values`` filled in and flattened.

        Args:
            page_index: which page of the form (0-based).
            values: full field name -> text, or for a checkbox its "on" export value (``"/1"``).
                Empty values are left out.

        Raises:
            MarginbookError: a field that is not on that page, or a checkbox state it lacks.
        """
        shared_contents, resources = self._static_part(page_index)
        drawing: list[str] = []
        for name, value in values.items():
            if not value:
                continue
            widget, appearance = self._appearance(page_index, name, value)
            self._share_fonts(page_index, appearance)
            matrix = _placement(widget["/Rect"], appearance)
            x0, y0, x1, y1 = appearance.bbox
            drawing.append(
                f"q {_format_matrix(matrix)} cm {x0:.4f} {y0:.4f} {x1 - x0:.4f} {y1 - y0:.4f} re W n\n"
                f"{appearance.data}\nQ"
            )
        if self._stamp is not None:
            drawing.append("q /MBStamp Do Q")
        source = self._scratch.pages[page_index]
        page = self._output.add_blank_page(float(source.mediabox.width), float(source.mediabox.height))
        page[NameObject("/MediaBox")] = ArrayObject(source.mediabox)
        if "/Rotate" in source:
            page[NameObject("/Rotate")] = NumberObject(source["/Rotate"])
        fields_stream = DecodedStreamObject()
        fields_stream.set_data("\n".join(drawing).encode("latin-1"))
        contents = ArrayObject(shared_contents)
        contents.append(self._output._add_object(fields_stream.flate_encode()))
        page[NameObject("/Contents")] = contents
        page[NameObject("/Resources")] = resources
