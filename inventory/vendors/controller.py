"""HTTP routes for vendors."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.vendors import service
from inventory.vendors.schemas import VendorCreate, VendorRead


class VendorController(Controller):
    path = "/api/v1/vendors"
    tags = ["vendors"]

    @post("/", summary="Create a vendor", opt={"access": "admin"})
    async def create(self, db: DatabaseDep, data: JSONBody[VendorCreate]) -> VendorRead:
        return await service.create_vendor(db, data)

    @get("/", summary="List vendors", opt={"access": "user"})
    async def list_vendors(self, db: DatabaseDep, principal: PrincipalDep) -> list[VendorRead]:
        return await service.list_vendors(db, principal)

    @get("/{code:str}", summary="Get a vendor", opt={"access": "user"})
    async def get_vendor(
        self, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]
    ) -> VendorRead:
        return await service.get_vendor(db, code, principal)
