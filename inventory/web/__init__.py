"""Server-rendered pages: Jinja templates and static files, no build step."""

from __future__ import annotations

from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from inventory.web.controller import PageController

WEB_DIR = Path(__file__).parent
WEB_CONTROLLERS = [PageController]


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=WEB_DIR / "templates", engine=JinjaTemplateEngine)


def static_files_router():
    return create_static_files_router(path="/static", directories=[WEB_DIR / "static"])
