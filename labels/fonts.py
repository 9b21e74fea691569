"""The label font: Bitstream Vera Sans, which ships inside reportlab.

PDF and PNG use the same TrueType files, so text is measured once and cut at the same place in
both; SVG names the family and lets the viewer substitute a similar sans-serif font. Vera covers
Latin-1 and a few more Latin letters, not Greek, Cyrillic or CJK (check with missing_glyphs).
"""

from __future__ import annotations

import functools
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "LabelSans"
BOLD = "LabelSans-Bold"

_FONT_DIRECTORY = Path(reportlab.__file__).parent / "fonts"
FONT_FILES = {REGULAR: _FONT_DIRECTORY / "Vera.ttf", BOLD: _FONT_DIRECTORY / "VeraBd.ttf"}
SVG_FONT_FAMILY = "'Bitstream Vera Sans', 'DejaVu Sans', Verdana, sans-serif"

ELLIPSIS = "\u2026"


@functools.cache
def register_fonts() -> None:
    """Register the label fonts with reportlab once per process."""
    for name, path in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))


def string_width(text: str, font: str, size: float) -> float:
    """Return the advance width of `text` in points."""
    register_fonts()
    return float(pdfmetrics.stringWidth(text, font, size))


def missing_glyphs(text: str) -> list[str]:
    """Return the characters of `text` that the label font cannot draw (shown as boxes)."""
    register_fonts()
    font = pdfmetrics.getFont(REGULAR)
    covered = font.face.charToGlyph
    return sorted({char for char in text if ord(char) not in covered and not char.isspace()})


def fit_text(text: str, font: str, size: float, width: float) -> tuple[str, bool]:
    """Return `text` cut to fit `width` at `size`, and whether it was cut.

    The rule: when the whole text is too wide, keep the longest prefix that still fits with an
    ellipsis appended, after dropping trailing spaces from that prefix.
    """
    if string_width(text, font, size) <= width:
        return text, False
    low, high = 0, len(text)
    # Binary search for the longest prefix that fits with the ellipsis.
    while low < high:
        middle = (low + high + 1) // 2
        if string_width(text[:middle].rstrip() + ELLIPSIS, font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS, True
