"""The import page: upload a device, site or technician file, preview it, then import it.

The page keeps nothing between requests: a preview checks the uploaded file and shows the
outcome of every row, and the import is a second upload of the same file.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from inventory.accounts.principal import Principal
from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import ForbiddenError, ServiceError
from inventory.imports.controller import PayloadTooLargeError
from inventory.imports.devices import DeviceImportOptions, import_devices
from inventory.imports.directory import import_sites, import_technicians
from inventory.imports.reading import open_bytes
from inventory.imports.report import ImportReport, RowResult
from inventory.web.errors import HTML_EXCEPTION_HANDLERS

log = logging.getLogger(__name__)

KINDS = ("devices", "sites", "technicians")
_EMPTY_FORM = {
    "kind": "devices",
    "format": "auto",
    "technician": "",
    "site": "",
    "date_format": "",
    "update_by": "",
    "generate_tags": "",
}
# Room for the other form fields and the multipart framing around the file.
_FORM_OVERHEAD_BYTES = 64 * 1024


def _page(
    principal: Principal | None,
    *,
    form: dict[str, str] | None = None,
    report: ImportReport | None = None,
    rows: list[RowResult] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="imports.html",
        context={
            "form": {**_EMPTY_FORM, **(form or {})},
            "report": report,
            "rows": rows or [],
            "error": error,
            "is_admin": principal is not None and principal.is_admin,
        },
        status_code=status_code,
    )


class ImportPageController(Controller):
    include_in_schema = False
    opt = {"access": "staff"}
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/imports", name="imports")
    async def show(self, principal: PrincipalDep) -> Template:
        return _page(principal)

    @post("/imports", name="imports_upload", request_max_body_size=None)
    async def upload(self, request: Request, db: DatabaseDep, principal: PrincipalDep) -> Template:
        limit = db.settings.import_max_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD_BYTES:
            raise PayloadTooLargeError(
                f"The file is larger than the upload limit of {limit:,} bytes; split it or "
                "import it with `inventory import` on the server.",
                max_bytes=limit,
            )

        data = await request.form()
        form = {key: str(value).strip() for key, value in data.items() if key != "file"}
        kind = form.get("kind", "devices")
        upload_file = data.get("file")
        if kind not in KINDS:
            return _page(principal, form=form, error=f"Unknown kind {kind!r}.", status_code=422)
        if kind != "devices" and not (principal and principal.is_admin):
            raise ForbiddenError(f"Only admins may import {kind}.")
        if not isinstance(upload_file, UploadFile):
            return _page(principal, form=form, error="Choose the file to send.", status_code=422)

        content = await upload_file.read()
        if len(content) > limit:
            raise PayloadTooLargeError(
                f"The file is larger than the upload limit of {limit:,} bytes.", max_bytes=limit
            )

        dry_run = form.get("action") != "import"
        rows: list[RowResult] = []
        try:
            report = await self._run(
                db, principal, kind, form, content, upload_file.filename, dry_run, rows
            )
        except ServiceError as exc:
            if exc.status_code in (403, 413):
                raise
            log.info(
                "import upload rejected",
                extra={"kind": kind, "file": upload_file.filename, "error": exc.detail},
            )
            return _page(principal, form=form, error=exc.detail, status_code=exc.status_code)

        failed = bool(report.counts["rejected"])
        return _page(
            principal, form=form, report=report, rows=rows, status_code=422 if failed else 200
        )

    @staticmethod
    async def _run(
        db: Any,
        principal: Principal | None,
        kind: str,
        form: dict[str, str],
        content: bytes,
        filename: str,
        dry_run: bool,
        rows: list[RowResult],
    ) -> ImportReport:
        table = open_bytes(content)
        try:
            if kind == "sites":
                return await import_sites(
                    db, table, source=filename, dry_run=dry_run, row_sink=rows.append
                )
            if kind == "technicians":
                return await import_technicians(
                    db, table, source=filename, dry_run=dry_run, row_sink=rows.append
                )
            options = DeviceImportOptions(
                format=form.get("format") or "auto",
                site=form.get("site") or None,
                date_format=form.get("date_format") or None,
                update_by=form.get("update_by") or None,
                dry_run=dry_run,
                generate_tags=form.get("generate_tags") or None,
                technician=form.get("technician") or None,
            )
            report = ImportReport(kind="devices", row_sink=rows.append)
            return await import_devices(
                db, table, options, actor=principal, source=filename, report=report
            )
        finally:
            table.close()
