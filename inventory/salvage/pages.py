"""Salvage and recycling pages: a device's salvage record with the technician's forms, the
queue, a site's spare parts and end-of-support forecast, and recycling batches.

The forms call the same operations as the JSON API. The manifest downloads are page routes
as well, because the API takes bearer tokens only, never the session cookie.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel, ValidationError

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.deps import DatabaseDep, PrincipalDep
from inventory.devices.service import get_device
from inventory.errors import InvalidInputError, ServiceError
from inventory.lifecycle import SALVAGE_OUTCOMES, SANITIZATION_METHODS
from inventory.salvage import end_of_support, recycling, service
from inventory.salvage.manifest import FORMATS, manifest_csv, manifest_pdf
from inventory.salvage.rules import CONDITION_GRADES
from inventory.salvage.schemas import (
    AssessmentCreate,
    BatchClose,
    BatchCreate,
    DecisionCreate,
    SanitizationCreate,
)
from inventory.sites.service import get_site
from inventory.timeutil import district_today
from inventory.web.errors import HTML_EXCEPTION_HANDLERS
from inventory.web.filters import device_url


class FormError(Exception):
    """A form value that failed validation, with a message for the page."""


def _validate(schema: type[BaseModel], values: dict[str, Any]) -> Any:
    """Validate a form into a request shape; raise FormError naming each invalid field."""
    cleaned = {key: value for key, value in values.items() if value not in ("", None, [])}
    try:
        return schema.model_validate(cleaned)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'form'}: {error['msg']}"
            for error in exc.errors()
        )
        raise FormError(f"Check the form: {problems}.") from None


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


async def _form(request: Request) -> dict[str, str]:
    """Return the submitted fields without the CSRF token, each trimmed."""
    form = await request.form()
    return {key: str(value).strip() for key, value in form.items() if key != "_csrf_token"}


def _salvage_url(asset_tag: str, done: str | None = None) -> str:
    suffix = f"?{urlencode({'done': done})}" if done else ""
    return f"{device_url(asset_tag)}/salvage{suffix}"


async def _device_page(
    request: Request,
    db: Database,
    principal: Principal | None,
    asset_tag: str,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    device = await get_device(db, asset_tag, principal)
    record = await service.salvage_record(db, device.asset_tag, principal)
    open_assessment = next((item for item in record.assessments if item.decision is None), None)
    return Template(
        template_name="salvage_device.html",
        context={
            "device": device,
            "record": record,
            "open_assessment": open_assessment
            if record.assessments and record.assessments[0] is open_assessment
            else None,
            "grades": CONDITION_GRADES,
            "methods": SANITIZATION_METHODS,
            "outcomes": list(SALVAGE_OUTCOMES),
            "technician": principal.technician_number if principal else None,
            "is_staff": principal is not None and principal.is_staff,
            "message": request.query_params.get("done"),
            "error": error,
            "form": form or {},
            "today": district_today(db.settings.zone).isoformat(),
        },
        status_code=status_code,
    )


class SalvagePageController(Controller):
    include_in_schema = False
    opt = {"access": "user"}
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/a/{asset_tag:str}/salvage", name="device_salvage")
    async def device(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> Template:
        return await _device_page(request, db, principal, asset_tag)

    async def _submit(
        self,
        request: Request,
        db: Database,
        principal: Principal | None,
        asset_tag: str,
        work: Any,
    ) -> Response[Any]:
        form = await _form(request)
        try:
            done = await work(form)
        except FormError as exc:
            return await _device_page(
                request, db, principal, asset_tag, error=str(exc), form=form, status_code=422
            )
        except ServiceError as exc:
            if exc.status_code == 404:
                raise
            return await _device_page(
                request,
                db,
                principal,
                asset_tag,
                error=exc.detail,
                form=form,
                status_code=exc.status_code,
            )
        return Redirect(path=_salvage_url(asset_tag.strip(), done), status_code=303)

    @post("/a/{asset_tag:str}/salvage/assessments", opt={"access": "staff"})
    async def assess(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> Response[Any]:
        async def work(form: dict[str, str]) -> str:
            data = _validate(
                AssessmentCreate,
                {**form, "missing_parts": _list(form.get("missing_parts", ""))},
            )
            read = await service.create_assessment(db, asset_tag, data, principal)
            return f"Assessment recorded: recommended {read.recommendation}."

        return await self._submit(request, db, principal, asset_tag, work)

    @post("/a/{asset_tag:str}/salvage/sanitizations", opt={"access": "staff"})
    async def sanitize(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> Response[Any]:
        async def work(form: dict[str, str]) -> str:
            data = _validate(SanitizationCreate, form)
            read = await service.record_sanitization(db, asset_tag, data, principal)
            return f"Sanitization recorded: {read.method}, verified by {read.verified_by}."

        return await self._submit(request, db, principal, asset_tag, work)

    @post("/a/{asset_tag:str}/salvage/decision", opt={"access": "staff"})
    async def decide(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> Response[Any]:
        async def work(form: dict[str, str]) -> str:
            data = _validate(DecisionCreate, {**form, "parts": _list(form.get("parts", ""))})
            _assessment, result = await service.decide(db, asset_tag, data, principal)
            return f"Decision recorded: the device is now {result.device.state_label.lower()}."

        return await self._submit(request, db, principal, asset_tag, work)

    @get("/salvage", name="salvage_queue", opt={"access": "staff"})
    async def queue(
        self,
        db: DatabaseDep,
        site: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        page = await service.salvage_queue(db, site or None, cursor=cursor, limit=100)
        next_url = None
        if page.next_cursor:
            query = {"cursor": page.next_cursor, **({"site": site} if site else {})}
            next_url = f"/salvage?{urlencode(query)}"
        return Template(
            template_name="salvage_queue.html",
            context={"page": page, "site": site or "", "next_url": next_url},
        )

    @get("/sites/{code:str}/salvage", name="site_salvage", opt={"access": "staff"})
    async def site(self, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]) -> Template:
        site = await get_site(db, code, principal)
        queue = await service.salvage_queue(db, site.code, limit=100)
        parts = await service.list_spare_parts(db, site.code, limit=200)
        forecast = await end_of_support.forecast(db, site_code=site.code, years=5)
        return Template(
            template_name="salvage_site.html",
            context={"site": site, "queue": queue, "parts": parts, "forecast": forecast},
        )


def _batch_url(batch_id: int, done: str | None = None) -> str:
    suffix = f"?{urlencode({'done': done})}" if done else ""
    return f"/recycling/{batch_id}{suffix}"


class RecyclingPageController(Controller):
    include_in_schema = False
    opt = {"access": "staff"}
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]

    async def _list_page(
        self,
        request: Request,
        db: Database,
        *,
        error: str | None = None,
        form: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            template_name="recycling.html",
            context={
                "batches": await recycling.list_batches(db, limit=200),
                "message": request.query_params.get("done"),
                "error": error,
                "form": form or {},
                "today": district_today(db.settings.zone).isoformat(),
            },
            status_code=status_code,
        )

    async def _batch_page(
        self,
        request: Request,
        db: Database,
        principal: Principal | None,
        batch_id: int,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        batch, rows = await recycling.manifest_rows(db, batch_id)
        return Template(
            template_name="recycling_batch.html",
            context={
                "batch": batch,
                "rows": rows,
                "technician": principal.technician_number if principal else None,
                "message": request.query_params.get("done"),
                "error": error,
            },
            status_code=status_code,
        )

    @get("/recycling", name="recycling")
    async def batches(self, request: Request, db: DatabaseDep) -> Template:
        return await self._list_page(request, db)

    @post("/recycling")
    async def create(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep
    ) -> Response[Any]:
        form = await _form(request)
        try:
            data = _validate(BatchCreate, form)
            batch = await recycling.create_batch(db, data, principal)
        except FormError as exc:
            return await self._list_page(request, db, error=str(exc), form=form, status_code=422)
        except ServiceError as exc:
            return await self._list_page(
                request, db, error=exc.detail, form=form, status_code=exc.status_code
            )
        done = f"Batch {batch.id} made with {recycling.device_count_text(batch.device_count)}."
        return Redirect(path=_batch_url(batch.id, done), status_code=303)

    @get("/recycling/{batch_id:int}", name="recycling_batch")
    async def batch(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, batch_id: FromPath[int]
    ) -> Template:
        return await self._batch_page(request, db, principal, batch_id)

    @post("/recycling/{batch_id:int}/close")
    async def close(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, batch_id: FromPath[int]
    ) -> Response[Any]:
        form = await _form(request)
        try:
            data = _validate(BatchClose, form)
            batch = await recycling.close_batch(db, batch_id, data, principal)
        except FormError as exc:
            return await self._batch_page(
                request, db, principal, batch_id, error=str(exc), status_code=422
            )
        except ServiceError as exc:
            if exc.status_code == 404:
                raise
            return await self._batch_page(
                request, db, principal, batch_id, error=exc.detail, status_code=exc.status_code
            )
        done = f"Batch closed: {recycling.device_count_text(batch.device_count)} recycled."
        return Redirect(path=_batch_url(batch_id, done), status_code=303)

    @get("/recycling/{batch_id:int}/manifest", name="recycling_manifest")
    async def manifest(
        self, db: DatabaseDep, batch_id: FromPath[int], format: FromQuery[str] = "csv"
    ) -> Response[bytes]:
        fmt = format
        if fmt not in FORMATS:
            raise InvalidInputError(
                f"format {fmt!r} is not one of {', '.join(FORMATS)}.", format=fmt
            )
        batch, rows = await recycling.manifest_rows(db, batch_id)
        body = manifest_csv(rows) if fmt == "csv" else manifest_pdf(batch, rows)
        return Response(
            body,
            media_type=FORMATS[fmt],
            headers={
                "Content-Disposition": f'attachment; filename="recycling-batch-{batch.id}.{fmt}"'
            },
        )


SALVAGE_PAGE_CONTROLLERS = [SalvagePageController, RecyclingPageController]
