"""A recycling batch's manifest as CSV or PDF."""

from __future__ import annotations

import csv
import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from inventory.salvage.recycling import MANIFEST_COLUMNS
from inventory.salvage.schemas import RecyclingBatchRead

FORMATS = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def manifest_csv(rows: list[dict[str, str]]) -> bytes:
    """Return the manifest as UTF-8 CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def manifest_pdf(batch: RecyclingBatchRead, rows: list[dict[str, str]]) -> bytes:
    """Return the manifest as a landscape Letter PDF: the batch's facts, then one table row
    per device, the header repeated on every page."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(letter),
        leftMargin=0.5 * inch,
        rightMargin=0.5 * inch,
        topMargin=0.5 * inch,
        bottomMargin=0.5 * inch,
        title=f"Recycling batch {batch.id} manifest",
    )
    styles = getSampleStyleSheet()
    where = f"site {batch.site}" if batch.site else f"region {batch.region}"
    certificate = batch.certificate_number or "not yet received"
    facts = (
        f"Recycler: {batch.recycler}. Pickup date: {batch.pickup_date.isoformat()}. "
        f"Picked up at {where}. Certificate number: {certificate}. "
        f"Status: {batch.status}. Devices: {batch.device_count}."
    )
    header = [
        "Asset tag",
        "Serial number",
        "Manufacturer",
        "Model",
        "Site",
        "Method",
        "Sanitized on",
        "Tool",
        "By",
        "Verified by",
    ]
    keys = [name for name in MANIFEST_COLUMNS if name != "device_type"]
    table = Table(
        [header, *[[row[key] for key in keys] for row in rows]],
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    story = [
        Paragraph(f"Recycling batch {batch.id}: manifest", styles["Title"]),
        Paragraph(facts, styles["Normal"]),
        Spacer(1, 0.2 * inch),
        table,
    ]
    document.build(story)
    return buffer.getvalue()
