"""Scan sessions: one action applied to tag after tag from a handheld scanner or a camera.

The page at /scan runs in the browser (static/scan.js). It keeps every scan on the phone
until this module's JSON endpoint has returned a result for it, so scans taken offline are
sent later with the idempotency key the phone made when the scan happened. The endpoint
calls the same `apply_action` as the device page and the API. It sends no `expected_state`,
because a session does not know each device's state, so the lifecycle check decides.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.response import Template
from pydantic import BaseModel, BeforeValidator, Field

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.deps import DatabaseDep, PrincipalDep
from inventory.devices import service as devices
from inventory.devices.idempotency import check_key, request_fingerprint
from inventory.devices.schemas import ActionRequest, ActionResult
from inventory.errors import ForbiddenError, InvalidInputError, NotFoundError
from inventory.lifecycle import STATE_LABELS
from inventory.schemas import Identifier, Schema
from inventory.sites import service as sites
from inventory.technicians import service as technicians
from inventory.web.action_forms import action_label, form_to_data
from inventory.web.errors import HTML_EXCEPTION_HANDLERS

log = logging.getLogger(__name__)

# The actions a scan session applies: each needs at most one value, the same for every tag.
SCAN_ACTIONS = ("collect", "transfer", "audit_seen")
ScanAction = Literal["collect", "transfer", "audit_seen"]

# How long a scan may wait on a phone before it is sent. A scan older than this is rejected
# rather than recorded with a time that is most likely wrong (a phone clock reset, say).
MAX_SCAN_AGE = timedelta(days=90)

STATIC_DIR = Path(__file__).parent / "static"
SERVICE_WORKER_FILE = "scan-sw.js"
# The files the service worker keeps for an offline reload, besides the page itself.
OFFLINE_ASSETS = ("pages.css", "scan.js")

_URL_START = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LABEL_PATH = re.compile(r"/a/([^/]+)/?$")


def tag_from_scan(value: object) -> object:
    """Reduce a scanned label URL (``{base_url}/a/{percent-encoded tag}``) to its asset tag.

    Text that is not a URL is returned unchanged, to be checked as an identifier. The host is
    not compared with the service's base URL, because labels printed under an older address
    still name the right device.
    """
    if not isinstance(value, str) or not _URL_START.match(value.strip()):
        return value
    path = urlsplit(value.strip()).path
    match = _LABEL_PATH.search(path)
    if match is None:
        raise ValueError(
            f"{value.strip()[:100]!r} is a URL but not an asset label; a label's URL ends "
            "in /a/ and the asset tag"
        )
    return unquote(match.group(1), errors="strict")


# An asset tag, or the URL of its label.
ScannedTag = Annotated[Identifier, BeforeValidator(tag_from_scan)]


class ScanApply(Schema):
    """One scan sent by the scan page."""

    asset_tag: ScannedTag = Field(description="The asset tag, or the URL of its QR label.")
    action: ScanAction
    data: dict[str, str] = Field(
        default_factory=dict, description="The session's value: site for transfer, room for audit."
    )
    idempotency_key: str | None = Field(
        default=None, description="Made on the phone when the scan happened; a retry reuses it."
    )
    technician: Identifier | None = Field(
        default=None, description="Employee number; only an admin names a technician."
    )
    scanned_by: str | None = Field(
        default=None,
        description="Username of whoever scanned it. A scan kept on a shared phone is rejected "
        "when someone else is signed in by the time it is sent.",
    )
    seconds_since_scan: float | None = Field(
        default=None,
        ge=0,
        le=MAX_SCAN_AGE.total_seconds(),
        description="Seconds between the scan and this request, measured by the phone; the "
        "event's time is now minus this, so a wrong phone clock does not matter.",
    )


class ScanResult(BaseModel):
    """The device after a scan was applied."""

    asset_tag: str
    action: str
    state: str
    state_label: str
    site: str
    site_name: str
    event_id: int
    occurred_at: datetime


@cache
def asset_version() -> str:
    """Return a short hash of the files the service worker caches, to name that cache."""
    digest = hashlib.sha256()
    for name in (*OFFLINE_ASSETS, SERVICE_WORKER_FILE):
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


@cache
def _service_worker_source() -> bytes:
    return (STATIC_DIR / SERVICE_WORKER_FILE).read_bytes()


def _occurred_at(seconds_since_scan: float | None) -> datetime | None:
    # Under a second old: the scan was sent at once, and the service's own clock is used.
    if seconds_since_scan is None or seconds_since_scan < 1:
        return None
    return datetime.now(UTC) - timedelta(seconds=seconds_since_scan)


def _check_scanned_by(principal: Principal, scanned_by: str | None) -> None:
    if scanned_by is not None and scanned_by != principal.username:
        raise ForbiddenError(
            f"This scan was made by {scanned_by!r}, but {principal.username!r} is signed in; "
            f"sign in as {scanned_by!r} to send it.",
            scanned_by=scanned_by,
            signed_in=principal.username,
        )


async def _apply_in_order(
    db: Database,
    asset_tag: str,
    action_request: ActionRequest,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    zone: ZoneInfo,
) -> ActionResult:
    """Apply a scan at the time it was taken, or now when the device has a later step.

    The service records a device's steps in time order. When someone recorded a step on the
    device while this scan waited on the phone, the scan is dated now instead, and its notes
    keep the time it was taken.
    """
    try:
        return await devices.apply_action(
            db,
            asset_tag,
            action_request,
            actor=principal,
            idempotency_key=key,
            fingerprint=fingerprint,
        )
    except InvalidInputError as exc:
        if "last_occurred_at" not in exc.extra or action_request.occurred_at is None:
            raise
        scanned = action_request.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        log.info(
            "scan dated when sent: the device has a later step",
            extra={"asset_tag": asset_tag, "scanned_at": scanned, "error": exc.detail},
        )
    dated_now = action_request.model_copy(
        update={
            "occurred_at": None,
            "notes": f"Scanned at {scanned}; dated when it reached the service, because the "
            "device has a later step.",
        }
    )
    return await devices.apply_action(
        db,
        asset_tag,
        dated_now,
        actor=principal,
        idempotency_key=key,
        fingerprint=fingerprint,
    )


class ScanController(Controller):
    path = "/scan"
    include_in_schema = False

    @get(
        "/",
        name="scan",
        opt={"access": "staff"},
        exception_handlers=HTML_EXCEPTION_HANDLERS,
    )
    async def scan_page(self, principal: PrincipalDep) -> Template:
        """Show the scan session page; the session itself runs in the browser."""
        assert principal is not None
        return Template(
            template_name="scan.html",
            context={
                "actions": [(action, action_label(action)) for action in SCAN_ACTIONS],
                "is_admin": principal.is_admin,
                "principal": principal,
                "service_worker_url": f"/scan/sw.js?v={asset_version()}",
                "state_labels": {state.value: label for state, label in STATE_LABELS.items()},
                "action_labels": {action: action_label(action) for action in SCAN_ACTIONS},
            },
            headers={"Cache-Control": "no-store"},
        )

    @get("/sw.js", name="scan_service_worker", opt={"access": "public"})
    async def service_worker(self) -> Response[bytes]:
        """Serve the service worker that lets the scan page reload offline.

        Public, because the browser re-fetches it to look for updates even after the session
        has ended, and it contains nothing but the paths it caches. Its URL is under /scan/,
        so the header allows the wider scope /scan, which covers the page itself.
        """
        return Response(
            _service_worker_source(),
            media_type="text/javascript; charset=utf-8",
            headers={"Service-Worker-Allowed": "/scan", "Cache-Control": "no-cache"},
        )

    @get("/check", name="scan_check", opt={"access": "staff"})
    async def check_session(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        action: Annotated[ScanAction, QueryParameter(description="The session's action.")],
        site: Annotated[
            str | None, QueryParameter(description="Destination, or the site being scanned.")
        ] = None,
        technician: Annotated[
            str | None, QueryParameter(description="An admin's named technician.")
        ] = None,
    ) -> dict[str, Any]:
        """Check a session's settings before its first scan, and name its site and technician."""
        assert principal is not None
        site = (site or "").strip() or None
        technician = (technician or "").strip() or None
        if action == "transfer" and site is None:
            raise InvalidInputError(
                "A transfer session needs a destination site code.", field="site"
            )
        if principal.is_admin and technician is None:
            raise InvalidInputError(
                "An admin names the technician who handles the scanned devices.",
                field="technician",
            )
        result: dict[str, Any] = {"action": action, "site": None, "technician": None}
        if site is not None:
            try:
                found = await sites.get_site(db, site, principal)
            except NotFoundError as exc:
                raise InvalidInputError(exc.detail, field="site", site=site) from exc
            result["site"] = {"code": found.code, "name": found.name}
        number = technician if principal.is_admin else principal.technician_number
        if number is not None:
            async with db.read() as session:
                found_technician = await technicians.find_active_technician(session, number)
            result["technician"] = {
                "employee_number": found_technician.employee_number,
                "name": found_technician.name,
            }
        return result

    @post("/apply", name="scan_apply", opt={"access": "staff"}, status_code=200)
    async def apply_scan(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        data: JSONBody[ScanApply],
    ) -> ScanResult:
        """Apply one scan's action through the same service operation as the API."""
        assert principal is not None
        _check_scanned_by(principal, data.scanned_by)

        action_data = form_to_data(data.action, data.data)
        technician = data.technician if principal.is_admin else None
        action_request = ActionRequest(
            action=data.action,
            technician=technician,
            data=action_data,
            occurred_at=_occurred_at(data.seconds_since_scan),
        )

        key = check_key(data.idempotency_key)
        # The time is left out: a retry of a lost request is sent later and so carries a
        # different age, but it is the same scan.
        fingerprint = request_fingerprint(
            "POST",
            request.url.path,
            {
                "asset_tag": data.asset_tag,
                "action": data.action,
                "data": action_data,
                "technician": technician,
            },
            principal,
        )
        result = await _apply_in_order(
            db,
            data.asset_tag,
            action_request,
            principal,
            key,
            fingerprint,
            request.app.state.settings.zone,
        )

        log.info(
            "scan applied",
            extra={
                "asset_tag": result.device.asset_tag,
                "scan_action": data.action,
                "event_id": result.event.id,
            },
        )
        return ScanResult(
            asset_tag=result.device.asset_tag,
            action=data.action,
            state=result.device.state,
            state_label=result.device.state_label,
            site=result.device.site,
            site_name=result.device.site_name,
            event_id=result.event.id,
            occurred_at=result.event.occurred_at,
        )
