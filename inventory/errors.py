"""Service errors and the one place that turns every failure into the same JSON shape.

Every error response is ``{"status_code": int, "detail": str, "extra": {...}}``, the shape of
Litestar's own errors, so request-validation failures and service failures read alike.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from inventory.db import DatabaseUnavailableError
from inventory.lifecycle import (
    ActionDataError,
    ActionNotAllowedError,
    LifecycleError,
    UnknownActionError,
)
from inventory.logs import request_id_var

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A failure the caller can act on, with the HTTP status it maps to."""

    status_code = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFoundError(ServiceError):
    status_code = 404


class ConflictError(ServiceError):
    status_code = 409


class InvalidInputError(ServiceError):
    status_code = 422


class ForbiddenError(ServiceError):
    status_code = 403


class StorageFullError(ServiceError):
    """The database has no room left for a write."""

    status_code = 507


def error_body(status_code: int, detail: str, extra: dict[str, Any] | None = None) -> dict:
    return {"status_code": status_code, "detail": detail, "extra": extra or {}}


def _response(status_code: int, detail: str, extra: dict[str, Any] | None = None) -> Response:
    # The request middleware adds X-Request-ID to every response, errors included.
    return Response(
        content=error_body(status_code, detail, extra),
        status_code=status_code,
        media_type=MediaType.JSON,
    )


def lifecycle_error_to_service_error(exc: LifecycleError) -> ServiceError:
    if isinstance(exc, ActionNotAllowedError):
        return ConflictError(
            str(exc),
            current_state=exc.state.value if exc.state else None,
            allowed_actions=exc.allowed,
        )
    if isinstance(exc, ActionDataError):
        return InvalidInputError(str(exc), fields=exc.problems)
    if isinstance(exc, UnknownActionError):
        return InvalidInputError(str(exc), action=exc.action)
    return InvalidInputError(str(exc))


def handle_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    log.info(
        "request rejected",
        extra={"status": exc.status_code, "detail": exc.detail, "path": request.url.path},
    )
    return _response(exc.status_code, exc.detail, exc.extra)


def handle_lifecycle_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LifecycleError)
    return handle_service_error(request, lifecycle_error_to_service_error(exc))


def handle_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    extra = exc.extra if isinstance(exc.extra, dict) else {"errors": exc.extra or []}
    response = _response(exc.status_code, exc.detail, extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def handle_body_too_large(request: Request, exc: Exception) -> Response:
    limit = request.route_handler.resolve_request_max_body_size()
    limit_text = f"{limit // 1024} KiB" if limit else "the configured limit"
    log.info("request body too large", extra={"path": request.url.path, "limit_bytes": limit})
    return _response(
        413,
        f"The request body is larger than the limit of {limit_text} for this route; send a "
        "smaller body or split it into several requests.",
        {"max_body_bytes": limit},
    )


def handle_database_unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable", extra={"error": str(exc)[:300], "path": request.url.path})
    return _response(
        503,
        "The database is busy or cannot be reached; the request was not applied. Try again "
        "shortly.",
    )


def handle_integrity_error(request: Request, exc: Exception) -> Response:
    # A concurrent request took the same unique value between our check and our insert.
    log.info("integrity conflict", extra={"path": request.url.path, "error": str(exc)[:200]})
    return _response(
        409,
        "The request conflicts with a change made at the same moment; reload and try again.",
    )


def handle_data_error(request: Request, exc: Exception) -> Response:
    # PostgreSQL refuses some values SQLite stores, such as a NUL character in text.
    log.info("value rejected by the database", extra={"path": request.url.path})
    return _response(
        422,
        "A value in the request cannot be stored, for example text with a NUL character; "
        "remove control characters and try again.",
    )


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    request_id = request_id_var.get() or "unknown"
    return _response(
        HTTP_500_INTERNAL_SERVER_ERROR,
        f"Internal server error. Quote request id {request_id} when reporting it.",
    )


EXCEPTION_HANDLERS = {
    ServiceError: handle_service_error,
    LifecycleError: handle_lifecycle_error,
    RequestEntityTooLarge: handle_body_too_large,
    HTTPException: handle_http_exception,
    DatabaseUnavailableError: handle_database_unavailable,
    # Connection refused, reset or timed out, and SQLite's "database is locked" after the
    # busy timeout: nothing was applied, and the same request may succeed later.
    IntegrityError: handle_integrity_error,
    DataError: handle_data_error,
    OperationalError: handle_database_unavailable,
    InterfaceError: handle_database_unavailable,
    ConnectionError: handle_database_unavailable,
    Exception: handle_unexpected,
}
