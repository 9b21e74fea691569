"""HTTP routes for sites."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from inventory.deps import DatabaseDep
from inventory.schemas import Page
from inventory.sites import service
from inventory.sites.schemas import SiteCreate, SiteRead


class SiteController(Controller):
    path = "/api/v1/sites"
    tags = ["sites"]

    @post("/", summary="Create a site")
    async def create(self, db: DatabaseDep, data: JSONBody[SiteCreate]) -> SiteRead:
        return await service.create_site(db, data)

    @get("/", summary="List sites")
    async def list_sites(
        self,
        db: DatabaseDep,
        region: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1)] = 100,
    ) -> Page[SiteRead]:
        return await service.list_sites(db, region=region, kind=kind, cursor=cursor, limit=limit)

    @get("/{code:str}", summary="Get a site")
    async def get_site(self, db: DatabaseDep, code: FromPath[str]) -> SiteRead:
        return await service.get_site(db, code)
