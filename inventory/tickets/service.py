"""Support tickets: open, assign, move through open → in progress → resolved, and list."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.schemas import Page, check_limit, decode_cursor, encode_cursor
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician
from inventory.technicians.service import find_active_technician
from inventory.tickets.models import Ticket
from inventory.tickets.rules import TICKET_STATES, TICKET_TRANSITIONS, ticket_priority
from inventory.tickets.schemas import TicketCreate, TicketRead
from inventory.types import utc_now

log = logging.getLogger(__name__)

MAX_PAGE = 500


async def _ticket_read(session: AsyncSession, ticket: Ticket) -> TicketRead:
    assert ticket.id is not None
    site = await session.get(Site, ticket.site_id)
    assert site is not None
    device = await session.get(Device, ticket.device_id) if ticket.device_id else None
    technician = (
        await session.get(Technician, ticket.technician_id) if ticket.technician_id else None
    )
    return TicketRead(
        id=ticket.id,
        site=site.code,
        asset_tag=device.asset_tag if device else None,
        problem=ticket.problem,
        severity=ticket.severity,
        impact=ticket.impact,
        priority=ticket.priority,
        state=ticket.state,
        technician=technician.employee_number if technician else None,
        reported_by=ticket.reported_by,
        resolution=ticket.resolution,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        resolved_at=ticket.resolved_at,
    )


def _priority(severity: str, impact: str) -> int:
    try:
        return ticket_priority(severity, impact)
    except ValueError as exc:
        raise InvalidInputError(str(exc), severity=severity, impact=impact) from exc


async def open_ticket_in(
    session: AsyncSession,
    *,
    site_id: int,
    device_id: int | None,
    problem: str,
    severity: str,
    impact: str,
    reported_by: str | None,
) -> Ticket:
    """Open a ticket inside an open transaction and return it."""
    ticket = Ticket(
        site_id=site_id,
        device_id=device_id,
        problem=problem,
        severity=severity,
        impact=impact,
        priority=_priority(severity, impact),
        state="open",
        reported_by=reported_by,
    )
    session.add(ticket)
    await session.flush()
    log.info(
        "ticket opened",
        extra={"ticket_id": ticket.id, "site_id": site_id, "priority": ticket.priority},
    )
    return ticket


async def open_ticket(db: Database, data: TicketCreate, principal: Principal | None) -> TicketRead:
    """Open a ticket at a site the user may see, optionally about one of its devices."""
    severity = data.severity.strip().casefold()
    impact = data.impact.strip().casefold()
    _priority(severity, impact)
    async with db.write() as session:
        site = await find_site(session, data.site, principal)
        device_id = None
        if data.asset_tag:
            device = await session.scalar(select(Device).where(Device.asset_tag == data.asset_tag))
            if device is None or device.site_id != site.id:
                raise NotFoundError(
                    f"Device with asset tag {data.asset_tag!r} not found at site {site.code}.",
                    asset_tag=data.asset_tag,
                )
            device_id = device.id
        assert site.id is not None
        ticket = await open_ticket_in(
            session,
            site_id=site.id,
            device_id=device_id,
            problem=data.problem,
            severity=severity,
            impact=impact,
            reported_by=principal.username if principal else None,
        )
        return await _ticket_read(session, ticket)


async def _find_ticket(
    session: AsyncSession, ticket_id: int, principal: Principal | None
) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or (principal is not None and not principal.may_see_site(ticket.site_id)):
        raise NotFoundError(f"Ticket {ticket_id} not found.", ticket_id=ticket_id)
    return ticket


async def get_ticket(db: Database, ticket_id: int, principal: Principal | None) -> TicketRead:
    async with db.read() as session:
        return await _ticket_read(session, await _find_ticket(session, ticket_id, principal))


async def assign_ticket(
    db: Database, ticket_id: int, employee_number: str, principal: Principal | None
) -> TicketRead:
    async with db.write() as session:
        ticket = await _find_ticket(session, ticket_id, principal)
        if ticket.state == "resolved":
            raise ConflictError(
                f"Ticket {ticket_id} is resolved; reopen it before assigning it.",
                ticket_id=ticket_id,
            )
        technician = await find_active_technician(session, employee_number)
        ticket.technician_id = technician.id
        ticket.updated_at = utc_now()
        log.info(
            "ticket assigned",
            extra={"ticket_id": ticket_id, "technician": technician.employee_number},
        )
        return await _ticket_read(session, ticket)


async def set_ticket_state(
    db: Database,
    ticket_id: int,
    state: str,
    resolution: str | None,
    principal: Principal | None,
) -> TicketRead:
    """Move a ticket to another state; resolving one needs a resolution."""
    state = state.strip().casefold()
    if state not in TICKET_STATES:
        raise InvalidInputError(
            f"unknown ticket state {state!r}; use one of {', '.join(TICKET_STATES)}",
            state=state,
        )
    async with db.write() as session:
        ticket = await _find_ticket(session, ticket_id, principal)
        if state != ticket.state and state not in TICKET_TRANSITIONS[ticket.state]:
            raise ConflictError(
                f"Ticket {ticket_id} is {ticket.state} and cannot become {state}.",
                ticket_id=ticket_id,
                current_state=ticket.state,
            )
        if state == "resolved" and not resolution:
            raise InvalidInputError(
                f"Missing resolution: say how ticket {ticket_id} was resolved.",
                ticket_id=ticket_id,
            )
        ticket.state = state
        ticket.updated_at = utc_now()
        if state == "resolved":
            ticket.resolution = resolution
            ticket.resolved_at = ticket.updated_at
        else:
            ticket.resolved_at = None
        log.info("ticket state changed", extra={"ticket_id": ticket_id, "state": state})
        return await _ticket_read(session, ticket)


async def list_tickets(
    db: Database,
    principal: Principal | None,
    *,
    site: str | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[TicketRead]:
    """List tickets, most urgent first, then oldest first; site users see their sites only."""
    limit = check_limit(limit, MAX_PAGE)
    async with db.read() as session:
        query = select(Ticket).order_by(Ticket.priority, Ticket.id)
        if principal is not None and not principal.is_staff:
            query = query.where(Ticket.site_id.in_(list(principal.site_ids)))
        if site is not None:
            found = await find_site(session, site, principal)
            query = query.where(Ticket.site_id == found.id)
        if state is not None:
            query = query.where(Ticket.state == state.strip().casefold())
        if cursor is not None:
            after = decode_cursor(cursor, {"priority": int, "id": int})
            query = query.where(
                (Ticket.priority > after["priority"])
                | ((Ticket.priority == after["priority"]) & (Ticket.id > after["id"]))
            )
        tickets = list(await session.scalars(query.limit(limit + 1)))
        items = [await _ticket_read(session, ticket) for ticket in tickets[:limit]]
    next_cursor = None
    if len(tickets) > limit:
        last = tickets[limit - 1]
        next_cursor = encode_cursor({"priority": last.priority, "id": last.id})
    return Page(items=items, next_cursor=next_cursor, limit=limit)
