"""HTTP routes for technicians."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from inventory.deps import DatabaseDep
from inventory.schemas import Page
from inventory.technicians import service
from inventory.technicians.schemas import TechnicianCreate, TechnicianRead


class TechnicianController(Controller):
    path = "/api/v1/technicians"
    tags = ["technicians"]

    @post("/", summary="Create a technician", opt={"access": "admin"})
    async def create(self, db: DatabaseDep, data: JSONBody[TechnicianCreate]) -> TechnicianRead:
        return await service.create_technician(db, data)

    @get("/", summary="List technicians", opt={"access": "staff"})
    async def list_technicians(
        self,
        db: DatabaseDep,
        region: FromQuery[str | None] = None,
        active: FromQuery[bool | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> Page[TechnicianRead]:
        return await service.list_technicians(
            db, region=region, active=active, cursor=cursor, limit=limit
        )

    @get("/{employee_number:str}", summary="Get a technician", opt={"access": "staff"})
    async def get_technician(
        self, db: DatabaseDep, employee_number: FromPath[str]
    ) -> TechnicianRead:
        return await service.get_technician(db, employee_number)
