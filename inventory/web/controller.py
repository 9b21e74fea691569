"""Page routes; they call the same services as the JSON API."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.config.compression import CompressionConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.devices import service as devices
from inventory.errors import NotFoundError
from inventory.sites import service as sites
from inventory.timeutil import district_today
from inventory.web import queries, views
from inventory.web.errors import HTML_EXCEPTION_HANDLERS
from inventory.web.filters import device_url, site_url

log = logging.getLogger(__name__)

SITE_DEVICES_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 100


def _blank_to_none(value: str | None) -> str | None:
    """Return the trimmed value, or None for a missing or empty query parameter."""
    if value is None:
        return None
    return value.strip() or None


# The home page lists every site with a count per state: about 560 KB of HTML for the 1,509
# sites of the demo district, which gzip at level 6 shrinks to about 45 KB.
_GZIP = DefineMiddleware(
    CompressionMiddleware, config=CompressionConfig(backend="gzip", gzip_compress_level=6)
)


class PageController(Controller):
    include_in_schema = False
    # The access rule an app-wide guard may check: the pages show the same data as the API's
    # read routes, which any signed-in user may call.
    opt = {"access": "user"}
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]
    middleware = [_GZIP]

    @get("/", name="home")
    async def home(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        region: Annotated[str | None, QueryParameter(description="Region name.")] = None,
        text: Annotated[
            str | None, QueryParameter(name="q", description="Part of a site code or name.")
        ] = None,
    ) -> Template:
        region = _blank_to_none(region)
        text = _blank_to_none(text)
        summaries = await sites.site_summaries(db, region=region, principal=principal)
        if text:
            summaries = [site for site in summaries if views.matches_text(site, text)]
        groups = views.group_by_region(summaries)
        totals = sum((group.totals for group in groups), start=Counter[str]())
        return Template(
            template_name="home.html",
            context={
                "groups": groups,
                "columns": views.state_columns(group.totals for group in groups),
                "totals": totals,
                "site_count": len(summaries),
                "regions": await sites.list_regions(db),
                "region": region,
                "text": text,
            },
        )

    @get("/sites/{code:str}", name="site")
    async def site(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        code: FromPath[str],
        state_filter: Annotated[
            str | None, QueryParameter(name="state", description="Lifecycle state.")
        ] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        state_filter = _blank_to_none(state_filter)
        cursor = _blank_to_none(cursor)
        try:
            site = await sites.get_site(db, code, principal)
        except NotFoundError:
            log.info("site page: site not found", extra={"site": code.strip()})
            return Template(
                template_name="site_not_found.html",
                context={"code": code.strip()},
                status_code=404,
            )
        counts = await queries.count_devices_by_state(db, site.code)
        page = await devices.list_devices(
            db,
            devices.DeviceFilters(site=site.code, state=state_filter),
            cursor=cursor,
            limit=SITE_DEVICES_PAGE_SIZE,
            principal=principal,
        )
        next_url = None
        if page.next_cursor:
            next_url = site_url(site.code, state=state_filter, cursor=page.next_cursor)
        return Template(
            template_name="site.html",
            context={
                "site": site,
                "counts": counts,
                "device_count": sum(counts.values()),
                "columns": views.all_state_columns(),
                "devices": page.items,
                "state_filter": state_filter,
                "first_url": site_url(site.code, state=state_filter) if cursor else None,
                "next_url": next_url,
            },
        )

    @get("/a", name="find_device")
    async def find_device(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        tag: Annotated[
            str | None, QueryParameter(description="Asset tag, or a device's serial number.")
        ] = None,
    ) -> Response[Any]:
        """Redirect the search box to a device page, or show the search form when no tag is given.

        Text that is no asset tag but names exactly one device by serial number (or by asset
        tag in another letter case) opens that device. Anything else opens the device page of
        the text, whose not-found page lists the candidates.
        """
        tag = _blank_to_none(tag)
        if tag is None:
            return Template(template_name="find.html", context={})
        try:
            device = await devices.get_device(db, tag, principal)
        except NotFoundError:
            matches = await queries.find_similar_devices(db, tag, principal, limit=2)
            if len(matches) == 1:
                return Redirect(path=device_url(matches[0].asset_tag), status_code=303)
            return Redirect(path=device_url(tag), status_code=303)
        return Redirect(path=device_url(device.asset_tag), status_code=303)

    @get("/a/{asset_tag:str}", name="device")
    async def device(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        asset_tag: FromPath[str],
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """Show the page a QR asset label opens: the device card and its history."""
        cursor = _blank_to_none(cursor)
        try:
            device = await devices.get_device(db, asset_tag, principal)
        except NotFoundError:
            tag = asset_tag.strip()
            log.info("device page: asset tag not found", extra={"asset_tag": tag})
            return Template(
                template_name="device_not_found.html",
                context={
                    "tag": tag,
                    "matches": await queries.find_similar_devices(db, tag, principal),
                },
                status_code=404,
            )
        history = await devices.device_history(
            db, device.asset_tag, cursor=cursor, limit=HISTORY_PAGE_SIZE, principal=principal
        )
        today = district_today(request.app.state.settings.zone)
        next_url = None
        if history.next_cursor:
            query = urlencode({"cursor": history.next_cursor})
            next_url = f"{device_url(device.asset_tag)}?{query}#history"
        return Template(
            template_name="device.html",
            context={
                "device": device,
                "events": history.items,
                "warranty": views.warranty_status(device, today),
                "support_ended": device.end_of_support is not None
                and device.end_of_support < today,
                "first_url": f"{device_url(device.asset_tag)}#history" if cursor else None,
                "next_url": next_url,
            },
        )
