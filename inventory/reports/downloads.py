"""The report as CSV, XLSX and PDF files, with the same tables and figures as the page."""

from __future__ import annotations

import csv
import io
from datetime import date

from inventory.escalations.exports import neutralize
from inventory.reports.tables import Cell, Report

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def render(report: Report, fmt: str) -> bytes:
    """Return the report as a file of format `fmt` (one of FORMATS)."""
    if fmt == "csv":
        return to_csv(report)
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "pdf":
        return to_pdf(report)
    raise ValueError(f"Unknown report format {fmt!r}; use one of {', '.join(FORMATS)}.")


def to_csv(report: Report) -> bytes:
    """Write every table in turn: its title on a line, its header, its rows, a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(report.title)])
    writer.writerow([report.subtitle, f"Figures as of {report.today.isoformat()}"])
    writer.writerow([])
    for table in report.tables:
        writer.writerow([table.title])
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([neutralize(cell_text(value)) for value in row])
        if table.note:
            writer.writerow([f"Note: {table.note}"])
        writer.writerow([])
    # A byte order mark, so that Excel reads the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel allows 31 characters and none of []:*?/\ in a sheet name.
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title)[:31].strip()
    name = cleaned
    number = 2
    while name in used:
        suffix = f" {number}"
        name = cleaned[: 31 - len(suffix)] + suffix
        number += 1
    used.add(name)
    return name


def to_xlsx(report: Report) -> bytes:
    """Write one sheet per table; numbers and dates stay typed for the spreadsheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in report.tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        sheet.append([table.title])
        sheet.append(table.columns)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for index, row in enumerate(table.rows):
            sheet.append([neutralize(v) if isinstance(v, str) else v for v in row])
            if index in table.total_rows:
                for cell in sheet[sheet.max_row]:
                    cell.font = Font(bold=True)
        if table.note:
            sheet.append([])
            sheet.append([f"Note: {table.note}"])
        for column_cells in sheet.iter_cols(min_row=2, max_row=min(sheet.max_row, 200)):
            width = max(len(cell_text(cell.value)) for cell in column_cells)
            sheet.column_dimensions[column_cells[0].column_letter].width = min(max(width, 8), 40)
    workbook.properties.title = f"{report.title}: {report.subtitle}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_pdf(report: Report) -> bytes:
    """Lay the tables out on Letter pages; wide tables turn the page to landscape."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from labels.fonts import BOLD, REGULAR, register_fonts

    register_fonts()
    widest = max((len(table.columns) for table in report.tables), default=1)
    page = landscape(letter) if widest > 6 else letter
    small = widest > 12
    size = 6 if small else 9
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=size, leading=size + 2)
    head = ParagraphStyle("head", parent=body, fontName=BOLD)
    heading = ParagraphStyle("heading", fontName=BOLD, fontSize=13, leading=16, spaceAfter=4)
    title = ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=4)

    def text(value: Cell, style: ParagraphStyle) -> Paragraph:
        escaped = cell_text(value).replace("&", "&amp;").replace("<", "&lt;")
        return Paragraph(escaped, style)

    story: list = [
        text(report.title, title),
        text(f"{report.subtitle}. Figures as of {report.today.isoformat()}.", body),
        Spacer(1, 0.15 * inch),
    ]
    for table in report.tables:
        story.append(text(table.title, heading))
        rows = [[text(name, head) for name in table.columns]]
        rows += [
            [text(value, head if index in table.total_rows else body) for value in row]
            for index, row in enumerate(table.rows)
        ]
        if len(rows) == 1:
            story.append(text("None.", body))
        else:
            width = (page[0] - inch) / len(table.columns)
            grid = Table(rows, colWidths=[width] * len(table.columns), repeatRows=1, hAlign="LEFT")
            grid.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f6f9")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(grid)
        if table.note:
            story.append(text(f"Note: {table.note}", body))
        story.append(Spacer(1, 0.2 * inch))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=0.5 * inch,
        rightMargin=0.5 * inch,
        topMargin=0.5 * inch,
        bottomMargin=0.5 * inch,
        title=f"{report.title}: {report.subtitle}",
        invariant=1,
    )
    document.build(story)
    return buffer.getvalue()
