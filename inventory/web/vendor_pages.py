"""The vendor's page: its escalations, export batches, and the forms to reply to them.

Vendor users reach their own vendor's page only; the IT office and technicians reach any.
The forms call the same operations as the JSON API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream, Template

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import NotFoundError, ServiceError
from inventory.escalations import batches, replies, service
from inventory.escalations.controller import MAX_REPLY_BYTES, batch_stream, upload
from inventory.escalations.schemas import VendorUpdateReport
from inventory.vendors.service import get_vendor
from inventory.web.errors import HTML_EXCEPTION_HANDLERS

# Open escalations listed with a reply form each; a vendor with more replies by file.
OPEN_SHOWN = 500


async def _page(
    request: Request,
    db: Database,
    principal: Principal | None,
    code: str,
    *,
    message: str | None = None,
    error: str | None = None,
    report: VendorUpdateReport | None = None,
    status_code: int = 200,
) -> Template:
    vendor = await get_vendor(db, code, principal)
    listed = await service.list_escalations(
        db, principal, vendor=vendor.code, open_only=True, limit=OPEN_SHOWN
    )
    open_items = listed.items
    waiting = sum(item.state == "open" for item in open_items)
    return Template(
        template_name="vendor.html",
        context={
            "vendor": vendor,
            "escalations": open_items,
            "more": listed.next_cursor is not None,
            "waiting": waiting,
            "batches": await batches.list_batches(db, vendor.code, principal),
            "message": message or request.query_params.get("done"),
            "error": error,
            "report": report,
        },
        status_code=status_code,
    )


class VendorPageController(Controller):
    include_in_schema = False
    opt = {"access": "user"}
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/vendors/{code:str}", name="vendor")
    async def vendor(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]
    ) -> Template:
        return await _page(request, db, principal, code)

    @get("/vendors/{code:str}/batches/{batch_id:int}/download", name="vendor_batch_download")
    async def download(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        code: FromPath[str],
        batch_id: FromPath[int],
        format: FromQuery[str] = "csv",
    ) -> Stream:
        """Stream a batch file to a signed-in user, since the API's download takes a token."""
        batch, _profile = await batches.get_batch(db, batch_id, principal)
        if batch.vendor != code:
            raise NotFoundError(f"Export batch {batch_id} not found.", batch=batch_id)
        return await batch_stream(db, principal, batch_id, format)

    @post("/vendors/{code:str}/batches", name="vendor_batch")
    async def create_batch(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]
    ) -> Response[Any]:
        await request.form()
        try:
            batch = await batches.create_batch(db, code, principal)
        except ServiceError as exc:
            if exc.status_code == 404:
                raise
            return await _page(request, db, principal, code, error=exc.detail, status_code=409)
        done = f"Batch {batch.id} made with {batch.row_count} escalations."
        return Redirect(path=f"/vendors/{code}?{urlencode({'done': done})}", status_code=303)

    @post(
        "/vendors/{code:str}/replies",
        name="vendor_replies",
        request_max_body_size=MAX_REPLY_BYTES + 64 * 1024,
    )
    async def upload_replies(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]
    ) -> Template:
        form = await request.form()
        file = form.get("file")
        check_only = form.get("check_only") == "1"
        if not isinstance(file, UploadFile):
            return await _page(
                request, db, principal, code, error="Choose the CSV file to send.", status_code=422
            )
        content = await file.read()
        try:
            report = await upload(db, principal, code, content, dry_run=check_only)
        except ServiceError as exc:
            if exc.status_code == 404:
                raise
            return await _page(
                request, db, principal, code, error=exc.detail, status_code=exc.status_code
            )
        if report.applied:
            message = f"Replies applied: {len(report.rows)} rows."
        elif check_only and all(row.error is None for row in report.rows):
            message = f"All {len(report.rows)} rows can be applied; nothing was changed yet."
        else:
            message = None
        failed = not report.applied and not (check_only and message)
        return await _page(
            request,
            db,
            principal,
            code,
            message=message,
            error="Nothing was applied: fix the rows below and send the file again."
            if failed
            else None,
            report=report,
            status_code=422 if failed else 200,
        )

    @post("/vendors/{code:str}/escalations/{escalation_id:int}/reply", name="vendor_reply")
    async def reply(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        code: FromPath[str],
        escalation_id: FromPath[int],
    ) -> Response[Any]:
        form = {key: str(value).strip() for key, value in (await request.form()).items()}
        reply = replies.Reply(
            line=1,
            escalation_id=escalation_id,
            rma_number=form.get("rma_number", ""),
            outcome=form.get("outcome", "").casefold(),
            replacement_serial=form.get("replacement_serial", ""),
            reason=form.get("reason", ""),
        )
        try:
            row = await replies.reply_one(db, escalation_id, reply, principal)
        except ServiceError as exc:
            if exc.status_code == 404:
                raise
            return await _page(request, db, principal, code, error=exc.detail, status_code=422)
        done = f"Escalation {escalation_id}: {', '.join(row.actions) or 'nothing to change'}."
        return Redirect(path=f"/vendors/{code}?{urlencode({'done': done})}", status_code=303)
