"""Single labels, one label per image: SVG drawn as vectors, PNG rasterised with Pillow."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from labels import fonts
from labels.errors import LabelError, LabelWarning
from labels.layout import LabelDrawing, layout_label
from labels.payload import LabelSpec
from labels.pdf import format_number as _number
from labels.templates import POINTS_PER_UNIT, Template, resolve_template

MIN_DPI = 72
MAX_DPI = 2400


@dataclass(frozen=True)
class RenderedLabel:
    """One label as an image file, and the warnings raised while laying it out."""

    data: bytes
    media_type: str
    warnings: tuple[LabelWarning, ...]


def render_svg(label: LabelSpec, base_url: str, template: Template | str) -> RenderedLabel:
    """Render one label as an SVG document the size of `template`'s label.

    The QR symbol is one path of merged module rectangles, and the Code 128 (where the template
    has one) is another. Text names the Vera font family and falls back to the viewer's
    sans-serif font. Raises LabelError for an invalid tag or base URL and UnknownTemplateError
    for an unknown template name.
    """
    template = resolve_template(template)
    drawing = layout_label(label, template, base_url, 0)
    width, height = template.label_width, template.label_height
    unit = template.unit
    scale = POINTS_PER_UNIT[unit]

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_number(width / scale)}{unit}" height="{_number(height / scale)}{unit}" '
        f'viewBox="0 0 {_number(width)} {_number(height)}">\n',
        f"<title>{escape('Asset label ' + label.asset_tag)}</title>\n",
        f'<rect width="{_number(width)}" height="{_number(height)}" fill="#fff"/>\n',
        '<g fill="#000">\n',
    ]
    qr_path = "".join(f"M{x} {y}h{w}v{h}h-{w}z" for x, y, w, h in drawing.qr.rectangles)
    parts.append(
        f'<path id="qr" shape-rendering="crispEdges" transform="translate('
        f"{_number(drawing.qr_x)} {_number(drawing.qr_y)}) scale({_number(drawing.module)})"
        f'" d="{qr_path}"/>\n'
    )
    code = drawing.barcode
    if code is not None:
        bar_height = _number(code.height / code.module)
        bars = "".join(
            f"M{start} 0h{width}v{bar_height}h-{width}z" for start, width in code.symbol.bars
        )
        parts.append(
            f'<path id="code128" shape-rendering="crispEdges" transform="translate('
            f"{_number(code.x)} {_number(code.y)}) scale({_number(code.module)})"
            f'" d="{bars}"/>\n'
        )
    for line in drawing.lines:
        weight = "bold" if line.font == fonts.BOLD else "normal"
        parts.append(
            f'<text x="{_number(line.x)}" y="{_number(line.baseline)}" '
            f"font-family={quoteattr(fonts.SVG_FONT_FAMILY)} "
            f'font-size="{_number(line.size)}" font-weight="{weight}" '
            f'xml:space="preserve">{escape(line.text)}</text>\n'
        )
    parts.append("</g>\n</svg>\n")
    return RenderedLabel(
        data="".join(parts).encode("utf-8"),
        media_type="image/svg+xml",
        warnings=drawing.warnings,
    )


def render_png(
    label: LabelSpec, base_url: str, template: Template | str, dpi: int = 300
) -> RenderedLabel:
    """Render one label as a greyscale PNG at `dpi` dots per inch.

    Module and bar edges are rounded to whole pixels from the label's origin (not accumulated
    module by module), so every QR module is within one pixel of its true size. Raises
    LabelError for a `dpi` outside 72 to 2400, an invalid tag or base URL, and
    UnknownTemplateError for an unknown template name.
    """
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
        raise LabelError(f"dpi must be a whole number from {MIN_DPI} to {MAX_DPI}, not {dpi!r}")
    template = resolve_template(template)
    drawing = layout_label(label, template, base_url, 0)
    scale = dpi / 72
    size = (round(template.label_width * scale), round(template.label_height * scale))
    image = Image.new("L", size, 255)
    _paint(ImageDraw.Draw(image), drawing, scale)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi), optimize=False)
    return RenderedLabel(data=buffer.getvalue(), media_type="image/png", warnings=drawing.warnings)


def _paint(draw: ImageDraw.ImageDraw, drawing: LabelDrawing, scale: float) -> None:
    def pixel(value: float) -> int:
        return round(value * scale)

    module = drawing.module
    for x, y, w, h in drawing.qr.rectangles:
        left = pixel(drawing.qr_x + x * module)
        top = pixel(drawing.qr_y + y * module)
        right = pixel(drawing.qr_x + (x + w) * module)
        bottom = pixel(drawing.qr_y + (y + h) * module)
        draw.rectangle((left, top, right - 1, bottom - 1), fill=0)

    code = drawing.barcode
    if code is not None:
        top = pixel(code.y)
        bottom = pixel(code.y + code.height)
        for start, width in code.symbol.bars:
            left = pixel(code.x + start * code.module)
            right = pixel(code.x + (start + width) * code.module)
            draw.rectangle((left, top, right - 1, bottom - 1), fill=0)

    for line in drawing.lines:
        font = _pillow_font(line.font, line.size * scale)
        draw.text(
            (line.x * scale, line.baseline * scale), line.text, fill=0, font=font, anchor="ls"
        )


@functools.lru_cache(maxsize=64)
def _pillow_font(name: str, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(fonts.FONT_FILES[name]), size)
