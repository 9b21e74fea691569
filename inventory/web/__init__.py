"""Server-rendered pages: Jinja templates and static files, no build step."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from inventory.web import filters
from inventory.web.controller import PageController
from inventory.web.scan import ScanController
from inventory.web.session_pages import SessionController

WEB_DIR = Path(__file__).parent
WEB_CONTROLLERS = [PageController, ScanController, SessionController]


def template_environment() -> Environment:
    """Build the Jinja environment: autoescaping on, undefined names an error."""
    environment = Environment(
        loader=FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True,
        # A misspelled name in a template fails the page (and its test) instead of
        # rendering as an empty string.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.register(environment)
    return environment


def template_config() -> TemplateConfig:
    engine = JinjaTemplateEngine.from_environment(template_environment())
    return TemplateConfig(instance=engine)


def static_files_router() -> Router:
    # The stylesheet contains nothing private, and a sign-in page needs it before sign-in.
    return create_static_files_router(
        path="/static",
        directories=[WEB_DIR / "static"],
        include_in_schema=False,
        opt={"access": "public"},
    )
