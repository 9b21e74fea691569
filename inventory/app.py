"""Build the Litestar application from settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Receive, Scope, Send

from inventory.accounts.auth import (
    UNAUTHENTICATED_PATHS,
    authenticate,
    check_every_route_declares_access,
    enforce_access,
)
from inventory.accounts.principal import Principal
from inventory.config import Settings, get_settings
from inventory.db import Database, DatabaseUnavailableError
from inventory.deps import DatabaseDep
from inventory.devices.controller import (
    DeviceController,
    DeviceModelController,
    LabelController,
    TagReservationController,
)
from inventory.errors import EXCEPTION_HANDLERS, NotFoundError, error_body
from inventory.escalations.controller import (
    CoverageController,
    EscalationController,
    ExportBatchController,
)
from inventory.imports.controller import DeviceExportController, ImportController
from inventory.imports.pages import ImportPageController
from inventory.logs import configure_logging
from inventory.middleware import request_context_middleware
from inventory.openapi_errors import document_error_responses
from inventory.plans.controller import (
    FiscalYearController,
    ScheduleEditController,
    TimesheetController,
    VisitController,
)
from inventory.plans.pages import PlanPageController
from inventory.reports.pages import ReportPageController
from inventory.salvage.controller import SALVAGE_CONTROLLERS
from inventory.sites.controller import SiteController
from inventory.technicians.controller import TechnicianController
from inventory.tickets.controller import TicketController
from inventory.vendors.controller import VendorController
from inventory.web import WEB_CONTROLLERS, static_files_router, template_config
from inventory.web.vendor_pages import VendorPageController

log = logging.getLogger("inventory")


def provide_db(state: State) -> Database:
    return state.db


def provide_principal(request: Request, db: DatabaseDep) -> Principal | None:
    # `db` is not used: depending on it makes Litestar resolve the two providers one after
    # the other, instead of starting a task group for them on every request.
    del db
    return request.scope.get("user")


@get("/health", tags=["health"], summary="Service and database health", opt={"access": "public"})
async def health(state: State) -> Response[dict]:
    db: Database = state.db
    try:
        await db.ping()
    except DatabaseUnavailableError as exc:
        log.warning("health check failed", extra={"error": str(exc)})
        return Response(
            error_body(503, "The database cannot be reached."),
            status_code=503,
            media_type=MediaType.JSON,
        )
    return Response({"status": "ok", "database": "ok"})


# The largest id any table can hold: ids of the smaller tables are 32-bit integers on
# PostgreSQL, and no table comes near this many rows.
MAX_ID = 2**31 - 1


def refuse_impossible_ids(path_params: dict[str, Any]) -> None:
    """Raise NotFoundError for an integer path parameter no row can have, before any query.

    Without this, a number beyond the database's integers fails inside the driver with an
    OverflowError (SQLite and asyncpg both raise it) and the client gets a 500.
    """
    for name, value in path_params.items():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            noun = name.removesuffix("_id").replace("_", " ").capitalize()
            raise NotFoundError(f"{noun} {value} not found.", **{name: str(value)})


def request_checks_middleware(app: ASGIApp) -> ASGIApp:
    """Sign the request in, then check its route's access rule and integer path parameters.

    These run here, after routing, rather than as a route guard: Litestar copies the route
    handler for each guard on every request, which took a tenth of a scan lookup's time.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            user = None
            if scope.get("method") != "OPTIONS" and not UNAUTHENTICATED_PATHS.match(scope["path"]):
                user = await authenticate(scope, scope["litestar_app"].state.db)
            scope["user"] = user
            enforce_access(scope, scope["route_handler"])
            refuse_impossible_ids(scope["path_params"])
        await app(scope, receive, send)

    return middleware


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, check_schema: bool = True
) -> Litestar:
    """Build the app. Start-up fails when the database is not at the newest migration."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = db or Database(settings)
        if check_schema:
            try:
                await database.check_migrated()
            except BaseException:
                if db is None:
                    await database.dispose()
                raise
        app.state.db = database
        log.info("service started", extra={"environment": settings.environment})
        try:
            yield
        finally:
            if db is None:
                await database.dispose()
            log.info("service stopped")

    app = Litestar(
        route_handlers=[
            health,
            SiteController,
            TechnicianController,
            VendorController,
            DeviceModelController,
            DeviceController,
            LabelController,
            TagReservationController,
            CoverageController,
            EscalationController,
            ExportBatchController,
            ImportController,
            DeviceExportController,
            ImportPageController,
            VendorPageController,
            *SALVAGE_CONTROLLERS,
            ReportPageController,
            PlanPageController,
            FiscalYearController,
            ScheduleEditController,
            VisitController,
            TimesheetController,
            TicketController,
            *WEB_CONTROLLERS,
            static_files_router(),
        ],
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        lifespan=[lifespan],
        middleware=[
            request_context_middleware,
            request_checks_middleware,
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="inventory_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            # The API takes bearer tokens only, never the session cookie, so a page on
            # another site cannot make a browser call it.
            exclude=["^/api/"],
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        template_config=template_config(),
        openapi_config=OpenAPIConfig(
            title="Device lifecycle and inventory service",
            version="1.0.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
            openapi_router=Router(
                path="/schema",
                route_handlers=[],
                opt={"access": "public"},
                include_in_schema=False,
            ),
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", description="An API token."
                    )
                }
            ),
            security=[{"bearer": []}],
        ),
        request_max_body_size=settings.max_body_kb * 1024,
        state=State({"settings": settings}),
        logging_config=None,
        debug=False,
    )
    check_every_route_declares_access(app.routes)
    document_error_responses(app)
    return app


def create_app_from_environment() -> Litestar:
    """App factory for the ASGI server: settings and logging from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
