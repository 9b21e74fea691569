"""HTTP routes for support tickets."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.schemas import Page
from inventory.tickets import service
from inventory.tickets.schemas import TicketAssign, TicketCreate, TicketRead, TicketStateSet


class TicketController(Controller):
    path = "/api/v1/tickets"
    tags = ["tickets"]

    @post("/", summary="Open a support ticket", status_code=201, opt={"access": "user"})
    async def open_ticket(
        self, db: DatabaseDep, principal: PrincipalDep, data: JSONBody[TicketCreate]
    ) -> TicketRead:
        return await service.open_ticket(db, data, principal)

    @get("/", summary="List tickets, most urgent first", opt={"access": "user"})
    async def list_tickets(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        site: FromQuery[str | None] = None,
        state_filter: Annotated[
            str | None, QueryParameter(name="state", description="open, in_progress, resolved")
        ] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> Page[TicketRead]:
        return await service.list_tickets(
            db, principal, site=site, state=state_filter, cursor=cursor, limit=limit
        )

    @get("/{ticket_id:int}", summary="Get a ticket", opt={"access": "user"})
    async def get_ticket(
        self, db: DatabaseDep, principal: PrincipalDep, ticket_id: FromPath[int]
    ) -> TicketRead:
        return await service.get_ticket(db, ticket_id, principal)

    @post(
        "/{ticket_id:int}/assign",
        summary="Assign a ticket to a technician",
        status_code=200,
        opt={"access": "admin"},
    )
    async def assign(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        ticket_id: FromPath[int],
        data: JSONBody[TicketAssign],
    ) -> TicketRead:
        return await service.assign_ticket(db, ticket_id, data.technician, principal)

    @post(
        "/{ticket_id:int}/state",
        summary="Start, resolve or reopen a ticket",
        status_code=200,
        opt={"access": "staff"},
    )
    async def set_state(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        ticket_id: FromPath[int],
        data: JSONBody[TicketStateSet],
    ) -> TicketRead:
        return await service.set_ticket_state(db, ticket_id, data.state, data.resolution, principal)
