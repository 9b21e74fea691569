"""QR symbols from the `qrcode` package, reduced to the few rectangles that draw them.

`qrcode` segments the payload, picks the version and computes the codewords. Placing them and
choosing the mask is done here on whole rows held as integers, because `qrcode` builds and
scores all eight masked matrices module by module in Python, which is most of the time a sheet
of labels takes. The result is the same symbol, module for module, as `qrcode.QRCode.make()`
gives: the same placement, the same penalty rules and the same choice between equal scores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import qrcode
from qrcode import base as qr_base
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError

from labels.templates import ErrorCorrection

# Light modules the standard requires on every side of the symbol (ISO/IEC 18004 quiet zone).
QUIET_ZONE_MODULES = 4

MASK_PATTERNS = 8

_DARK_RUN = re.compile(r"1+")
# A finder-like 1:1:3:1:1 pattern with four light modules on one side (penalty rule 3).
# Neither overlaps itself, so counting each with str.count misses none.
_FINDER_LEFT = "10111010000"
_FINDER_RIGHT = "00001011101"

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


@dataclass(frozen=True)
class _Layout:
    """The module positions shared by every symbol of one version.

    Rows are integers with column 0 as the highest bit.
    """

    size: int
    # Dark function modules, with the format and version areas left light.
    function_rows: tuple[int, ...]
    # Row index and column bit of each data module, in placement order.
    data_rows: tuple[int, ...]
    data_bits: tuple[int, ...]
    # For each mask, the data modules it inverts.
    mask_rows: tuple[tuple[int, ...], ...]


def encode_qr(payload: str, error_correction: ErrorCorrection) -> QrSymbol:
    """Encode `payload` in the smallest QR version that fits it at `error_correction`."""
    rows, version = encode_rows(payload, error_correction)
    size = len(rows)
    return QrSymbol(
        size=size,
        version=version,
        rectangles=tuple(merge_dark_modules([format(row, f"0{size}b") for row in rows])),
    )


def encode_rows(payload: str, error_correction: ErrorCorrection) -> tuple[list[int], int]:
    """Return the symbol's rows as integers (column 0 the highest bit) and its version."""
    level = _ERROR_CORRECTION[error_correction]
    code = qrcode.QRCode(error_correction=level, border=0)
    code.add_data(payload)
    version, codewords = _codewords(level, code.data_list)
    layout = _layout(version)

    unmasked = [0] * layout.size
    bits = "".join(format(codeword, "08b") for codeword in codewords)
    data_rows, data_bits = layout.data_rows, layout.data_bits
    for index in range(min(len(bits), len(data_rows))):
        if bits[index] == "1":
            unmasked[data_rows[index]] |= data_bits[index]

    best_mask, best_rows, best_score = 0, unmasked, -1
    for mask in range(MASK_PATTERNS):
        rows = [
            function | (data ^ flip)
            for function, data, flip in zip(
                layout.function_rows, unmasked, layout.mask_rows[mask], strict=True
            )
        ]
        score = penalty(rows, layout.size)
        if best_score < 0 or score < best_score:
            best_mask, best_rows, best_score = mask, rows, score
    marks = _format_and_version_rows(version, level, best_mask)
    return [row | mark for row, mark in zip(best_rows, marks, strict=True)], version


