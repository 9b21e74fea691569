"""Label templates: sheet and roll geometry read from the TOML files in labels/templates/.

Every length is converted to PDF points (1/72 in) on loading. Positions on a page are measured
from its top-left corner, with y growing downwards; the PDF writer flips y itself.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, cast

from labels.errors import TemplateError, UnknownTemplateError

POINTS_PER_UNIT = {"in": 72.0, "mm": 72.0 / 25.4, "pt": 1.0}

# Slack allowed when checking that the grid fits the page: figures given in millimetres to two
# decimals can overshoot an exact A4 width by a few hundredths of a millimetre.
_FIT_TOLERANCE_PT = 0.1

# Height of a line of text as a multiple of its font size, and the gap above a Code 128 as a
# multiple of the detail font size. The layout and the template checks share them.
LINE_SPACING = 1.15
BARCODE_GAP = 0.5

ErrorCorrection = Literal["L", "M", "Q", "H"]
QrLayout = Literal["side", "below"]


@dataclass(frozen=True)
class Template:
    """One label stock: page size, the grid of labels on it and what goes on each label.

    Lengths are in points. `qr_size` is the side of the square filled by the QR symbol and its
    4-module quiet zone. With `qr_layout` "side" the text (and the Code 128, when
    `barcode_enabled`) goes right of that square; with "below" the text goes under it.
    """

    name: str
    title: str
    unit: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    margin_top: float
    margin_left: float
    pitch_x: float
    pitch_y: float
    label_width: float
    label_height: float
    corner_radius: float
    padding: float
    qr_layout: QrLayout
    qr_size: float
    error_correction: ErrorCorrection
    qr_min_module: float
    barcode_enabled: bool
    barcode_min_module: float
    barcode_max_module: float
    barcode_height: float
    tag_font_pt: float
    detail_font_pt: float
    min_font_pt: float

    @property
    def labels_per_sheet(self) -> int:
        return self.columns * self.rows

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Return the top-left corner of label `slot` (0-based, row by row) on its page.

        Each position is computed from the page origin as margin + index x pitch, never by
        adding pitches one after another, so rounding cannot accumulate across a sheet.
        """
        position = slot % self.labels_per_sheet
        row, column = divmod(position, self.columns)
        return self.margin_left + column * self.pitch_x, self.margin_top + row * self.pitch_y


def list_templates() -> list[Template]:
    """Return every template shipped in labels/templates/, sorted by name."""
    return [template for _, template in sorted(_load_all().items())]


def get_template(name: str) -> Template:
    """Return the template called `name` (case-insensitive).

    Raises UnknownTemplateError, listing the known names, when there is none.
    """
    templates = _load_all()
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in templates:
        known = ", ".join(sorted(templates))
        raise UnknownTemplateError(f"unknown label template {name!r}; known templates: {known}")
    return templates[key]


def resolve_template(template: Template | str) -> Template:
    """Return `template` itself, or the template of that name."""
    if isinstance(template, Template):
        return template
    if isinstance(template, str):
        return get_template(template)
    raise UnknownTemplateError(
        f"template must be a Template or a template name, not {type(template).__name__}"
    )


@functools.cache
def _load_all() -> dict[str, Template]:
    templates: dict[str, Template] = {}
    directory = resources.files("labels") / "templates"
    for entry in directory.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise TemplateError(f"template file {entry.name} is not valid TOML: {error}") from None
        template = parse_template(data, source=entry.name)
        if f"{template.name}.toml" != entry.name:
            raise TemplateError(
                f"template file {entry.name} is named {template.name!r}; "
                f"rename the file to {template.name}.toml or change its name"
            )
        templates[template.name] = template
    return templates


def parse_template(data: Mapping[str, Any], source: str = "<template>") -> Template:
    """Build a Template from the parsed TOML of one template file and check that it fits.

    Raises TemplateError naming `source` and the offending key.
    """
    reader = _Reader(data, source)
    unit = reader.choice("", "unit", ("in", "mm", "pt"))
    scale = POINTS_PER_UNIT[unit]
    reader.only("", {"name", "title", "unit", "page", "grid", "label", "qr", "barcode", "text"})
    for section, keys in _SECTION_KEYS.items():
        reader.only(section, keys)

    barcode_enabled = reader.boolean("barcode", "enabled")
    template = Template(
        name=reader.text("", "name").lower(),
        title=reader.text("", "title"),
        unit=unit,
        page_width=reader.length("page", "width", scale),
        page_height=reader.length("page", "height", scale),
        columns=reader.count("grid", "columns"),
        rows=reader.count("grid", "rows"),
        margin_top=reader.length("grid", "margin_top", scale, allow_zero=True),
        margin_left=reader.length("grid", "margin_left", scale, allow_zero=True),
        pitch_x=reader.length("grid", "pitch_x", scale),
        pitch_y=reader.length("grid", "pitch_y", scale),
        label_width=reader.length("label", "width", scale),
        label_height=reader.length("label", "height", scale),
        corner_radius=reader.length("label", "corner_radius", scale, allow_zero=True),
        padding=reader.length("label", "padding", scale, allow_zero=True),
        qr_layout=cast(QrLayout, reader.choice("qr", "layout", ("side", "below"))),
        qr_size=reader.length("qr", "size", scale),
        error_correction=cast(
            ErrorCorrection, reader.choice("qr", "error_correction", ("L", "M", "Q", "H"))
        ),
        qr_min_module=reader.length("qr", "min_module", scale),
        barcode_enabled=barcode_enabled,
        barcode_min_module=reader.length("barcode", "min_module", scale) if barcode_enabled else 0,
        barcode_max_module=reader.length("barcode", "max_module", scale) if barcode_enabled else 0,
        barcode_height=reader.length("barcode", "height", scale) if barcode_enabled else 0,
        tag_font_pt=reader.length("text", "tag_font_pt", 1.0),
        detail_font_pt=reader.length("text", "detail_font_pt", 1.0),
        min_font_pt=reader.length("text", "min_font_pt", 1.0),
    )
    _check_geometry(template, source)
    return template


