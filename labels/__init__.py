"""QR asset labels: the payload URL, label templates, and PDF sheets, SVG and PNG labels.

A standalone library with plain inputs: it imports nothing from the service, which passes its
configured INVENTORY_BASE_URL and the tags to print. See labels/README.md for the layout rules.
"""

from labels.errors import (
    LabelError,
    LabelWarning,
    TemplateError,
    UnknownTemplateError,
    WarningCode,
)
from labels.payload import LabelSpec, build_payload
from labels.pdf import RenderedSheet, render_sheet
from labels.single import RenderedLabel, render_png, render_svg
from labels.templates import Template, get_template, list_templates

__all__ = [
    "LabelError",
    "LabelSpec",
    "LabelWarning",
    "RenderedLabel",
    "RenderedSheet",
    "Template",
    "TemplateError",
    "UnknownTemplateError",
    "WarningCode",
    "build_payload",
    "get_template",
    "list_templates",
    "render_png",
    "render_sheet",
    "render_svg",
]
