"""HTML error pages for the page routes; the JSON API keeps inventory.errors as it is."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, Response
from litestar.response import Redirect, Template

from inventory.errors import EXCEPTION_HANDLERS

_TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Invalid request",
    503: "Service unavailable",
}


def render_error_page(request: Request, exc: Exception) -> Response:
    """Render the error that the JSON handler would send, as an HTML page.

    The JSON handler for the exception still runs first, so the status code, the message and
    the logging stay the same for pages and API.
    """
    json_class = next(cls for cls in type(exc).__mro__ if cls in EXCEPTION_HANDLERS)
    handler = EXCEPTION_HANDLERS[json_class]
    json_response = handler(request, exc)
    body = json_response.content
    status_code: int = body["status_code"]
    if status_code == 401 and request.method == "GET":
        # A page that needs a signed-in user sends the browser to sign in, then back.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path=f"/login?{urlencode({'next': target})}", status_code=303)
    return Template(
        template_name="error.html",
        context={
            "status_code": status_code,
            "title": _TITLES.get(status_code, "Error" if status_code < 500 else "Server error"),
            "detail": body["detail"],
        },
        status_code=status_code,
        headers=dict(json_response.headers),
    )


# Controller-level handlers replace the app's for the same exception classes. Every class of
# the app's map is listed, because a more specific class left in the app's map would win the
# lookup over a broader one given here.
HTML_EXCEPTION_HANDLERS = dict.fromkeys(EXCEPTION_HANDLERS, render_error_page)