_SECTION_KEYS = {
    "page": {"width", "height"},
    "grid": {"columns", "rows", "margin_top", "margin_left", "pitch_x", "pitch_y"},
    "label": {"width", "height", "corner_radius", "padding"},
    "qr": {"layout", "size", "error_correction", "min_module"},
    "barcode": {"enabled", "min_module", "max_module", "height"},
    "text": {"tag_font_pt", "detail_font_pt", "min_font_pt"},
}


def _check_geometry(template: Template, source: str) -> None:
    def fail(message: str) -> None:
        raise TemplateError(f"template file {source}: {message}")

    across = template.margin_left + (template.columns - 1) * template.pitch_x
    down = template.margin_top + (template.rows - 1) * template.pitch_y
    if across + template.label_width > template.page_width + _FIT_TOLERANCE_PT:
        fail("the last column of labels runs past the right edge of the page")
    if down + template.label_height > template.page_height + _FIT_TOLERANCE_PT:
        fail("the last row of labels runs past the bottom edge of the page")
    if template.columns > 1 and template.pitch_x < template.label_width:
        fail("grid.pitch_x is smaller than label.width, so labels would overlap")
    if template.rows > 1 and template.pitch_y < template.label_height:
        fail("grid.pitch_y is smaller than label.height, so labels would overlap")

    inner_width = template.label_width - 2 * template.padding
    inner_height = template.label_height - 2 * template.padding
    if template.qr_size > min(inner_width, inner_height):
        fail("qr.size does not fit inside the label's padding")
    if template.qr_layout == "side" and template.qr_size >= inner_width:
        fail("qr.size leaves no room for the text beside the QR code")
    if template.qr_layout == "below" and template.qr_size >= inner_height:
        fail("qr.size leaves no room for the text below the QR code")
    if template.barcode_enabled:
        if template.qr_layout != "side":
            fail("barcode.enabled needs qr.layout = 'side'; the 1D code goes beside the QR code")
        if template.barcode_max_module < template.barcode_min_module:
            fail("barcode.max_module is smaller than barcode.min_module")
    if not template.min_font_pt <= min(template.tag_font_pt, template.detail_font_pt):
        fail("text.min_font_pt is larger than text.tag_font_pt or text.detail_font_pt")

    # The tallest text block: the tag and two detail lines (site code and text).
    text_height = LINE_SPACING * (template.tag_font_pt + 2 * template.detail_font_pt)
    if template.barcode_enabled:
        text_height += BARCODE_GAP * template.detail_font_pt + template.barcode_height
    below = template.qr_size if template.qr_layout == "below" else 0.0
    if below + text_height > inner_height:
        fail("the text lines (and the 1D code, if enabled) do not fit the label's height")


class _Reader:
    """Typed access to the parsed TOML, with errors that name the file and the key."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def _section(self, section: str) -> Mapping[str, Any]:
        if not section:
            return self.data
        value = self.data.get(section)
        if not isinstance(value, Mapping):
            raise TemplateError(f"template file {self.source}: missing table [{section}]")
        return value

    def _get(self, section: str, key: str) -> Any:
        table = self._section(section)
        if key not in table:
            raise TemplateError(f"template file {self.source}: missing {self._name(section, key)}")
        return table[key]

    def _name(self, section: str, key: str) -> str:
        return f"{section}.{key}" if section else key

    def _invalid(self, section: str, key: str, value: Any, expected: str) -> TemplateError:
        return TemplateError(
            f"template file {self.source}: {self._name(section, key)} = {value!r} is invalid; "
            f"expected {expected}"
        )

    def only(self, section: str, keys: set[str]) -> None:
        unknown = sorted(set(self._section(section)) - keys)
        if unknown:
            raise TemplateError(
                f"template file {self.source}: unknown key(s) {', '.join(unknown)} in "
                f"{'[' + section + ']' if section else 'the top level'}; known: "
                f"{', '.join(sorted(keys))}"
            )

    def text(self, section: str, key: str) -> str:
        value = self._get(section, key)
        if not isinstance(value, str) or not value.strip():
            raise self._invalid(section, key, value, "a non-empty string")
        return value

    def choice(self, section: str, key: str, choices: tuple[str, ...]) -> str:
        value = self._get(section, key)
        if value not in choices:
            raise self._invalid(section, key, value, "one of " + ", ".join(choices))
        return str(value)

    def boolean(self, section: str, key: str) -> bool:
        value = self._get(section, key)
        if not isinstance(value, bool):
            raise self._invalid(section, key, value, "true or false")
        return value

    def count(self, section: str, key: str) -> int:
        value = self._get(section, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self._invalid(section, key, value, "a whole number of at least 1")
        return value

    def length(self, section: str, key: str, scale: float, *, allow_zero: bool = False) -> float:
        value = self._get(section, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._invalid(section, key, value, "a number")
        if value < 0 or (value == 0 and not allow_zero):
            raise self._invalid(section, key, value, "a positive number")
        return float(value) * scale
