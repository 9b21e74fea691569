"""Operations on device models: the catalog of manufacturers' models and their end of support."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inventory.db import Database
from inventory.devices.models import DeviceModel
from inventory.devices.schemas import DeviceModelCreate, DeviceModelRead
from inventory.devices.service import model_match_key, normalize_name
from inventory.errors import ConflictError, NotFoundError
from inventory.schemas import Page, check_limit, decode_cursor, encode_cursor


async def create_device_model(db: Database, data: DeviceModelCreate) -> DeviceModelRead:
    key = model_match_key(data.manufacturer, data.model)
    try:
        async with db.write() as session:
            existing = await session.scalar(select(DeviceModel).where(DeviceModel.match_key == key))
            if existing is not None:
                raise ConflictError(
                    f"Device model {existing.manufacturer} {existing.model!r} already exists "
                    f"with id {existing.id}.",
                    model_id=existing.id,
                )
            model = DeviceModel(**data.model_dump(), match_key=key)
            session.add(model)
    except IntegrityError as exc:
        raise ConflictError(
            f"Device model {data.manufacturer} {data.model!r} already exists."
        ) from exc
    return DeviceModelRead.model_validate(model)


async def get_device_model(db: Database, model_id: int) -> DeviceModelRead:
    model = None
    if 1 <= model_id < 2**31:
        async with db.read() as session:
            model = await session.get(DeviceModel, model_id)
    if model is None:
        raise NotFoundError(f"Device model {model_id} not found.", model_id=model_id)
    return DeviceModelRead.model_validate(model)


async def list_device_models(
    db: Database,
    *,
    manufacturer: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[DeviceModelRead]:
    limit = check_limit(limit, db.settings.page_size_max)
    query = select(DeviceModel).order_by(DeviceModel.id).limit(limit + 1)
    if manufacturer:
        query = query.where(DeviceModel.match_key.startswith(normalize_name(manufacturer) + "|"))
    if cursor:
        query = query.where(DeviceModel.id > decode_cursor(cursor, {"id": int})["id"])
    async with db.read() as session:
        rows = list((await session.execute(query)).scalars())
    items = [DeviceModelRead.model_validate(row) for row in rows[:limit]]
    next_cursor = encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, limit=limit)
