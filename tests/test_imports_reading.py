"""Reading spreadsheet files: encodings, delimiters, line endings, quoting, XLSX, headers."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from inventory.errors import InvalidInputError
from inventory.imports.formats import (
    DEVICE_FORMATS,
    detect_device_format,
    fold_header,
    map_columns,
)
from inventory.imports.reading import open_bytes

HEADER = "asset_tag,serial_number,model\n"
ROWS = '000101,SN1,"Chromebook, 11"" G8"\n000102,SN2,"Two\nlines"\n'


def _read(data: bytes) -> tuple[list[str], list[tuple[int, list]], object]:
    table = open_bytes(data)
    rows = list(table.rows)
    table.close()
    return table.header, rows, table


@pytest.mark.parametrize(
    ("prefix", "encoding", "expected"),
    [
        (b"", "utf-8", "UTF-8"),
        (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    ],
)
def test_utf8_with_and_without_bom(prefix: bytes, encoding: str, expected: str) -> None:
    header, rows, table = _read(prefix + (HEADER + ROWS + "000103,SNé,Ñandú\n").encode(encoding))
    assert header == ["asset_tag", "serial_number", "model"]
    assert table.encoding == expected
    assert table.warnings == []
    assert rows[2][1] == ["000103", "SNé", "Ñandú"]


def test_utf16_with_bom() -> None:
    data = (HEADER + ROWS).replace(",", "\t").encode("utf-16")
    header, rows, table = _read(data)
    assert header == ["asset_tag", "serial_number", "model"]
    assert table.encoding == "UTF-16"
    assert rows[0][1][0] == "000101"


def test_windows_1252_read_with_warning() -> None:
    _, rows, table = _read((HEADER + "000103,SN3,Café \u2018Pro\u2019\n").encode("cp1252"))
    assert table.encoding == "Windows-1252"
    assert len(table.warnings) == 1
    assert "Windows-1252" in table.warnings[0]
    assert rows[0][1][2] == "Café \u2018Pro\u2019"


def test_undecodable_bytes_rejected() -> None:
    with pytest.raises(InvalidInputError, match="neither UTF-8 nor Windows-1252"):
        open_bytes(HEADER.encode() + b"000101,SN\x81\xff,x\n")


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_delimiters_detected(delimiter: str, name: str) -> None:
    text = 'asset_tag,serial_number,model\n000101,SN1,"A,B"\n'.replace(",", delimiter)
    header, rows, table = _read(text.encode())
    assert table.delimiter == delimiter
    assert name in table.describe()
    assert header == ["asset_tag", "serial_number", "model"]
    assert rows[0][1] == ["000101", "SN1", f"A{delimiter}B"]


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
def test_line_endings(ending: str) -> None:
    text = (HEADER + ROWS).replace("\n", ending)
    header, rows, _ = _read(text.encode())
    assert header == ["asset_tag", "serial_number", "model"]
    assert len(rows) == 2
    assert rows[0][1][2] == 'Chromebook, 11" G8'
    assert rows[1][1][2] == f"Two{ending}lines"


def test_quoted_newline_keeps_line_numbers() -> None:
    _, rows, _ = _read((HEADER + ROWS + "000103,SN3,X\n").encode())
    assert [line for line, _ in rows] == [2, 3, 5]


def test_blank_rows_skipped() -> None:
    _, rows, _ = _read((HEADER + "000101,SN1,X\n,,\n\n000102,SN2,Y\n").encode())
    assert [cells[0] for _, cells in rows] == ["000101", "000102"]


def test_unclosed_quote_names_line() -> None:
    table = open_bytes((HEADER + '000101,SN1,"open\n').encode())
    with pytest.raises(InvalidInputError):
        list(table.rows)


def test_empty_file_rejected() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        open_bytes(b"")


def test_xlsx_cells_keep_their_types() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Asset Tag", "Serial Number", "Purchase Date"])
    sheet.append(["000101", "SN1", date(2023, 1, 5)])
    sheet.append([None, None, None])
    sheet.append(["000102", 12345, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    header, rows, table = _read(buffer.getvalue())
    assert table.kind == "xlsx"
    assert header == ["Asset Tag", "Serial Number", "Purchase Date"]
    assert rows[0][0] == 2
    assert rows[0][1][0] == "000101"
    assert rows[0][1][2].date() == date(2023, 1, 5)
    assert rows[1][0] == 4
    assert rows[1][1][1] == 12345


def _xlsx(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_zero_padded_numbers_keep_their_zeros() -> None:
    # Excel shows the number 101 formatted 000000 as 000101, which is the tag on the label.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Asset Tag", "Serial Number", "Warranty Months"])
    sheet.append([101, "SN1", 36])
    sheet["A2"].number_format = "000000"
    sheet["C2"].number_format = "0"
    _, rows, _ = _read(_xlsx(workbook))
    assert rows[0][1] == ["000101", "SN1", 36]


def test_xlsx_declared_size_and_far_cells_ignored() -> None:
    # A sheet may declare A1:XFD100000. Only the header's columns of the rows it contains
    # are read, with each row's own line number.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Asset Tag", "Serial Number"])
    sheet.append(["000101", "SN1"])
    sheet["A100000"] = "000102"
    sheet["B100000"] = "SN2"
    sheet["XFD100000"] = "far away"
    data = _xlsx(workbook)
    header, rows, _ = _read(data)
    assert header == ["Asset Tag", "Serial Number"]
    assert rows == [(2, ["000101", "SN1"]), (100000, ["000102", "SN2"])]


def test_xlsx_shared_strings_over_the_limit_refused(monkeypatch) -> None:
    # openpyxl writes text inline, so the shared strings part Excel writes is added here.
    monkeypatch.setattr("inventory.imports.reading.MAX_SHARED_STRINGS_BYTES", 100)
    workbook = Workbook()
    workbook.active.append(["Asset Tag", "Serial Number"])
    buffer = io.BytesIO(_xlsx(workbook))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<si><t>{'S' * 200}</t></si></sst>",
        )
    with pytest.raises(InvalidInputError, match="export the sheet as CSV"):
        open_bytes(buffer.getvalue())


def test_damaged_xlsx_rejected() -> None:
    with pytest.raises(InvalidInputError, match="XLSX"):
        open_bytes(b"PK\x03\x04 not really a zip file")


@pytest.mark.parametrize(
    "header", ["Asset Tag", "asset_tag", "ASSET-TAG", " asset tag ", "\ufeffAsset Tag"]
)
def test_header_folding(header: str) -> None:
    assert fold_header(header) == "assettag"


def test_mapping_lists_columns_and_ignored() -> None:
    header = ["Serial", "Asset Tag", "Model", "Manufacturer", "Site", "Colour"]
    columns = map_columns(header, DEVICE_FORMATS["generic"].aliases, ("asset_tag", "serial_number"))
    assert columns.columns["serial_number"] == 0
    assert columns.columns["asset_tag"] == 1
    assert columns.ignored == ["Colour"]
    assert "'Serial' -> serial_number" in columns.lines()
    assert "'Colour' -> not imported" in columns.lines()


def test_missing_required_column_named() -> None:
    with pytest.raises(InvalidInputError, match="serial_number") as caught:
        map_columns(["Asset Tag"], DEVICE_FORMATS["generic"].aliases, ("serial_number",))
    assert "serialnumber" in caught.value.detail


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["serialNumber", "annotatedAssetId", "orgUnitPath", "model"], "google"),
        (["Asset Tag", "Checkout Type", "Checked Out To: Username"], "snipeit"),
        (["asset_tag", "serial_number"], "generic"),
    ],
)
def test_format_detection(header: list[str], expected: str) -> None:
    assert detect_device_format(header).name == expected
