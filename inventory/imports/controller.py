"""HTTP routes: upload a device, site or technician file, and download the device export.

The file is the raw request body (CSV or XLSX). With dry_run=true nothing is written and the
response is the preview: the column mapping and the outcome each row would have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import ServiceError
from inventory.imports.devices import DeviceImportOptions, import_devices
from inventory.imports.directory import import_sites, import_technicians
from inventory.imports.export import device_csv_chunks
from inventory.imports.reading import open_bytes
from inventory.imports.report import ImportReport, RowResult, csv_header, csv_line
from inventory.openapi_errors import error_spec


class PayloadTooLargeError(ServiceError):
    status_code = 413


async def read_upload(request: Request, max_bytes: int) -> bytes:
    """Read the request body, or raise 413 as soon as it is larger than `max_bytes`."""
    declared = request.headers.get("content-length")
    too_large = PayloadTooLargeError(
        f"The file is larger than the upload limit of {max_bytes:,} bytes; split it, or "
        "import it with `inventory import` on the server (INVENTORY_IMPORT_MAX_BYTES sets "
        "the limit).",
        max_bytes=max_bytes,
    )
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _rows_kept(report_format: str) -> list[RowResult] | None:
    # Only the CSV report lists every row. The JSON report has the counts and rejections,
    # so the rows of a large file are not kept for it.
    return [] if report_format == "csv" else None


def _sink(rows: list[RowResult] | None) -> Callable[[RowResult], None] | None:
    return None if rows is None else rows.append


def _response(report: ImportReport, rows: list[RowResult] | None, report_format: str) -> Response:
    status = 200 if report.committed or (report.dry_run and not report.counts["rejected"]) else 422
    if report_format == "csv" and rows is not None:
        body = csv_header() + "".join(csv_line(row) for row in rows)
        return Response(body, status_code=status, media_type="text/csv; charset=utf-8")
    return Response(report.as_json(), status_code=status)


ReportFormat = Annotated[
    str,
    QueryParameter(
        pattern="^(json|csv)$",
        description="json: counts, mapping and rejected rows; csv: the outcome of every row.",
    ),
]


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["imports"]

    @post(
        "/devices",
        summary="Import devices from a CSV or XLSX file sent as the body",
        status_code=200,
        opt={"access": "staff"},
        request_max_body_size=None,
        responses={507: error_spec("The database ran out of disk space; nothing was written.")},
    )
    async def upload_devices(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        format: FromQuery[str] = "auto",
        site: FromQuery[str | None] = None,
        date_format: FromQuery[str | None] = None,
        update_by: FromQuery[str | None] = None,
        technician: FromQuery[str | None] = None,
        generate_tags: FromQuery[str | None] = None,
        dry_run: FromQuery[bool] = False,
        report_format: ReportFormat = "json",
        filename: FromQuery[str] = "upload",
    ) -> Response[Any]:
        """Nothing is written unless every row is accepted (422 otherwise, with the report)."""
        body = await read_upload(request, db.settings.import_max_bytes)
        options = DeviceImportOptions(
            format=format,
            site=site,
            date_format=date_format,
            update_by=update_by,
            dry_run=dry_run,
            generate_tags=generate_tags,
            technician=technician,
        )
        rows = _rows_kept(report_format)
        report = ImportReport(kind="devices", row_sink=_sink(rows))
        table = open_bytes(body)
        try:
            await import_devices(
                db, table, options, actor=principal, source=filename, report=report
            )
        finally:
            table.close()
        return _response(report, rows, report_format)

    @post(
        "/sites",
        summary="Import sites from a CSV or XLSX file sent as the body",
        status_code=200,
        opt={"access": "admin"},
        request_max_body_size=None,
    )
    async def upload_sites(
        self,
        request: Request,
        db: DatabaseDep,
        dry_run: FromQuery[bool] = False,
        report_format: ReportFormat = "json",
        filename: FromQuery[str] = "upload",
    ) -> Response[Any]:
        body = await read_upload(request, db.settings.import_max_bytes)
        rows = _rows_kept(report_format)
        table = open_bytes(body)
        try:
            report = await import_sites(
                db, table, source=filename, dry_run=dry_run, row_sink=_sink(rows)
            )
        finally:
            table.close()
        return _response(report, rows, report_format)

    @post(
        "/technicians",
        summary="Import technicians from a CSV or XLSX file sent as the body",
        status_code=200,
        opt={"access": "admin"},
        request_max_body_size=None,
    )
    async def upload_technicians(
        self,
        request: Request,
        db: DatabaseDep,
        dry_run: FromQuery[bool] = False,
        report_format: ReportFormat = "json",
        filename: FromQuery[str] = "upload",
    ) -> Response[Any]:
        body = await read_upload(request, db.settings.import_max_bytes)
        rows = _rows_kept(report_format)
        table = open_bytes(body)
        try:
            report = await import_technicians(
                db, table, source=filename, dry_run=dry_run, row_sink=_sink(rows)
            )
        finally:
            table.close()
        return _response(report, rows, report_format)


class DeviceExportController(Controller):
    tags = ["devices"]

    @get(
        "/api/v1/devices.csv",
        summary="Export devices as CSV in the generic import template's columns",
        opt={"access": "staff"},
        media_type="text/csv; charset=utf-8",
    )
    async def export_devices(self, db: DatabaseDep, site: FromQuery[str | None] = None) -> Stream:
        chunks = device_csv_chunks(db, site)
        # The first chunk is read here so that an unknown site is a 404, not a broken stream.
        first = await chunks.__anext__()

        async def body() -> Any:
            yield first
            async for chunk in chunks:
                yield chunk

        return Stream(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="devices.csv"'},
        )
