"""Batch files as CSV, XLSX and JSON, with the same bytes every time a batch is downloaded.

Each batch keeps its rows as they were when it was made (`ExportBatchRow.content`), and the
files are written from those rows in the vendor profile's column order. CSV and JSON are
produced in chunks as the rows are read, so memory stays flat however large the batch. XLSX
is built in a temporary file by openpyxl's write-only mode and then read out in chunks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from inventory.escalations.profiles import IDENTIFIER_FIELDS, VendorProfile

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
CHUNK_ROWS = 500
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(text: str) -> str:
    """Prefix "'" to text that a spreadsheet would run as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def restore(text: str) -> str:
    """Remove the "'" that `neutralize` added, leaving any other leading "'" in place."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def canonical_line(content: Mapping[str, Any]) -> bytes:
    return (
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode()


def checksum(contents: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 over the rows as canonical JSON lines, the same whatever the format."""
    digest = hashlib.sha256()
    for content in contents:
        digest.update(canonical_line(content))
    return digest.hexdigest()


def _identifier_columns(profile: VendorProfile) -> set[int]:
    return {
        index for index, column in enumerate(profile.columns) if column.field in IDENTIFIER_FIELDS
    }


def _spreadsheet_row(profile: VendorProfile, content: Mapping[str, Any]) -> list[str]:
    return [neutralize(cell) for cell in profile.row(content)]


async def csv_chunks(
    profile: VendorProfile, contents: AsyncIterator[Mapping[str, Any]]
) -> AsyncIterator[bytes]:
    """Yield the CSV in chunks: UTF-8 with a byte-order mark, every cell quoted, CRLF ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(profile.headers)
    count = 0
    async for content in contents:
        writer.writerow(_spreadsheet_row(profile, content))
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def json_chunks(
    profile: VendorProfile, batch: Mapping[str, Any], contents: AsyncIterator[Mapping[str, Any]]
) -> AsyncIterator[bytes]:
    """Yield {"batch": {...}, "rows": [{header: value}, ...]}; values as recorded, unaltered."""
    head = json.dumps({"batch": batch}, ensure_ascii=False, separators=(",", ":"))
    parts = [head[:-1] + ',"rows":[']
    first = True
    count = 0
    headers = profile.headers
    async for content in contents:
        row = dict(zip(headers, profile.row(content), strict=True))
        parts.append(("" if first else ",") + json.dumps(row, ensure_ascii=False))
        first = False
        count += 1
        if count % CHUNK_ROWS == 0:
            yield "".join(parts).encode()
            parts = []
    parts.append("]}")
    yield "".join(parts).encode()


async def xlsx_file(
    profile: VendorProfile,
    title: str,
    created_at: datetime,
    contents: AsyncIterator[Mapping[str, Any]],
) -> tempfile.SpooledTemporaryFile[bytes]:
    """Write the workbook to a temporary file and return it, rewound.

    Every cell is a text cell, and identifier columns also carry the text number format "@",
    so a spreadsheet keeps their leading zeros when someone edits them. The document dates
    are the batch's and the archive entries carry a fixed time, so the bytes repeat.
    """
    # NOTE: openpyxl writes synchronously, so a large workbook holds up the event loop of the
    # worker that builds it (about as long as the CSV of the same batch takes, not measured).
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    naive = created_at.replace(tzinfo=None, microsecond=0)
    workbook.properties.created = naive
    workbook.properties.modified = naive
    workbook.properties.creator = "inventory"
    sheet = workbook.create_sheet(title=title[:31])
    identifiers = _identifier_columns(profile)
    sheet.append(profile.headers)
    async for content in contents:
        cells = []
        for index, value in enumerate(_spreadsheet_row(profile, content)):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            if index in identifiers:
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    raw = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(raw)
    raw.seek(0)
    fixed = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    _repack(raw, fixed, (naive.year, naive.month, naive.day, naive.hour, naive.minute, 0))
    raw.close()
    fixed.seek(0)
    return fixed


def _repack(source: Any, target: Any, stamp: tuple[int, int, int, int, int, int]) -> None:
    """Copy a zip archive entry by entry, giving every entry the same timestamp."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            with old.open(info) as data, new.open(entry, "w") as out:
                shutil.copyfileobj(data, out)


def file_chunks(handle: Any, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()
