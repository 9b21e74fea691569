"""HTTP routes for sites."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.schemas import Page
from inventory.sites import service
from inventory.sites.schemas import SiteCreate, SiteRead


class SiteController(Controller):
    path = "/api/v1/sites"
    tags = ["sites"]

    @post("/", summary="Create a site", opt={"access": "admin"})
    async def create(self, db: DatabaseDep, data: JSONBody[SiteCreate]) -> SiteRead:
        return await service.create_site(db, data)

    @get("/", summary="List sites", opt={"access": "user"})
    async def list_sites(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        region: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> Page[SiteRead]:
        return await service.list_sites(
            db, region=region, kind=kind, cursor=cursor, limit=limit, principal=principal
        )

    @get("/{code:str}", summary="Get a site", opt={"access": "user"})
    async def get_site(
        self, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]
    ) -> SiteRead:
        return await service.get_site(db, code, principal)
