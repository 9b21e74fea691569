"""Document in the OpenAPI document the error responses that every API route can return.

Authentication, access rules, request validation, the body size limit and an unreachable
database apply to every API route, so the routes do not each list these responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec


@dataclass
class ErrorBody:
    """The one error shape of the service."""

    status_code: int
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


def error_spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)


_EVERY_ROUTE = {
    400: error_spec("The request is malformed: a parameter or the body cannot be read."),
    404: error_spec("The object is not found, or belongs to a site or vendor the user cannot see."),
    413: error_spec("The request body is larger than the route's limit."),
    422: error_spec("A value in the request is invalid; `extra` names the fields."),
    503: error_spec("The database is busy or cannot be reached; nothing was applied."),
}
_SIGNED_IN = {
    401: error_spec("The request has no valid API token."),
    403: error_spec("The user's role may not use this route."),
}
_WRITES = {409: error_spec("The request conflicts with the object's state or another change.")}


def document_error_responses(app: Litestar) -> None:
    """Add the shared error responses to every API route that does not declare them itself.

    Call it before the OpenAPI document is first built, which happens on its first request.
    """
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            common = dict(_EVERY_ROUTE)
            if handler.opt.get("access") != "public":
                common.update(_SIGNED_IN)
            if handler.http_methods - {"GET", "HEAD"}:
                common.update(_WRITES)
            handler.responses = {**common, **(handler.responses or {})}
