"""Code 128 symbols for scanners that read only 1D codes, encoded by reportlab."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128

# Light space required on each side of a Code 128 symbol, in modules (ISO/IEC 15417).
QUIET_ZONE_MODULES = 10


@dataclass(frozen=True)
class Code128Symbol:
    """A Code 128 symbol as bars in module units, without its quiet zones.

    `bars` lists (start, width) of each dark bar, and `modules` is the width from the first bar's
    left edge to the last bar's right edge.
    """

    value: str
    modules: int
    bars: tuple[tuple[int, int], ...]


def unencodable_characters(value: str) -> list[str]:
    """Return the characters of `value` that this project does not put in a Code 128.

    Only printable ASCII (space to tilde) is encoded. Code 128 can carry control characters
    and, through FNC4, Latin-1, but handheld scanners disagree on how they report those, so a
    tag with them gets no 1D code at all rather than one that scans as something else.
    """
    return sorted({char for char in value if not " " <= char <= "~"})


def encode_code128(value: str) -> Code128Symbol:
    """Encode `value`, which must hold only printable ASCII, as a Code 128 symbol.

    Raises ValueError for any other character. The check matters because reportlab's encoder
    silently drops characters above 127, which would print a code for a different tag.
    """
    bad = unencodable_characters(value)
    if bad:
        raise ValueError(f"{value!r} contains {bad!r}, which this Code 128 encoder does not take")
    symbol = Code128(value, barWidth=1, quiet=0)
    symbol.validate()
    symbol.encode()
    # A string of element widths: an upper-case letter is a bar and a lower-case letter a
    # space, "A"/"a" being one module wide, "B"/"b" two, and so on.
    elements = symbol.decompose()
    bars: list[tuple[int, int]] = []
    position = 0
    for element in elements:
        if element.isupper():
            width = ord(element) - ord("A") + 1
            bars.append((position, width))
        else:
            width = ord(element) - ord("a") + 1
        position += width
    return Code128Symbol(value=value, modules=position, bars=tuple(bars))