def penalty(rows: Sequence[int], size: int) -> int:
    """Score a masked symbol by the four penalty rules of ISO/IEC 18004; lower is better.

    Rows are integers, so most rules test a whole row, or one column in every row, with a few
    bit operations.
    """
    full = (1 << size) - 1
    inner = full >> 1  # every column but the last, for rules that compare with the next one
    # Rule 3: finder-like patterns, counted in the rows and columns as text.
    row_text = [format(row, f"0{size}b") for row in rows]
    lines = "|".join(row_text) + "|" + "|".join(map("".join, zip(*row_text, strict=True)))
    score = 40 * (lines.count(_FINDER_LEFT) + lines.count(_FINDER_RIGHT))
    # Rule 1: a run of n >= 5 modules of one colour costs n - 2. Such a run is a run of m =
    # n - 1 >= 4 set bits in the "same as the next module" mask. Its windows of four, w, hold
    # m - 3 set bits in one block, so the run costs (bits in w) + 2 x (blocks in w).
    for row in rows:
        same_next = ~(row ^ (row >> 1)) & inner
        window = same_next & (same_next >> 1) & (same_next >> 2) & (same_next >> 3)
        if window:
            score += window.bit_count() + 2 * (window & ~(window >> 1)).bit_count()
    same_below = [~(upper ^ lower) & full for upper, lower in pairwise(rows)]
    windows = [
        a & b & c & d
        for a, b, c, d in zip(
            same_below, same_below[1:], same_below[2:], same_below[3:], strict=False
        )
    ]
    for window, next_window in zip(windows, [*windows[1:], 0], strict=True):
        score += window.bit_count() + 2 * (window & ~next_window).bit_count()
    # Rule 2: each 2 x 2 block of one colour costs 3.
    for upper, same in zip(rows, same_below, strict=False):
        same_right = ~(upper ^ (upper >> 1))
        score += 3 * (same & (same >> 1) & same_right & inner).bit_count()
    # Rule 4: 10 for every full 5 % the dark share is away from half.
    dark = sum(row.bit_count() for row in rows)
    score += 10 * int(abs(dark * 100 / (size * size) - 50) / 5)
    return score


