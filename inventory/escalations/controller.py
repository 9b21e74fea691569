"""HTTP routes for warranty coverages, escalations, export batches and vendor replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from pydantic import Field

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import InvalidInputError
from inventory.escalations import batches, replies, service, warranty
from inventory.escalations.exports import FORMATS, csv_chunks, file_chunks, json_chunks, xlsx_file
from inventory.escalations.schemas import (
    BatchCreate,
    BatchRead,
    CoverageCreate,
    CoverageRead,
    EscalationRead,
    VendorUpdateReport,
    VendorUpdateRow,
)
from inventory.schemas import Identifier, OptionalText, Page, Schema
from inventory.vendors.service import find_vendor

MAX_REPLY_BYTES = 5 * 1024 * 1024


class ReplyRequest(Schema):
    """A vendor's reply to one escalation: any of its RMA number and its outcome."""

    rma_number: Identifier | None = None
    outcome: str | None = Field(default=None, description="repaired, replaced or denied.")
    replacement_serial: Identifier | None = None
    reason: OptionalText | None = Field(
        default=None, description="The repair done, or why the claim was denied."
    )


class CoverageController(Controller):
    path = "/api/v1/devices/{asset_tag:str}/warranty"
    tags = ["warranty"]

    @get("/", summary="List a device's warranty coverages", opt={"access": "user"})
    async def list_coverages(
        self, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> list[CoverageRead]:
        return await warranty.device_coverages(db, asset_tag, principal)

    @post("/", summary="Add a warranty coverage", status_code=201, opt={"access": "staff"})
    async def add_coverage(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        data: JSONBody[CoverageCreate],
    ) -> list[CoverageRead]:
        return await warranty.add_device_coverage(db, asset_tag, data, principal)


class EscalationController(Controller):
    path = "/api/v1/escalations"
    tags = ["escalations"]

    @get("/", summary="List escalations", opt={"access": "user"})
    async def list_escalations(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        vendor: FromQuery[str | None] = None,
        state_filter: Annotated[
            str | None, QueryParameter(name="state", description="open, exported, ...")
        ] = None,
        asset_tag: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> Page[EscalationRead]:
        return await service.list_escalations(
            db,
            principal,
            vendor=vendor,
            state=state_filter,
            asset_tag=asset_tag,
            cursor=cursor,
            limit=limit,
        )

    @get("/{escalation_id:int}", summary="Get an escalation", opt={"access": "user"})
    async def get_escalation(
        self, db: DatabaseDep, principal: PrincipalDep, escalation_id: FromPath[int]
    ) -> EscalationRead:
        return await service.get_escalation(db, escalation_id, principal)

    @post(
        "/{escalation_id:int}/reply",
        summary="Record a vendor's RMA number or outcome",
        status_code=200,
        opt={"access": "user"},
    )
    async def reply(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        escalation_id: FromPath[int],
        data: JSONBody[ReplyRequest],
    ) -> VendorUpdateRow:
        reply = replies.Reply(
            line=1,
            escalation_id=escalation_id,
            rma_number=data.rma_number or "",
            outcome=(data.outcome or "").strip().casefold(),
            replacement_serial=data.replacement_serial or "",
            reason=data.reason or "",
        )
        return await replies.reply_one(db, escalation_id, reply, principal)


class ExportBatchController(Controller):
    tags = ["export batches"]

    @post(
        "/api/v1/vendors/{code:str}/batches",
        summary="Export escalations to a vendor as a new batch",
        status_code=201,
        opt={"access": "user"},
    )
    async def create_batch(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        code: FromPath[str],
        data: JSONBody[BatchCreate | None] = None,
    ) -> BatchRead:
        ids = data.escalation_ids if data is not None else None
        return await batches.create_batch(db, code, principal, ids)

    @get(
        "/api/v1/vendors/{code:str}/batches",
        summary="List a vendor's export batches",
        opt={"access": "user"},
    )
    async def list_batches(
        self, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]
    ) -> list[BatchRead]:
        return await batches.list_batches(db, code, principal)

    @get("/api/v1/batches/{batch_id:int}", summary="Get an export batch", opt={"access": "user"})
    async def get_batch(
        self, db: DatabaseDep, principal: PrincipalDep, batch_id: FromPath[int]
    ) -> BatchRead:
        batch, _ = await batches.get_batch(db, batch_id, principal)
        return batch

    @get(
        "/api/v1/batches/{batch_id:int}/download",
        summary="Download an export batch as CSV, XLSX or JSON",
        opt={"access": "user"},
        media_type="application/octet-stream",
    )
    async def download(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        batch_id: FromPath[int],
        format: FromQuery[str] = "csv",
    ) -> Stream:
        return await batch_stream(db, principal, batch_id, format)

    @post(
        "/api/v1/vendors/{code:str}/replies",
        summary="Upload a vendor's replies as CSV, applied only when every row is valid",
        status_code=200,
        opt={"access": "user"},
        request_max_body_size=MAX_REPLY_BYTES,
    )
    async def upload_replies(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        code: FromPath[str],
        dry_run: FromQuery[bool] = False,
    ) -> Response[VendorUpdateReport]:
        """Apply the reply CSV sent as the body (Content-Type: text/csv), as the export wrote it."""
        body = await request.body()
        report = await upload(db, principal, code, body, dry_run=dry_run)
        return Response(report, status_code=200 if report.applied or dry_run else 422)


async def batch_stream(
    db: Database, principal: Principal | None, batch_id: int, fmt: str
) -> Stream:
    if fmt not in FORMATS:
        raise InvalidInputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}.", format=fmt)
    batch, profile = await batches.get_batch(db, batch_id, principal)
    contents = batches.batch_pages(db, batch_id)
    filename = f"{batch.vendor}-batch-{batch.id}.{fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Batch-Checksum": batch.checksum,
        "X-Batch-Rows": str(batch.row_count),
    }
    body: AsyncIterator[bytes]
    if fmt == "csv":
        body = csv_chunks(profile, contents)
    elif fmt == "json":
        body = json_chunks(profile, batch.model_dump(mode="json"), contents)
    else:
        title = f"{batch.vendor} batch {batch.id}"
        handle = await xlsx_file(profile, title, batch.created_at, contents)
        return Stream(file_chunks(handle), media_type=FORMATS[fmt], headers=headers)
    return Stream(body, media_type=FORMATS[fmt], headers=headers)


async def upload(
    db: Database, principal: Principal | None, code: str, data: bytes, *, dry_run: bool
) -> VendorUpdateReport:
    """Check and apply a reply file for vendor `code`; rows of other vendors are rejected.

    A row names an escalation its sender may not see (a site user sees none) as not found.
    """
    async with db.read() as session:
        vendor = await find_vendor(session, code, principal)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(
            "The reply file is not UTF-8 text; save it as CSV UTF-8 and send it again."
        ) from None
    parsed = replies.parse_replies(text)
    return await replies.apply_replies(db, parsed, principal, vendor_id=vendor.id, dry_run=dry_run)
