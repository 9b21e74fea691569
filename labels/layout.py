"""Layout of one label, independent of the output format.

Coordinates are in points from the label's top-left corner, with y growing downwards. The PDF,
SVG and PNG writers all draw from the same LabelDrawing, so the three outputs agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import getAscentDescent

from labels import barcode, fonts
from labels.errors import LabelWarning, WarningCode
from labels.payload import LabelSpec, build_payload
from labels.qr import QUIET_ZONE_MODULES, QrSymbol, encode_qr
from labels.templates import BARCODE_GAP, LINE_SPACING, Template

# Step by which the tag's font shrinks towards the template's minimum before the tag is cut.
_FONT_STEP_PT = 0.5


@dataclass(frozen=True)
class TextLine:
    """One line of text; `x` is its left edge and `baseline` the y of its baseline."""

    text: str
    font: str
    size: float
    x: float
    baseline: float


@dataclass(frozen=True)
class BarcodeBox:
    """Position of a Code 128 symbol: `x` and `y` are the top-left corner of its first bar."""

    symbol: barcode.Code128Symbol
    x: float
    y: float
    module: float
    height: float


@dataclass(frozen=True)
class LabelDrawing:
    """Everything drawn on one label, with the problems found while laying it out.

    `qr_x` and `qr_y` are the top-left corner of the QR symbol itself; its quiet zone lies
    outside that corner and is kept clear.
    """

    payload: str
    qr: QrSymbol
    qr_x: float
    qr_y: float
    module: float
    lines: tuple[TextLine, ...]
    barcode: BarcodeBox | None
    warnings: tuple[LabelWarning, ...]


def layout_label(spec: LabelSpec, template: Template, base_url: str, index: int) -> LabelDrawing:
    """Lay out one label; `index` is its position in the caller's sequence, for warnings.

    Raises LabelError if the asset tag or base URL is invalid. Problems that still leave a
    usable label (a tag too long for its line, a tag with no Code 128) become warnings.
    """
    if not isinstance(spec, LabelSpec):
        raise TypeError(f"label {index + 1} must be a LabelSpec, not {type(spec).__name__}")
    payload = build_payload(base_url, spec.asset_tag)
    warnings = _Warnings(index, spec.asset_tag)
    symbol = encode_qr(payload, template.error_correction)
    module = template.qr_size / (symbol.size + 2 * QUIET_ZONE_MODULES)
    if module < template.qr_min_module:
        warnings.add(
            WarningCode.QR_MODULES_SMALL,
            f"the QR code needs {symbol.size} modules across, so each is "
            f"{module / 72 * 25.4:.2f} mm, under the {template.name} minimum of "
            f"{template.qr_min_module / 72 * 25.4:.2f} mm; use a shorter base URL or a larger "
            "template",
        )

    padding = template.padding
    if template.qr_layout == "side":
        square_x = padding
        square_y = (template.label_height - template.qr_size) / 2
        column_x = padding + template.qr_size
        column_top = padding
        column_bottom = template.label_height - padding
    else:
        square_x = (template.label_width - template.qr_size) / 2
        square_y = padding
        column_x = padding
        column_top = padding + template.qr_size
        column_bottom = template.label_height - padding
    column_width = template.label_width - padding - column_x
    centred = template.qr_layout == "below"

    texts = _fit_lines(spec, template, column_width, warnings)
    code = _fit_barcode(spec.asset_tag, template, column_width, warnings)

    block_height = sum(LINE_SPACING * size for _, _, size in texts)
    if code is not None:
        block_height += BARCODE_GAP * template.detail_font_pt + template.barcode_height
    top = column_top + (column_bottom - column_top - block_height) / 2

    lines: list[TextLine] = []
    for text, font, size in texts:
        ascent, descent = getAscentDescent(font, size)
        # Centre the glyphs' ascent-to-descent box inside the line's height.
        baseline = top + (LINE_SPACING * size - (ascent - descent)) / 2 + ascent
        x = column_x
        if centred:
            x += (column_width - fonts.string_width(text, font, size)) / 2
        lines.append(TextLine(text, font, size, x, baseline))
        top += LINE_SPACING * size

    barcode_box = None
    if code is not None:
        bar_symbol, bar_module = code
        top += BARCODE_GAP * template.detail_font_pt
        left = column_x + barcode.QUIET_ZONE_MODULES * bar_module
        barcode_box = BarcodeBox(bar_symbol, left, top, bar_module, template.barcode_height)

    quiet = QUIET_ZONE_MODULES * module
    return LabelDrawing(
        payload=payload,
        qr=symbol,
        qr_x=square_x + quiet,
        qr_y=square_y + quiet,
        module=module,
        lines=tuple(lines),
        barcode=barcode_box,
        warnings=tuple(warnings.items),
    )


def _fit_lines(
    spec: LabelSpec, template: Template, width: float, warnings: _Warnings
) -> list[tuple[str, str, float]]:
    """Return (text, font, size) for the tag line and any detail lines, each fitted to `width`.

    The tag shrinks from the template's tag size towards its minimum size before it is cut,
    because the printed tag is what a person reads off the device. Detail lines keep their size
    and are cut with an ellipsis.
    """
    tag = spec.asset_tag
    size = template.tag_font_pt
    while size > template.min_font_pt and fonts.string_width(tag, fonts.BOLD, size) > width:
        size = max(template.min_font_pt, size - _FONT_STEP_PT)
    tag_text, cut = fonts.fit_text(tag, fonts.BOLD, size, width)
    if cut:
        warnings.add(
            WarningCode.TAG_TRUNCATED,
            f"the asset tag does not fit on a {template.name} label even at "
            f"{template.min_font_pt:g} pt, so it is printed as {tag_text!r}; the QR code "
            "still carries the whole tag",
        )
    lines = [(tag_text, fonts.BOLD, size)]

    printed_values = [tag]
    for field, value in (("site code", spec.site_code), ("text", spec.text)):
        if value is None:
            continue
        # Line breaks and runs of spaces become single spaces: each detail is one line.
        value = " ".join(str(value).split())
        if not value:
            continue
        printed_values.append(value)
        detail, cut = fonts.fit_text(value, fonts.REGULAR, template.detail_font_pt, width)
        if cut:
            warnings.add(
                WarningCode.DETAIL_TRUNCATED,
                f"the {field} {value!r} is too wide for a {template.name} label and is "
                f"printed as {detail!r}",
            )
        lines.append((detail, fonts.REGULAR, template.detail_font_pt))

    missing = fonts.missing_glyphs("".join(printed_values))
    if missing:
        warnings.add(
            WarningCode.MISSING_GLYPHS,
            f"the label font has no glyph for {''.join(missing)!r}; those characters print "
            "as empty boxes (the QR code is not affected)",
        )
    return lines


def _fit_barcode(
    tag: str, template: Template, width: float, warnings: _Warnings
) -> tuple[barcode.Code128Symbol, float] | None:
    """Return the Code 128 for `tag` and its module width, or None with a warning.

    The module is the widest that fits `width` with both quiet zones, capped at the template's
    maximum. When that is below the template's minimum bar width, the code is left out.
    """
    if not template.barcode_enabled:
        return None
    bad = barcode.unencodable_characters(tag)
    if bad:
        warnings.add(
            WarningCode.BARCODE_UNENCODABLE,
            f"no Code 128 printed: {''.join(bad)!r} is outside printable ASCII, which is all "
            "this project encodes in 1D codes; scan the QR code instead",
        )
        return None
    symbol = barcode.encode_code128(tag)
    total = symbol.modules + 2 * barcode.QUIET_ZONE_MODULES
    module = min(template.barcode_max_module, width / total)
    if module < template.barcode_min_module:
        warnings.add(
            WarningCode.BARCODE_TOO_LONG,
            f"no Code 128 printed: the tag needs {total} modules with quiet zones, so bars "
            f"would be {module / 72 * 25.4:.3f} mm wide, under the {template.name} minimum of "
            f"{template.barcode_min_module / 72 * 25.4:.3f} mm; scan the QR code instead",
        )
        return None
    return symbol, module


class _Warnings:
    def __init__(self, index: int, asset_tag: str) -> None:
        self.index = index
        self.asset_tag = asset_tag
        self.items: list[LabelWarning] = []

    def add(self, code: WarningCode, message: str) -> None:
        self.items.append(LabelWarning(self.index, self.asset_tag, code, message))
