"""HTTP routes for salvage, data sanitization, spare parts, recycling batches and end of
support."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import InvalidInputError
from inventory.salvage import end_of_support, recycling, service
from inventory.salvage.manifest import FORMATS, manifest_csv, manifest_pdf
from inventory.salvage.pages import SALVAGE_PAGE_CONTROLLERS
from inventory.salvage.schemas import (
    AssessmentCreate,
    AssessmentRead,
    BatchClose,
    BatchCreate,
    CertificateUpdate,
    DecisionCreate,
    DecisionResult,
    EndOfSupportImportReport,
    EndOfSupportRead,
    EndOfSupportSet,
    Forecast,
    PartRead,
    PartUse,
    QueueItem,
    RecyclingBatchRead,
    SalvageRecord,
    SanitizationCreate,
    SanitizationRead,
)
from inventory.schemas import Page

MAX_IMPORT_BYTES = 2 * 1024 * 1024


class SalvageController(Controller):
    tags = ["salvage"]

    @get("/api/v1/salvage/queue", summary="List devices awaiting salvage", opt={"access": "staff"})
    async def queue(
        self,
        db: DatabaseDep,
        site: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> Page[QueueItem]:
        return await service.salvage_queue(db, site, cursor=cursor, limit=limit)

    @get(
        "/api/v1/devices/{asset_tag:str}/salvage",
        summary="Get a device's salvage assessments, sanitizations and harvested parts",
        opt={"access": "user"},
    )
    async def record(
        self, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> SalvageRecord:
        return await service.salvage_record(db, asset_tag, principal)

    @post(
        "/api/v1/devices/{asset_tag:str}/salvage/assessments",
        summary="Assess a device awaiting salvage and get the recommendation",
        status_code=201,
        opt={"access": "staff"},
    )
    async def assess(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        data: JSONBody[AssessmentCreate],
    ) -> AssessmentRead:
        return await service.create_assessment(db, asset_tag, data, principal)

    @post(
        "/api/v1/devices/{asset_tag:str}/salvage/sanitizations",
        summary="Record a data sanitization",
        status_code=201,
        opt={"access": "staff"},
    )
    async def sanitize(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        data: JSONBody[SanitizationCreate],
    ) -> SanitizationRead:
        return await service.record_sanitization(db, asset_tag, data, principal)

    @post(
        "/api/v1/devices/{asset_tag:str}/salvage/decision",
        summary="Decide reuse, harvest or recycle on the latest assessment",
        status_code=200,
        opt={"access": "staff"},
    )
    async def decide(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        data: JSONBody[DecisionCreate],
    ) -> DecisionResult:
        assessment, result = await service.decide(db, asset_tag, data, principal)
        return DecisionResult(assessment=assessment, device=result.device, event=result.event)

    @get(
        "/api/v1/sites/{code:str}/spare-parts",
        summary="List a site's harvested spare parts",
        opt={"access": "staff"},
    )
    async def spare_parts(
        self,
        db: DatabaseDep,
        code: FromPath[str],
        include_used: FromQuery[bool] = False,
        limit: FromQuery[int] = 500,
    ) -> list[PartRead]:
        return await service.list_spare_parts(
            db, code, available_only=not include_used, limit=limit
        )

    @post(
        "/api/v1/spare-parts/{part_id:int}/use",
        summary="Record a harvested part used in a repair",
        status_code=200,
        opt={"access": "staff"},
    )
    async def use_part(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        part_id: FromPath[int],
        data: JSONBody[PartUse],
    ) -> PartRead:
        return await service.use_part(db, part_id, data, principal)


class EndOfSupportController(Controller):
    tags = ["end of support"]

    @put(
        "/api/v1/devices/{asset_tag:str}/end-of-support",
        summary="Set a device's own end of support, overriding its model's",
        opt={"access": "staff"},
    )
    async def set_device(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        data: JSONBody[EndOfSupportSet],
    ) -> EndOfSupportRead:
        row = await end_of_support.set_device_end_of_support(db, asset_tag, data, principal)
        return EndOfSupportRead(
            asset_tag=asset_tag.strip(),
            end_of_support=row.end_of_support,
            precision=row.precision,
            reason=row.reason,
            set_by=row.set_by,
        )

    @delete(
        "/api/v1/devices/{asset_tag:str}/end-of-support",
        summary="Remove a device's own end of support",
        opt={"access": "staff"},
    )
    async def clear_device(self, db: DatabaseDep, asset_tag: FromPath[str]) -> None:
        await end_of_support.clear_device_end_of_support(db, asset_tag)

    @post(
        "/api/v1/device-models/end-of-support",
        summary="Import models' end of support from CSV (manufacturer, model, end_of_support)",
        status_code=200,
        opt={"access": "admin"},
        request_max_body_size=MAX_IMPORT_BYTES,
    )
    async def import_dates(
        self, request: Request, db: DatabaseDep, dry_run: FromQuery[bool] = False
    ) -> EndOfSupportImportReport:
        body = await request.body()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(
                "The end-of-support file is not UTF-8 text; save it as CSV UTF-8 and send it again."
            ) from None
        report = await end_of_support.import_model_dates(db, text, dry_run=dry_run)
        return EndOfSupportImportReport(
            updated=report.updated,
            unchanged=report.unchanged,
            unmatched=report.unmatched,
            dry_run=dry_run,
        )

    @get(
        "/api/v1/end-of-support/forecast",
        summary="Count devices reaching end of support per site and fiscal year",
        opt={"access": "staff"},
    )
    async def forecast(
        self,
        db: DatabaseDep,
        site: FromQuery[str | None] = None,
        first_year: Annotated[
            str | None, QueryParameter(description="First fiscal year, such as 2026-27.")
        ] = None,
        years: FromQuery[int] = 5,
    ) -> Forecast:
        return await end_of_support.forecast(db, site_code=site, first_year=first_year, years=years)


class RecyclingController(Controller):
    path = "/api/v1/recycling/batches"
    tags = ["recycling"]

    @post("/", summary="Create a recycling batch", status_code=201, opt={"access": "staff"})
    async def create(
        self, db: DatabaseDep, principal: PrincipalDep, data: JSONBody[BatchCreate]
    ) -> RecyclingBatchRead:
        return await recycling.create_batch(db, data, principal)

    @get("/", summary="List recycling batches", opt={"access": "staff"})
    async def list_batches(
        self,
        db: DatabaseDep,
        status: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> list[RecyclingBatchRead]:
        return await recycling.list_batches(db, status=status, limit=limit)

    @get("/{batch_id:int}", summary="Get a recycling batch", opt={"access": "staff"})
    async def get_batch(self, db: DatabaseDep, batch_id: FromPath[int]) -> RecyclingBatchRead:
        return await recycling.get_batch(db, batch_id)

    @put(
        "/{batch_id:int}/certificate",
        summary="Record the recycler's certificate number",
        opt={"access": "staff"},
    )
    async def certificate(
        self, db: DatabaseDep, batch_id: FromPath[int], data: JSONBody[CertificateUpdate]
    ) -> RecyclingBatchRead:
        return await recycling.set_certificate(db, batch_id, data.certificate_number)

    @post(
        "/{batch_id:int}/close",
        summary="Close a recycling batch, moving its devices to recycled",
        status_code=200,
        opt={"access": "staff"},
    )
    async def close(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        batch_id: FromPath[int],
        data: JSONBody[BatchClose],
    ) -> RecyclingBatchRead:
        return await recycling.close_batch(db, batch_id, data, principal)

    @get(
        "/{batch_id:int}/manifest",
        summary="Download a recycling batch's manifest as CSV or PDF",
        opt={"access": "staff"},
        media_type="application/octet-stream",
    )
    async def manifest(
        self, db: DatabaseDep, batch_id: FromPath[int], format: FromQuery[str] = "csv"
    ) -> Response[bytes]:
        if format not in FORMATS:
            raise InvalidInputError(
                f"format {format!r} is not one of {', '.join(FORMATS)}.", format=format
            )
        batch, rows = await recycling.manifest_rows(db, batch_id)
        body = manifest_csv(rows) if format == "csv" else manifest_pdf(batch, rows)
        filename = f"recycling-batch-{batch.id}.{format}"
        return Response(
            body,
            media_type=FORMATS[format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


SALVAGE_CONTROLLERS = [
    SalvageController,
    EndOfSupportController,
    RecyclingController,
    *SALVAGE_PAGE_CONTROLLERS,
]
