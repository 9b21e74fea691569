"""ASGI middleware: a request id for every request, and one log line when it ends."""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from time import perf_counter

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from inventory.logs import request_id_var

log = logging.getLogger("inventory.request")

# A request id from a proxy is kept only when it is short and plain, since it is logged.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
# Pages load scripts, styles and images from this service only. The API documents under
# /schema load Swagger UI from its CDN, so they go without this header.
CONTENT_SECURITY_POLICY = (
    b"content-security-policy",
    b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    b"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SAFE_REQUEST_ID.match(text) else None
    return None


# Request ids made here: a random prefix per process and a counter. Unique is all they need
# to be, and reading the system's random source for each request took longer than routing it.
_REQUEST_ID_PREFIX = uuid.uuid4().hex[:16]
_request_ids = (f"{_REQUEST_ID_PREFIX}{number:016x}" for number in itertools.count(1))

# Percent-encoded control characters (%00 to %1F and %7F) in a path or query string.
_ENCODED_CONTROL = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF])")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control_characters(scope: Scope) -> bool:
    if _CONTROL.search(scope.get("path", "")):
        return True
    return bool(_ENCODED_CONTROL.search(scope.get("query_string", b"")))


async def _reject_control_characters(send: Send, request_id: str) -> None:
    body = json.dumps(
        {
            "status_code": 400,
            "detail": "The address contains control characters, which no asset tag, code or "
            "filter may contain; check what was scanned or typed.",
            "extra": {},
        }
    ).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 400,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
            *SECURITY_HEADERS,
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or next(_request_ids)
        if _has_control_characters(scope):
            await _reject_control_characters(send, request_id)
            log.info(
                "request",
                extra={"method": scope.get("method"), "path": "(rejected)", "status": 400},
            )
            return
        token = request_id_var.set(request_id)
        started = perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                if not scope.get("path", "").startswith("/schema"):
                    headers.append(CONTENT_SECURITY_POLICY)
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        except Exception as exc:
            # An error raised before a response started (a refused token, say) is turned
            # into a response by the app's outer handler, after this layer.
            if not responded:
                status = getattr(exc, "status_code", 500)
            raise
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)

    return middleware
