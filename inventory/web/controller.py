"""Page routes; they call the same services as the JSON API."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from inventory.deps import DatabaseDep
from inventory.sites import service as sites


class PageController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, db: DatabaseDep) -> Template:
        summaries = await sites.site_summaries(db)
        return Template(template_name="home.html", context={"sites": summaries})
