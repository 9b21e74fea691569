"""Authentication by API bearer token or web session cookie, and the access rule of each route.

The API (`/api/...`) accepts only bearer tokens and the pages only the session cookie, so
a browser's cookie can never call the API on a user's behalf from another site, and the
pages' forms are covered by CSRF tokens.
"""

from __future__ import annotations

import re

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope

from inventory.accounts.principal import Principal
from inventory.accounts.service import principal_for_session, principal_for_token
from inventory.db import Database

SESSION_COOKIE = "inventory_session"

# The access rule every route declares in its opt["access"]:
#   public: anyone, signed in or not
#   user:   any signed-in user; services narrow what a site or vendor user reaches
#   staff:  admins and technicians
#   admin:  the IT office only
ACCESS_RULES = ("public", "user", "staff", "admin")

# Paths served without looking up the signed-in user.
UNAUTHENTICATED_PATHS = re.compile("^/static/|^/schema|^/health$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def authenticate(scope: Scope, db: Database) -> Principal | None:
    """Return the user a request signs in as: by bearer token on the API, else by cookie."""
    if scope["path"].startswith("/api/"):
        header = _header(scope, b"authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException(
                "Send the API token as 'Authorization: Bearer TOKEN'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = await principal_for_token(db, token.strip())
        if principal is None:
            raise NotAuthorizedException(
                "The API token is invalid, expired or revoked; create a new one with "
                "`inventory tokens create USERNAME`.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return principal
    cookie = ASGIConnection(scope).cookies.get(SESSION_COOKIE)
    if cookie:
        return await principal_for_session(db, cookie)
    return None


def access_rule(handler: BaseRouteHandler) -> str:
    # Litestar handles OPTIONS on every path itself and returns only the allowed methods.
    if handler.handler_name == "options_handler":
        return "public"
    rule = handler.opt.get("access")
    if rule not in ACCESS_RULES:
        raise RuntimeError(
            f"Route handler {handler.handler_name!r} declares no access rule; set "
            f"opt={{'access': ...}} to one of {', '.join(ACCESS_RULES)}."
        )
    return str(rule)


# Each route handler's rule, looked up once: finding a handler's name takes longer than
# checking the rule.
_rules: dict[BaseRouteHandler, str] = {}


def enforce_access(scope: Scope, handler: BaseRouteHandler) -> None:
    """Raise NotAuthorizedException or PermissionDeniedException when the route's access
    rule does not let the request's user through."""
    rule = _rules.get(handler)
    if rule is None:
        rule = _rules[handler] = access_rule(handler)
    if rule == "public":
        return
    principal: Principal | None = scope.get("user")
    if principal is None:
        if scope["path"].startswith("/api/"):
            raise NotAuthorizedException(
                "Authentication required: send 'Authorization: Bearer TOKEN'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise NotAuthorizedException("Sign in to see this page.")
    if rule == "staff" and not principal.is_staff:
        raise PermissionDeniedException("Only technicians and the IT office may do this.")
    if rule == "admin" and not principal.is_admin:
        raise PermissionDeniedException("Only the IT office (admin) may do this.")


def check_every_route_declares_access(app_routes: list) -> None:
    """Raise at start-up when any route lacks an access rule, so none is open by mistake."""
    for route in app_routes:
        for handler in getattr(route, "route_handlers", []):
            access_rule(handler)