class _BitWriter:
    """Collects bits as text; `qrcode`'s segments write themselves through `put`."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def put(self, value: int, length: int) -> None:
        self.parts.append(format(value, f"0{length}b"))


# GF(256) with the QR polynomial, from `qrcode`; the exponent table is doubled so a sum of two
# logarithms needs no modulo.
_EXP = [qr_base.EXP_TABLE[index % 255] for index in range(512)]
_LOG = qr_base.LOG_TABLE
_PAD_CODEWORDS = (0xEC, 0x11)


def _codewords(level: int, segments: Sequence[qr_util.QRData]) -> tuple[int, list[int]]:
    """Return the smallest version that fits `segments`, and the symbol's codewords.

    The codewords are the data and error correction codewords, interleaved in the order the
    symbol places them.
    """
    bodies = []
    for segment in segments:
        writer = _BitWriter()
        segment.write(writer)
        bodies.append("".join(writer.parts))
    for version in range(1, 41):
        needed = sum(
            4 + qr_util.length_in_bits(segment.mode, version) + len(body)
            for segment, body in zip(segments, bodies, strict=True)
        )
        if needed <= qr_util.BIT_LIMIT_TABLE[level][version]:
            break
    else:
        raise DataOverflowError(f"{needed} bits do not fit in a version 40 symbol")
    bits = "".join(
        format(segment.mode, "04b")
        + format(len(segment), f"0{qr_util.length_in_bits(segment.mode, version)}b")
        + body
        for segment, body in zip(segments, bodies, strict=True)
    )
    blocks = qr_base.rs_blocks(version, level)
    capacity = sum(block.data_count for block in blocks) * 8
    bits += "0" * min(4, capacity - len(bits))  # terminator
    bits += "0" * (-len(bits) % 8)
    data = [int(bits[start : start + 8], 2) for start in range(0, len(bits), 8)]
    data += [_PAD_CODEWORDS[index % 2] for index in range(capacity // 8 - len(data))]

    data_blocks: list[list[int]] = []
    ec_blocks: list[list[int]] = []
    offset = 0
    for block in blocks:
        chunk = data[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_remainder(chunk, _generator_logs(block.total_count - block.data_count)))
    interleaved: list[int] = []
    for group in (data_blocks, ec_blocks):
        for index in range(max(map(len, group))):
            interleaved.extend(chunk[index] for chunk in group if index < len(chunk))
    return version, interleaved


def _remainder(message: list[int], generator_logs: tuple[int, ...]) -> list[int]:
    """Return the Reed-Solomon remainder of `message` by a monic generator polynomial."""
    remainder = [0] * len(generator_logs)
    for codeword in message:
        factor = codeword ^ remainder[0]
        remainder = remainder[1:]
        remainder.append(0)
        if factor:
            factor_log = _LOG[factor]
            for index, coefficient_log in enumerate(generator_logs):
                remainder[index] ^= _EXP[factor_log + coefficient_log]
    return remainder


@cache
def _generator_logs(degree: int) -> tuple[int, ...]:
    """Logarithms of the coefficients after the leading 1 of (x - a^0)...(x - a^(degree-1))."""
    coefficients = [1]
    for power in range(degree):
        root = _EXP[power]
        product = [*coefficients, 0]
        for index, coefficient in enumerate(coefficients):
            if coefficient:
                product[index + 1] ^= _EXP[_LOG[coefficient] + _LOG[root]]
        coefficients = product
    return tuple(_LOG[coefficient] for coefficient in coefficients[1:])


@cache
def _layout(version: int) -> _Layout:
    # `qrcode` lays out the function patterns; with test=True it reserves the format and
    # version areas and leaves them light, which is how it scores the masks too.
    code = qrcode.QRCode(version=version, border=0)
    size = code.modules_count = version * 4 + 17
    code.modules = [[None] * size for _ in range(size)]
    for row, column in ((0, 0), (size - 7, 0), (0, size - 7)):
        code.setup_position_probe_pattern(row, column)
    code.setup_position_adjust_pattern()
    code.setup_timing_pattern()
    code.setup_type_info(True, 0)
    if version >= 7:
        code.setup_type_number(True)
    grid = code.modules

    data_positions: list[tuple[int, int]] = []
    upward = True
    column = size - 1
    while column > 0:
        if column == 6:  # the vertical timing pattern is skipped as a whole column
            column -= 1
        row_order = range(size - 1, -1, -1) if upward else range(size)
        for row in row_order:
            for pair_column in (column, column - 1):
                if grid[row][pair_column] is None:
                    data_positions.append((row, pair_column))
        upward = not upward
        column -= 2

    top_bit = 1 << (size - 1)
    function_rows = [0] * size
    for row in range(size):
        for column in range(size):
            if grid[row][column]:
                function_rows[row] |= top_bit >> column
    mask_rows = []
    for mask in range(MASK_PATTERNS):
        inverts = qr_util.mask_func(mask)
        flips = [0] * size
        for row, column in data_positions:
            if inverts(row, column):
                flips[row] |= top_bit >> column
        mask_rows.append(tuple(flips))
    return _Layout(
        size=size,
        function_rows=tuple(function_rows),
        data_rows=tuple(row for row, _ in data_positions),
        data_bits=tuple(top_bit >> column for _, column in data_positions),
        mask_rows=tuple(mask_rows),
    )


@cache
def _format_and_version_rows(version: int, level: int, mask: int) -> tuple[int, ...]:
    """Return the dark modules of the format and version information, and the dark module."""
    code = qrcode.QRCode(version=version, error_correction=level, border=0)
    size = code.modules_count = version * 4 + 17
    code.modules = [[None] * size for _ in range(size)]
    code.setup_type_info(False, mask)
    if version >= 7:
        code.setup_type_number(False)
    top_bit = 1 << (size - 1)
    return tuple(
        sum(top_bit >> column for column, cell in enumerate(row) if cell) for row in code.modules
    )


def merge_dark_modules(
    rows: Sequence[Sequence[bool | None] | str],
) -> list[tuple[int, int, int, int]]:
    """Cover the dark cells of a module grid with rectangles and return them.

    A row is a sequence of cells or a string of "1" (dark) and "0" (light). Dark cells are
    first joined into runs along each row. A run with the same start and end as a run in the
    row above extends that rectangle downwards. A version 6 symbol (41 x 41) for a 48-character
    URL comes out at 368 rectangles instead of 861 dark modules.
    """
    rectangles: list[tuple[int, int, int, int]] = []
    # Maps a run's (start, end) columns to the row where its rectangle began.
    open_runs: dict[tuple[int, int], int] = {}
    for row_index, row in enumerate(rows):
        text = row if isinstance(row, str) else "".join("1" if cell else "0" for cell in row)
        still_open: dict[tuple[int, int], int] = {}
        for match in _DARK_RUN.finditer(text):
            run = match.span()
            still_open[run] = open_runs.pop(run, row_index)
        for (start, end), top in open_runs.items():
            rectangles.append((start, top, end - start, row_index - top))
        open_runs = still_open
    for (start, end), top in open_runs.items():
        rectangles.append((start, top, end - start, len(rows) - top))
    return rectangles
