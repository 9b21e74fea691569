"""Batch files as CSV, XLSX and JSON, with the same bytes every time a batch is downloaded.

Each batch keeps its rows as they were when it was made (`ExportBatchRow.content`), and the
files are written from those rows in the vendor profile's column order. CSV and JSON are
produced a page of rows at a time as the rows are read, so memory stays flat however large
the batch. XLSX is built in a temporary file by openpyxl's write-only mode, in a thread, and
then read out in chunks.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from inventory.escalations.profiles import (
    FORMULA_FIRST,
    FORMULA_STARTS,
    IDENTIFIER_FIELDS,
    VendorProfile,
)

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def neutralize(text: str) -> str:
    """Prefix "'" to text that a spreadsheet would run as a formula."""
    return "'" + text if text and text[0] in FORMULA_FIRST else text


def restore(text: str) -> str:
    """Remove the "'" that `neutralize` added, leaving any other leading "'" in place."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
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


async def csv_chunks(
    profile: VendorProfile, pages: AsyncIterator[list[Mapping[str, Any]]]
) -> AsyncIterator[bytes]:
    """Yield the CSV a page of rows at a time: UTF-8 with a byte-order mark, every cell
    quoted, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(profile.headers)
    row = profile.row
    async for page in pages:
        writer.writerows([row(content, True) for content in page])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


async def json_chunks(
    profile: VendorProfile,
    batch: Mapping[str, Any],
    pages: AsyncIterator[list[Mapping[str, Any]]],
) -> AsyncIterator[bytes]:
    """Yield {"batch": {...}, "rows": [{header: value}, ...]}; values as recorded, unaltered."""
    head = json.dumps({"batch": batch}, ensure_ascii=False, separators=(",", ":"))
    yield (head[:-1] + ',"rows":[').encode()
    headers = profile.headers
    separator = ""
    async for page in pages:
        parts = []
        for content in page:
            row = dict(zip(headers, profile.row(content), strict=True))
            parts.append(separator + json.dumps(row, ensure_ascii=False))
            separator = ","
        yield "".join(parts).encode()
    yield b"]}"


class _Workbook:
    """An openpyxl write-only workbook of one sheet whose every cell is text.

    Identifier columns also carry the text number format "@", so a spreadsheet keeps their
    leading zeros when someone edits them.
    """

    def __init__(self, profile: VendorProfile, title: str, created_at: datetime) -> None:
        from openpyxl import Workbook

        self.profile = profile
        self.created = created_at.replace(tzinfo=None, microsecond=0)
        self.book = Workbook(write_only=True)
        self.book.properties.created = self.created
        self.book.properties.modified = self.created
        self.book.properties.creator = "inventory"
        self.sheet = self.book.create_sheet(title=title[:31])
        self.identifiers = _identifier_columns(profile)
        self.sheet.append(profile.headers)

    def append(self, page: list[Mapping[str, Any]]) -> None:
        from openpyxl.cell import WriteOnlyCell

        for content in page:
            cells = []
            for index, value in enumerate(self.profile.row(content, neutralize=True)):
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.data_type = "s"
                if index in self.identifiers:
                    cell.number_format = "@"
                cells.append(cell)
            self.sheet.append(cells)

    def save(self) -> tempfile.SpooledTemporaryFile[bytes]:
        raw = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        self.book.save(raw)
        raw.seek(0)
        fixed = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        created = self.created
        stamp = (created.year, created.month, created.day, created.hour, created.minute, 0)
        _repack(raw, fixed, stamp, created)
        raw.close()
        fixed.seek(0)
        return fixed


async def xlsx_file(
    profile: VendorProfile,
    title: str,
    created_at: datetime,
    pages: AsyncIterator[list[Mapping[str, Any]]],
) -> tempfile.SpooledTemporaryFile[bytes]:
    """Write the workbook to a temporary file and return it, rewound.

    openpyxl works synchronously, so each page is written, and the file saved, in a thread:
    the worker's event loop keeps serving other requests meanwhile. The document dates are
    the batch's and the archive entries carry a fixed time, so the bytes repeat.
    """
    workbook = _Workbook(profile, title, created_at)
    async for page in pages:
        await asyncio.to_thread(workbook.append, page)
    return await asyncio.to_thread(workbook.save)


# openpyxl sets the document's modified time to the time of saving, whatever it was given.
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _repack(
    source: Any, target: Any, stamp: tuple[int, int, int, int, int, int], modified: datetime
) -> None:
    """Copy a zip archive entry by entry, with one timestamp and the given modified time."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            with old.open(info) as data, new.open(entry, "w") as out:
                if info.filename == "docProps/core.xml":
                    when = modified.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                    out.write(_MODIFIED.sub(rb"\g<1>" + when + rb"\g<2>", data.read()))
                else:
                    shutil.copyfileobj(data, out)


def file_chunks(handle: Any, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()
