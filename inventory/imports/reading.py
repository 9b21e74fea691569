"""Read spreadsheet files as a header and a stream of rows. Pure: no database.

CSV files may be UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark
(Excel's "Unicode text"), or Windows-1252, which is reported as a warning because a file
saved that way loses every character outside that code page. Delimiters (comma, semicolon,
tab) are detected from the header line; CRLF, LF and CR-only line endings and quoted fields
with line breaks and doubled quotes are read by the csv module. XLSX files are read with
openpyxl in read-only mode. Rows are produced one at a time, so memory does not grow with
the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from inventory.errors import InvalidInputError

_XLSX_MAGIC = b"PK\x03\x04"
_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_CHUNK = 1 << 16
# Maximum unpacked size of an XLSX file's shared strings. A device file of a million rows
# with three distinct texts each needs about 100 MiB (an estimate: 35 bytes of XML per text).
MAX_SHARED_STRINGS_BYTES = 128 * 2**20

# A cell: text from a CSV file; text, a number, a date or None from an XLSX file.
Cell = str | int | float | date | datetime | None


@dataclass
class Table:
    """An opened file: its header, its rows with their line numbers, and what was noticed."""

    kind: str  # "csv" or "xlsx"
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    encoding: str | None = None
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)
    closers: list[Any] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "xlsx":
            return "XLSX workbook, first sheet"
        delimiter = _DELIMITER_NAMES.get(self.delimiter or ",", repr(self.delimiter))
        return f"CSV, {self.encoding}, {delimiter}-delimited"

    def close(self) -> None:
        for closer in self.closers:
            closer.close()


def _detect_encoding(handle: IO[bytes]) -> tuple[str, list[str]]:
    """Return the codec that decodes the whole file, reading it once in chunks."""
    head = handle.read(4)
    handle.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", []
    else:
        candidates = ["utf-8-sig", "cp1252"]
    last_error: UnicodeDecodeError | None = None
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        finally:
            handle.seek(0)
        if encoding == "cp1252":
            return encoding, [
                "The file is not UTF-8 and was read as Windows-1252; characters outside that "
                "code page were lost when it was saved. Save it as CSV UTF-8 to keep them."
            ]
        return encoding, []
    byte = last_error.object[last_error.start] if last_error else 0
    raise InvalidInputError(
        f"The file is neither UTF-8 nor Windows-1252 text (byte 0x{byte:02X} cannot be "
        "decoded); save it as CSV UTF-8 or as XLSX and try again."
    )


def _detect_delimiter(first_line: str) -> str:
    # Delimiters inside quotes do not count: "Doe, Jane" is one header.
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _read_csv(handle: IO[bytes]) -> Table:
    encoding, warnings = _detect_encoding(handle)
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    first_line = text.readline()
    text.seek(0)
    delimiter = _detect_delimiter(first_line)
    reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInputError("The file is empty; it needs a header line and rows.") from None
    except csv.Error as exc:
        raise InvalidInputError(f"The header line cannot be read as CSV: {exc}.") from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        while True:
            # The reader's line count is the physical line the record ended on; a record
            # with quoted line breaks is reported at the line it started on.
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInputError(
                    f"Line {start} cannot be read as CSV: {exc}. Check for an unclosed quote.",
                    line=start,
                ) from None
            if not any(cell.strip() for cell in cells):
                continue
            yield start, list(cells)

    return Table(
        kind="csv",
        header=header,
        rows=rows(),
        encoding={"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}[encoding],
        delimiter=delimiter,
        warnings=warnings,
        closers=[text],
    )


def _check_xlsx_parts(handle: IO[bytes]) -> None:
    """Refuse a workbook whose shared strings would unpack to more than the limit.

    openpyxl reads a sheet's rows one at a time but keeps every shared string in memory, so
    a small file can hold a string part that unpacks to gigabytes.
    """
    try:
        with zipfile.ZipFile(handle) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # load_workbook names the damage
    finally:
        handle.seek(0)
    for part in parts:
        if part.filename.lower().endswith("sharedstrings.xml") and (
            part.file_size > MAX_SHARED_STRINGS_BYTES
        ):
            raise InvalidInputError(
                f"The XLSX file's text cells unpack to {part.file_size / 2**20:,.0f} MiB, more "
                f"than the {MAX_SHARED_STRINGS_BYTES // 2**20} MiB this import reads; export "
                "the sheet as CSV UTF-8 and import that."
            )


def _zero_padded(cell: Any) -> Cell:
    """Return a cell's value, with a whole number formatted with leading zeros (format
    000000) as the text the spreadsheet shows."""
    value = cell.value
    if type(value) is int or (type(value) is float and value.is_integer()):
        number_format = cell.number_format
        if len(number_format or "") > 1 and set(number_format) == {"0"} and value >= 0:
            return f"{int(value):0{len(number_format)}d}"
    return value


def _read_xlsx(handle: IO[bytes]) -> Table:
    from openpyxl import load_workbook

    _check_xlsx_parts(handle)
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInputError(
            f"The XLSX file cannot be opened ({type(exc).__name__}); save it again from the "
            "spreadsheet or export it as CSV UTF-8."
        ) from None
    sheet = workbook.worksheets[0]
    # A sheet may declare a size far larger than its cells (A1:XFD1048576), and openpyxl
    # pads every row to it. Without it, each row has only the cells it contains.
    sheet.reset_dimensions()
    header_cells = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), None)
    if header_cells is None:
        workbook.close()
        raise InvalidInputError(
            "The first sheet is empty; it needs a header row and rows."
        ) from None
    header = ["" if cell is None else str(cell) for cell in header_cells]
    while header and not header[-1].strip():
        header.pop()
    # Cells right of the header belong to no column, so they are not read.
    width = max(len(header), 1)

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        lines = sheet.iter_rows(min_row=2, max_col=width)
        for number, cells in enumerate(lines, start=2):
            row = [_zero_padded(cell) for cell in cells]
            if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
                continue
            yield number, row

    return Table(kind="xlsx", header=header, rows=rows(), closers=[workbook])


def open_table(handle: IO[bytes]) -> Table:
    """Open a CSV or XLSX file given as a seekable binary handle."""
    magic = handle.read(4)
    handle.seek(0)
    if magic == _XLSX_MAGIC:
        return _read_xlsx(handle)
    return _read_csv(handle)


def open_path(path: Path) -> Table:
    handle = path.open("rb")
    try:
        table = open_table(handle)
    except BaseException:
        handle.close()
        raise
    table.closers.append(handle)
    return table


def open_bytes(data: bytes) -> Table:
    return open_table(io.BytesIO(data))
