"""HTTP routes for device models, devices, lifecycle actions and history."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.devices import catalog, reservations, service
from inventory.devices import labels as label_printing
from inventory.devices.idempotency import check_key, request_fingerprint
from inventory.devices.reservations import MAX_RESERVED
from inventory.devices.schemas import (
    ActionRequest,
    ActionResult,
    DeviceModelCreate,
    DeviceModelRead,
    DeviceRead,
    DeviceReceive,
    EventRead,
)
from inventory.schemas import Identifier, Page, Schema, json_response

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="A retried request with the same key is applied once and gets the same "
        "response.",
    ),
]
Cursor = Annotated[str | None, QueryParameter(description="next_cursor of the previous page.")]


class DeviceModelController(Controller):
    path = "/api/v1/device-models"
    tags = ["device models"]

    @post("/", summary="Create a device model", opt={"access": "admin"})
    async def create(self, db: DatabaseDep, data: JSONBody[DeviceModelCreate]) -> DeviceModelRead:
        return await catalog.create_device_model(db, data)

    @get("/", summary="List device models", opt={"access": "user"})
    async def list_models(
        self,
        db: DatabaseDep,
        manufacturer: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: FromQuery[int] = 100,
    ) -> Page[DeviceModelRead]:
        return await catalog.list_device_models(
            db, manufacturer=manufacturer, cursor=cursor, limit=limit
        )

    @get("/{model_id:int}", summary="Get a device model", opt={"access": "user"})
    async def get_model(self, db: DatabaseDep, model_id: FromPath[int]) -> DeviceModelRead:
        return await catalog.get_device_model(db, model_id)


class DeviceController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]

    @post("/", summary="Receive a new device", status_code=201, opt={"access": "staff"})
    async def receive(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        data: JSONBody[DeviceReceive],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ActionResult]:
        key = check_key(idempotency_key)
        fingerprint = request_fingerprint(
            "POST", request.url.path, data.model_dump(mode="json"), principal
        )
        status_code, result = await service.receive_device(
            db, data, actor=principal, idempotency_key=key, fingerprint=fingerprint
        )
        return Response(result, status_code=status_code)

    @get("/", summary="List devices", opt={"access": "user"})
    async def list_devices(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        site: Annotated[str | None, QueryParameter(description="Site code.")] = None,
        state_filter: Annotated[
            str | None, QueryParameter(name="state", description="Lifecycle state.")
        ] = None,
        model_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        technician: Annotated[
            str | None,
            QueryParameter(description="Employee number: devices this technician handled."),
        ] = None,
        cursor: Cursor = None,
        limit: FromQuery[int] = 50,
    ) -> Page[DeviceRead]:
        filters = service.DeviceFilters(
            site=site, state=state_filter, model_id=model_id, technician=technician
        )
        return await service.list_devices(
            db, filters, cursor=cursor, limit=limit, principal=principal
        )

    @get("/{asset_tag:str}", summary="Get a device by asset tag", opt={"access": "user"})
    async def get_device(self, request: Request, asset_tag: FromPath[str]) -> Response[DeviceRead]:
        # Every scan comes here. The database and the signed-in user are taken from the
        # request instead of through dependencies, and the model encodes itself: Litestar's
        # dependency resolution and its encoding of pydantic models each cost about a tenth
        # of this route's time.
        device = await service.get_device(
            request.app.state.db, asset_tag, request.scope.get("user")
        )
        return json_response(device)

    @post(
        "/{asset_tag:str}/actions",
        summary="Apply a lifecycle action",
        status_code=200,
        opt={"access": "user"},
    )
    async def apply_action(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        data: JSONBody[ActionRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> ActionResult:
        key = check_key(idempotency_key)
        fingerprint = request_fingerprint(
            "POST", request.url.path, data.model_dump(mode="json"), principal
        )
        return await service.apply_action(
            db, asset_tag, data, actor=principal, idempotency_key=key, fingerprint=fingerprint
        )

    @get(
        "/{asset_tag:str}/history",
        summary="A device's history, oldest first",
        opt={"access": "user"},
    )
    async def history(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        cursor: Cursor = None,
        limit: FromQuery[int] = 100,
    ) -> Page[EventRead]:
        return await service.device_history(
            db, asset_tag, cursor=cursor, limit=limit, principal=principal
        )


class LabelController(Controller):
    path = "/api/v1"
    tags = ["labels"]

    @get(
        "/labels.pdf",
        summary="QR asset labels as a PDF",
        opt={"access": "staff"},
        media_type="application/pdf",
        description="Labels of the matching devices on the chosen sheet template. "
        "X-Label-Warnings counts labels printed without their 1D barcode or with cut text.",
    )
    async def labels_pdf(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        site: Annotated[str | None, QueryParameter(description="Site code.")] = None,
        state_filter: Annotated[
            str | None, QueryParameter(name="state", description="Lifecycle state.")
        ] = None,
        tag_list: Annotated[
            str | None, QueryParameter(name="tags", description="Comma-separated asset tags.")
        ] = None,
        batch: Annotated[
            str | None,
            QueryParameter(description="A reservation batch: print its unused tags instead."),
        ] = None,
        template: Annotated[
            str, QueryParameter(description="Sheet template; see `inventory labels templates`.")
        ] = "avery-5160",
        skip: Annotated[
            int, QueryParameter(ge=0, le=1000, description="Labels already used on the sheet.")
        ] = 0,
    ) -> Response[bytes]:
        run = await label_printing.print_labels(
            db,
            principal,
            site=site,
            state=state_filter,
            tags=label_printing.split_tags(tag_list),
            batch=batch,
            template=template,
            skip=skip,
        )
        return Response(
            run.pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": 'inline; filename="labels.pdf"',
                "X-Label-Count": str(run.labels),
                "X-Label-Warnings": str(len(run.warnings)),
            },
        )


class TagReservationCreate(Schema):
    count: int = Field(ge=1, le=MAX_RESERVED, description="Tags to reserve.")
    prefix: Annotated[str, Field(max_length=40)] = Field(
        default="", description="Text before the number, such as `K123-`."
    )
    digits: int = Field(default=6, ge=1, le=12, description="Zero-padded width of the number.")
    site: Identifier | None = Field(default=None, description="Site the labels are for.")


class TagReservationRead(BaseModel):
    batch: str
    site: str | None
    tags: list[str]


class TagReservationController(Controller):
    path = "/api/v1/tag-reservations"
    tags = ["labels"]

    @post(
        "/",
        summary="Reserve new asset tags for labels printed before devices arrive",
        opt={"access": "staff"},
        status_code=201,
    )
    async def reserve(
        self, db: DatabaseDep, principal: PrincipalDep, data: JSONBody[TagReservationCreate]
    ) -> TagReservationRead:
        batch = await reservations.reserve_tags(
            db,
            count=data.count,
            prefix=data.prefix,
            digits=data.digits,
            site=data.site,
            actor=principal,
        )
        return TagReservationRead(batch=batch.batch, site=batch.site, tags=batch.tags)
