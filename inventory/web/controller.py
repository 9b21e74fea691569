"""Page routes; they call the same services as the JSON API."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.config.compression import CompressionConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from pydantic import ValidationError

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.deps import DatabaseDep, PrincipalDep
from inventory.devices import labels as label_printing
from inventory.devices import service as devices
from inventory.devices.idempotency import check_key, request_fingerprint
from inventory.devices.reservations import find_reservation
from inventory.devices.schemas import ActionRequest, DeviceReceive
from inventory.errors import (
    ForbiddenError,
    NotFoundError,
    ServiceError,
    lifecycle_error_to_service_error,
)
from inventory.escalations import warranty
from inventory.escalations.coverage import CoverageKind
from inventory.escalations.schemas import CoverageCreate
from inventory.lifecycle import LifecycleError
from inventory.sites import service as sites
from inventory.timeutil import district_today
from inventory.web import queries, views
from inventory.web.action_forms import (
    ACTION_FIELDS,
    action_label,
    actions_for,
    form_fields,
    form_to_data,
)
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
    # The access rule of every page: the pages show the same data as the API's
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

    @get("/sites/{code:str}/labels.pdf", name="site_labels", opt={"access": "staff"})
    async def site_labels(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        code: FromPath[str],
        state_filter: Annotated[
            str | None, QueryParameter(name="state", description="Lifecycle state.")
        ] = None,
        template: FromQuery[str] = "avery-5160",
        skip: Annotated[int, QueryParameter(ge=0, le=1000)] = 0,
    ) -> Response[bytes]:
        """Print the QR labels of a site's devices, for a technician at the site."""
        run = await label_printing.print_labels(
            db,
            principal,
            site=code,
            state=_blank_to_none(state_filter),
            template=template,
            skip=skip,
        )
        filename = f"labels-{code.strip()}.pdf".encode("ascii", "replace").decode()
        return Response(
            run.pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
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

        Text that is no asset tag but is exactly one device's serial number opens that
        device. Anything else opens the device page of the text, whose not-found page lists
        the candidates.
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
        done: FromQuery[str | None] = None,
    ) -> Template:
        """Show the page a QR asset label opens: the device card, its actions and history."""
        notice = None
        if done and (done in ACTION_FIELDS or done == "receive"):
            notice = f"{action_label(done)} recorded."
        elif done == "coverage":
            notice = "Warranty coverage added."
        return await _device_page(
            request, db, principal, asset_tag, cursor=_blank_to_none(cursor), notice=notice
        )

    @post("/a/{asset_tag:str}/actions", name="device_action")
    async def device_action(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> Response[Any]:
        """Apply the action of a scan-page form through the same operation as the API."""
        form = dict((await request.form()).items())
        action = str(form.get("action") or "")
        technician = None
        if principal is not None and principal.is_admin:
            technician = str(form.get("technician") or "").strip() or None
        try:
            action_request = ActionRequest(
                action=action,
                technician=technician,
                expected_state=str(form.get("expected_state") or "") or None,
                data=form_to_data(action, form),
                notes=str(form.get("notes") or "").strip() or None,
            )
            key = check_key(str(form.get("idempotency_key") or "") or None)
            fingerprint = request_fingerprint(
                "POST", request.url.path, action_request.model_dump(mode="json"), principal
            )
            await devices.apply_action(
                db,
                asset_tag,
                action_request,
                actor=principal,
                idempotency_key=key,
                fingerprint=fingerprint,
            )
        except (ServiceError, LifecycleError, ValidationError) as exc:
            error = _error_text(exc)
            status = _error_status(exc)
            if status == 404:
                raise
            return await _device_page(
                request,
                db,
                principal,
                asset_tag,
                error=error,
                status_code=status,
                open_action=action,
                form=form,
            )
        target = device_url(asset_tag.strip())
        return Redirect(path=f"{target}?{urlencode({'done': action})}", status_code=303)

    @post("/a/{asset_tag:str}/warranty", name="device_coverage", opt={"access": "staff"})
    async def device_coverage(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> Response[Any]:
        """Add a warranty coverage from the device page's form."""
        form = {key: str(value).strip() for key, value in (await request.form()).items()}
        try:
            fields = ("kind", "start", "end", "months", "vendor", "reference")
            given = {name: form[name] for name in fields if form.get(name)}
            data = CoverageCreate.model_validate(given)
            await warranty.add_device_coverage(db, asset_tag, data, principal)
        except (ServiceError, ValidationError) as exc:
            status = _error_status(exc)
            if status == 404:
                raise
            return await _device_page(
                request,
                db,
                principal,
                asset_tag,
                error=_error_text(exc),
                status_code=status,
                open_action="coverage",
                form=form,
            )
        target = f"{device_url(asset_tag.strip())}?{urlencode({'done': 'coverage'})}#warranty"
        return Redirect(path=target, status_code=303)

    @post("/a/{asset_tag:str}/receive", name="device_receive")
    async def device_receive(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, asset_tag: FromPath[str]
    ) -> Response[Any]:
        """Receive a device under a scanned tag that is not yet in use."""
        tag = asset_tag.strip()
        if principal is None or not principal.is_staff:
            raise ForbiddenError("Only technicians and the IT office may receive devices.")
        form = {key: str(value).strip() for key, value in (await request.form()).items()}
        technician = form.get("technician") or None if principal.is_admin else None
        try:
            receive = DeviceReceive(
                asset_tag=tag,
                serial_number=form.get("serial_number", ""),
                manufacturer=form.get("manufacturer") or None,
                model=form.get("model") or None,
                site=form.get("site", ""),
                technician=technician,
                purchase_date=form.get("purchase_date") or None,
                warranty_start=form.get("warranty_start") or None,
                warranty_end=form.get("warranty_end") or None,
                notes=form.get("notes") or None,
            )
            key = check_key(form.get("idempotency_key") or None)
            fingerprint = request_fingerprint(
                "POST", request.url.path, receive.model_dump(mode="json"), principal
            )
            await devices.receive_device(
                db, receive, actor=principal, idempotency_key=key, fingerprint=fingerprint
            )
        except (ServiceError, LifecycleError, ValidationError) as exc:
            return await _not_found_page(
                db,
                principal,
                tag,
                error=_error_text(exc),
                status_code=_error_status(exc),
                form=form,
            )
        return Redirect(path=f"{device_url(tag)}?{urlencode({'done': 'receive'})}", status_code=303)


def _error_status(exc: Exception) -> int:
    if isinstance(exc, ServiceError):
        return exc.status_code
    if isinstance(exc, LifecycleError):
        return lifecycle_error_to_service_error(exc).status_code
    return 422


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return exc.detail
    if isinstance(exc, ValidationError):
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
        return "Invalid form: " + "; ".join(problems) + "."
    return str(exc)


async def _not_found_page(
    db: Database,
    principal: Principal | None,
    tag: str,
    *,
    error: str | None = None,
    status_code: int = 404,
    form: dict[str, Any] | None = None,
) -> Template:
    log.info("device page: asset tag not found", extra={"asset_tag": tag})
    can_receive = principal is not None and principal.is_staff
    reservation = await find_reservation(db, tag) if can_receive else None
    form = dict(form or {})
    if reservation is not None and reservation.site and "site" not in form:
        form["site"] = reservation.site
    return Template(
        template_name="device_not_found.html",
        context={
            "reservation": reservation,
            "tag": tag,
            "matches": await queries.find_similar_devices(db, tag, principal),
            "can_receive": can_receive,
            "is_admin": principal is not None and principal.is_admin,
            "error": error,
            "form": form,
            "idempotency_key": uuid.uuid4().hex,
        },
        status_code=status_code,
    )


async def _device_page(
    request: Request,
    db: Database,
    principal: Principal | None,
    asset_tag: str,
    *,
    cursor: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    open_action: str | None = None,
    form: dict[str, Any] | None = None,
) -> Template:
    try:
        device = await devices.get_device(db, asset_tag, principal)
    except NotFoundError:
        return await _not_found_page(db, principal, asset_tag.strip())
    history = await devices.device_history(
        db, device.asset_tag, cursor=cursor, limit=HISTORY_PAGE_SIZE, principal=principal
    )
    today = district_today(request.app.state.settings.zone)
    next_url = None
    if history.next_cursor:
        query = urlencode({"cursor": history.next_cursor})
        next_url = f"{device_url(device.asset_tag)}?{query}#history"
    actions = actions_for(principal, device.allowed_actions)
    return Template(
        template_name="device.html",
        context={
            "device": device,
            "events": history.items,
            "warranty": views.warranty_status(device, today),
            "support_ended": device.end_of_support is not None and device.end_of_support < today,
            "first_url": f"{device_url(device.asset_tag)}#history" if cursor else None,
            "next_url": next_url,
            "actions": [(action, action_label(action), form_fields(action)) for action in actions],
            "coverages": await warranty.device_coverages(db, device.asset_tag, principal),
            "coverage_kinds": [kind.value for kind in CoverageKind],
            "may_add_coverage": principal is not None and principal.is_staff,
            "is_admin": principal is not None and principal.is_admin,
            # A fresh key per page view: a double-tapped or resent form is applied once.
            "idempotency_key": uuid.uuid4().hex,
            "notice": notice,
            "error": error,
            "open_action": open_action,
            "form": form or {},
        },
        status_code=status_code,
    )
