"""Sign-in and sign-out pages. The session lives in the database; the cookie contains its key."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from inventory.accounts.auth import SESSION_COOKIE
from inventory.accounts.service import (
    MAX_PASSWORD_LENGTH,
    MAX_USERNAME_LENGTH,
    LoginFailedError,
    LoginThrottledError,
    login,
    logout,
)
from inventory.deps import DatabaseDep
from inventory.web.errors import HTML_EXCEPTION_HANDLERS

log = logging.getLogger(__name__)


class LoginForm(BaseModel):
    # Lengths are capped so that a huge field is neither looked up, logged nor echoed.
    username: str = Field(default="", max_length=MAX_USERNAME_LENGTH)
    password: str = Field(default="", max_length=MAX_PASSWORD_LENGTH)
    next: str = Field(default="/", max_length=2000)


def safe_next(target: str | None) -> str:
    """Return a local path to go to after sign-in; anything else becomes the home page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _session_cookie(request: Request, value: str, *, max_age: int) -> Cookie:
    settings = request.app.state.settings
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )


class SessionController(Controller):
    include_in_schema = False
    opt = {"access": "public"}
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/login", name="login")
    async def login_page(
        self, next_path: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Template:
        return Template(
            template_name="login.html",
            context={"next": safe_next(next_path), "username": "", "error": None},
        )

    @post("/login", name="login_submit")
    async def login_submit(
        self,
        request: Request,
        db: DatabaseDep,
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        target = safe_next(data.next)
        context = {"next": target, "username": data.username}
        try:
            cookie = await login(db, data.username, data.password, _client_address(request))
        except LoginThrottledError as exc:
            return Template(
                template_name="login.html",
                context={**context, "error": str(exc)},
                status_code=429,
                headers={"Retry-After": str(exc.retry_after_seconds)},
            )
        except LoginFailedError:
            return Template(
                template_name="login.html",
                context={**context, "error": "Wrong username or password."},
                status_code=401,
            )
        max_age = request.app.state.settings.session_max_hours * 3600
        return Redirect(
            path=target,
            status_code=303,
            cookies=[_session_cookie(request, cookie, max_age=max_age)],
        )

    @post("/logout", name="logout")
    async def logout_submit(self, request: Request, db: DatabaseDep) -> Redirect:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await logout(db, cookie)
        return Redirect(
            path="/login",
            status_code=303,
            cookies=[_session_cookie(request, "", max_age=0)],
        )
