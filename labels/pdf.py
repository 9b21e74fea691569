"""Sheets of labels as PDF, drawn as vectors with reportlab's canvas."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from labels import fonts
from labels.errors import LabelError, LabelWarning
from labels.layout import LabelDrawing, layout_label
from labels.payload import LabelSpec, build_payload, validate_base_url
from labels.templates import Template, resolve_template


@dataclass(frozen=True)
class RenderedSheet:
    """A PDF of one or more pages of labels, and the warnings raised for single labels."""

    data: bytes
    page_count: int
    warnings: tuple[LabelWarning, ...]
    media_type: str = "application/pdf"


def render_sheet(
    labels: Sequence[LabelSpec],
    template: Template | str,
    base_url: str,
    skip: int = 0,
    *,
    outline: bool = False,
) -> RenderedSheet:
    """Render `labels` in order onto as many pages of `template` as they need.

    `skip` is the number of labels already used on the first sheet, so printing starts at label
    `skip + 1`, counted row by row from the top left. A run that fills the sheet goes on at the
    first label of the next page. `outline` draws each label's die-cut outline, for a
    test print on plain paper held against a sheet of labels.

    A label whose tag has no Code 128, or whose text had to be cut, is still rendered, and the
    reasons are in `warnings`. Raises LabelError for an empty `labels`, an invalid tag or base
    URL, or a `skip` outside 0 to labels_per_sheet - 1, and UnknownTemplateError for an
    unknown template name.
    """
    template = resolve_template(template)
    base_url = validate_base_url(base_url)
    _check_skip(skip, template)
    if isinstance(labels, str | bytes) or not isinstance(labels, Sequence):
        raise LabelError(f"labels must be a sequence of LabelSpec, not {type(labels).__name__}")
    if not labels:
        raise LabelError("labels is empty; pass at least one LabelSpec to render a sheet")
    _check_labels(labels, base_url)

    fonts.register_fonts()
    with _binary_streams():
        data, page_count, warnings = _draw_sheet(labels, template, base_url, skip, outline)
    return RenderedSheet(data=data, page_count=page_count, warnings=tuple(warnings))


@contextmanager
def _binary_streams() -> Iterator[None]:
    # reportlab wraps compressed streams in ASCII85 by default, for 7-bit mail; in pure Python
    # that took a fifth of a sheet's time. A PDF file carries binary streams as they are.
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


def _draw_sheet(
    labels: Sequence[LabelSpec], template: Template, base_url: str, skip: int, outline: bool
) -> tuple[bytes, int, list[LabelWarning]]:
    buffer = io.BytesIO()
    # invariant=1 leaves out the creation date and random document id, so equal input gives
    # equal bytes.
    canvas = Canvas(
        buffer,
        pagesize=(template.page_width, template.page_height),
        pageCompression=1,
        invariant=1,
    )
    canvas.setTitle(f"Asset labels ({template.title})")
    canvas.setFillGray(0)
    canvas.setStrokeGray(0)

    # Each label is laid out and drawn before the next one is encoded, so a long run keeps
    # the page content in memory but not every label's QR geometry.
    warnings: list[LabelWarning] = []
    page_count = 1
    for position, spec in enumerate(labels):
        drawing = layout_label(spec, template, base_url, position)
        warnings.extend(drawing.warnings)
        slot = skip + position
        if slot and slot % template.labels_per_sheet == 0:
            canvas.showPage()
            canvas.setFillGray(0)
            canvas.setStrokeGray(0)
            page_count += 1
        left, top = template.label_origin(slot)
        if outline:
            _draw_outline(canvas, template, left, top)
        _draw_label(canvas, template, drawing, left, top)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue(), page_count, warnings


def _check_labels(labels: Sequence[LabelSpec], base_url: str) -> None:
    """Raise LabelError, naming the label's position, for the first label that cannot print."""
    for index, spec in enumerate(labels):
        if not isinstance(spec, LabelSpec):
            raise LabelError(f"label {index + 1} must be a LabelSpec, not {type(spec).__name__}")
        try:
            build_payload(base_url, spec.asset_tag)
        except LabelError as error:
            raise LabelError(f"label {index + 1}: {error}") from None


def _check_skip(skip: object, template: Template) -> None:
    last = template.labels_per_sheet - 1
    if isinstance(skip, bool) or not isinstance(skip, int):
        raise LabelError(f"skip must be a whole number from 0 to {last}, not {skip!r}")
    if not 0 <= skip <= last:
        raise LabelError(
            f"skip={skip} is out of range for {template.name}, which has "
            f"{template.labels_per_sheet} labels per sheet; use 0 to {last} (the number of "
            "labels already used on the first sheet)"
        )


def _draw_label(
    canvas: Canvas, template: Template, drawing: LabelDrawing, left: float, top: float
) -> None:
    page_height = template.page_height
    # The QR symbol goes in as raw PDF operators: one rectangle per merged block of modules, in
    # whole-module coordinates under a matrix that scales a module to its size in points and
    # flips y. Going through canvas.rect() would format every coordinate as a float.
    module = drawing.module
    x0 = left + drawing.qr_x
    y0 = page_height - (top + drawing.qr_y)
    operators = [_begin_scaled(module, -module, x0, y0)]
    operators.extend(f"{x} {y} {w} {h} re" for x, y, w, h in drawing.qr.rectangles)
    operators.append("f Q")
    canvas.addLiteral("\n".join(operators))

    code = drawing.barcode
    if code is not None:
        bar_x = left + code.x
        bar_top = page_height - (top + code.y)
        bars = [_begin_scaled(code.module, 1, bar_x, bar_top)]
        height = format_number(-code.height)
        bars.extend(f"{start} 0 {width} {height} re" for start, width in code.symbol.bars)
        bars.append("f Q")
        canvas.addLiteral("\n".join(bars))

    for line in drawing.lines:
        canvas.setFont(line.font, line.size)
        canvas.drawString(left + line.x, page_height - (top + line.baseline), line.text)


def _draw_outline(canvas: Canvas, template: Template, left: float, top: float) -> None:
    canvas.setLineWidth(0.25)
    canvas.roundRect(
        left,
        template.page_height - top - template.label_height,
        template.label_width,
        template.label_height,
        template.corner_radius,
        stroke=1,
        fill=0,
    )


def _begin_scaled(scale_x: float, scale_y: float, x: float, y: float) -> str:
    """Return operators that save the graphics state, then scale and move the origin."""
    numbers = (format_number(value) for value in (scale_x, scale_y, x, y))
    return "q {} 0 0 {} {} {} cm".format(*numbers)


def format_number(value: float) -> str:
    """Format a coordinate for PDF or SVG: at most 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"
