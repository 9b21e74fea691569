"""Operations on sites."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device
from inventory.errors import ConflictError, NotFoundError
from inventory.schemas import Page, check_limit, decode_cursor, encode_cursor
from inventory.sites.models import Site
from inventory.sites.schemas import SiteCreate, SiteRead, SiteSummary


async def find_site(session: AsyncSession, code: str, principal: Principal | None = None) -> Site:
    """Return the site with `code`; one `principal` may not see is reported as not found."""
    site = await session.scalar(select(Site).where(Site.code == code.strip()))
    if site is None or (principal is not None and not principal.may_see_site(site.id or 0)):
        raise NotFoundError(f"Site {code.strip()!r} not found.", site=code.strip())
    return site


def _scope_sites(query: Select, principal: Principal | None) -> Select:
    if principal is None or principal.is_staff:
        return query
    return query.where(Site.id.in_(sorted(principal.site_ids)))


async def create_site(db: Database, data: SiteCreate) -> SiteRead:
    try:
        async with db.write() as session:
            existing = await session.scalar(select(Site.id).where(Site.code == data.code))
            if existing is not None:
                raise ConflictError(f"Site {data.code!r} already exists.", site=data.code)
            site = Site(**data.model_dump())
            session.add(site)
    except IntegrityError as exc:
        raise ConflictError(f"Site {data.code!r} already exists.", site=data.code) from exc
    return SiteRead.model_validate(site)


async def get_site(db: Database, code: str, principal: Principal | None = None) -> SiteRead:
    async with db.read() as session:
        return SiteRead.model_validate(await find_site(session, code, principal))


async def list_sites(
    db: Database,
    *,
    region: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
    principal: Principal | None = None,
) -> Page[SiteRead]:
    limit = check_limit(limit, db.settings.page_size_max)
    query = _scope_sites(select(Site), principal).order_by(Site.code).limit(limit + 1)
    if region:
        query = query.where(Site.region == region)
    if kind:
        query = query.where(Site.kind == kind)
    if cursor:
        query = query.where(Site.code > decode_cursor(cursor, {"code": str})["code"])
    async with db.read() as session:
        rows = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"code": rows[limit - 1].code}) if len(rows) > limit else None
    return Page(
        items=[SiteRead.model_validate(row) for row in rows[:limit]],
        next_cursor=next_cursor,
        limit=limit,
    )


async def site_summaries(
    db: Database, *, region: str | None = None, principal: Principal | None = None
) -> list[SiteSummary]:
    """Return every site (or one region's) with its device count per state."""
    sites_query = _scope_sites(select(Site), principal).order_by(Site.region, Site.code)
    counts_query = select(Device.site_id, Device.state, func.count()).group_by(
        Device.site_id, Device.state
    )
    if region:
        sites_query = sites_query.where(Site.region == region)
        counts_query = counts_query.join(Site, Site.id == Device.site_id).where(
            Site.region == region
        )
    async with db.read() as session:
        sites = list((await session.execute(sites_query)).scalars())
        counts: dict[int, dict[str, int]] = {}
        for site_id, state, count in await session.execute(counts_query):
            counts.setdefault(site_id, {})[state] = count
    return [
        SiteSummary(
            code=site.code,
            name=site.name,
            kind=site.kind,
            region=site.region,
            enrollment=site.enrollment,
            device_count=sum(counts.get(site.id or 0, {}).values()),
            state_counts=counts.get(site.id or 0, {}),
        )
        for site in sites
    ]


async def list_regions(db: Database) -> list[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(Site.region).where(Site.region.is_not(None)).distinct().order_by(Site.region)
        )
        return [region for (region,) in rows]
