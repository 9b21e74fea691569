"""QR asset labels: payloads, templates, and PDF, SVG and PNG output read back by a decoder.

Rendered PDFs are rasterised at 300 dpi with pypdfium2 and decoded with zxing-cpp, so a test
passes only when a real reader gets the right URL (and Code 128 value) off the page. Nothing
here touches the database.
"""

from __future__ import annotations

import io
import itertools
import random
import re
import xml.etree.ElementTree as ElementTree
from urllib.parse import unquote

import pypdfium2
import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageDraw
from qrcode import LUT as qrcode_tables

from labels import (
    LabelError,
    LabelSpec,
    Template,
    TemplateError,
    UnknownTemplateError,
    WarningCode,
    build_payload,
    get_template,
    list_templates,
    render_png,
    render_sheet,
    render_svg,
)
from labels.qr import _LOG as GF_LOG
from labels.qr import _generator_logs as generator_logs
from labels.qr import encode_rows, merge_dark_modules, penalty
from labels.templates import parse_template

BASE_URL = "https://inventory.example-district.org"
DPI = 300
MM_PER_INCH = 25.4
TEMPLATE_NAMES = [
    "avery-22805",
    "avery-5160",
    "avery-5163",
    "avery-l7160",
    "roll-2x1",
    "roll-62x29",
]
QR = zxingcpp.BarcodeFormat.QRCode
CODE128 = zxingcpp.BarcodeFormat.Code128
QR_ONLY = zxingcpp.barcode_formats_from_str("QRCode")
CODE128_ONLY = zxingcpp.barcode_formats_from_str("Code128")
BOTH = zxingcpp.barcode_formats_from_str("QRCode,Code128")


def _url(tag: str) -> str:
    return build_payload(BASE_URL, tag)


def _specs(count: int, prefix: str = "A") -> list[LabelSpec]:
    return [
        LabelSpec(asset_tag=f"{prefix}{number:07d}", site_code="K123", text="Room 204, cart B")
        for number in range(count)
    ]


def _pages(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[index].render(scale=dpi / 72).to_pil() for index in range(len(document))]
    finally:
        document.close()


def _page_sizes_pt(pdf: bytes) -> list[tuple[float, float]]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[index].get_size() for index in range(len(document))]
    finally:
        document.close()


def _decode(
    image: Image.Image, formats: zxingcpp.BarcodeFormats = QR_ONLY
) -> list[zxingcpp.Barcode]:
    """Decode every barcode of `formats` in the image, however many there are."""
    return [result for result in zxingcpp.read_barcodes(image, formats=formats) if result.valid]


def _texts(results: list[zxingcpp.Barcode], barcode_format: zxingcpp.BarcodeFormat) -> list[str]:
    return sorted(result.text for result in results if result.format == barcode_format)


def _modules_across(result: zxingcpp.Barcode) -> int:
    """Return the width in modules of a decoded QR symbol, from its version."""
    extra = result.extra
    assert isinstance(extra, dict)
    return 17 + 4 * int(extra["Version"])


def _px_to_mm(pixels: float) -> float:
    return pixels / DPI * MM_PER_INCH


# --- payload ------------------------------------------------------------------------------


def test_payload_plain_tag() -> None:
    assert build_payload(BASE_URL, "A0012345") == f"{BASE_URL}/a/A0012345"


def test_payload_keeps_leading_zeros() -> None:
    assert build_payload(BASE_URL, "000123") == f"{BASE_URL}/a/000123"


def test_payload_encodes_space_and_non_ascii() -> None:
    assert build_payload(BASE_URL, "LIB 042") == f"{BASE_URL}/a/LIB%20042"
    assert build_payload(BASE_URL, "CAFÉ-7") == f"{BASE_URL}/a/CAF%C3%89-7"


def test_payload_base_url_slash_prefix() -> None:
    assert build_payload(BASE_URL + "/", "A1") == f"{BASE_URL}/a/A1"
    assert build_payload("https://example.org/inventory/", "A1") == (
        "https://example.org/inventory/a/A1"
    )


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        (" A1", "leading or trailing whitespace"),
        ("A/1", "may not contain"),
        ("A%1", "may not contain"),
        ("A\n1", "may not contain"),
        ("..", "cannot be a URL path segment"),
    ],
)
def test_payload_invalid_tag(tag: str, expected: str) -> None:
    with pytest.raises(LabelError, match=expected) as raised:
        build_payload(BASE_URL, tag)
    assert repr(tag) in str(raised.value)


@pytest.mark.parametrize(
    "base_url", ["inventory.example.org", "ftp://example.org", "https://", "https://x.org/?a=1"]
)
def test_payload_invalid_base_url(base_url: str) -> None:
    with pytest.raises(LabelError, match="base URL") as raised:
        build_payload(base_url, "A1")
    assert repr(base_url) in str(raised.value)


# --- templates ----------------------------------------------------------------------------


def test_templates_listed() -> None:
    assert [template.name for template in list_templates()] == TEMPLATE_NAMES


def test_template_lookup_ignores_case() -> None:
    assert get_template("Avery-5160") is get_template("avery-5160")


def test_template_unknown_lists_names() -> None:
    with pytest.raises(UnknownTemplateError) as raised:
        get_template("avery-9999")
    message = str(raised.value)
    assert "'avery-9999'" in message
    for name in TEMPLATE_NAMES:
        assert name in message


def test_template_5160_published_geometry() -> None:
    template = get_template("avery-5160")
    assert template.labels_per_sheet == 30
    assert (template.columns, template.rows) == (3, 10)
    assert template.margin_top == pytest.approx(0.5 * 72)
    assert template.margin_left == pytest.approx(0.1875 * 72)
    assert template.pitch_x == pytest.approx(2.75 * 72)
    assert template.pitch_y == pytest.approx(1.0 * 72)
    assert (template.label_width, template.label_height) == pytest.approx((2.625 * 72, 72))


@pytest.mark.parametrize(
    ("name", "per_sheet", "label_mm"),
    [
        ("avery-5163", 10, (101.6, 50.8)),
        ("avery-22805", 24, (38.1, 38.1)),
        ("avery-l7160", 21, (63.5, 38.1)),
        ("roll-62x29", 1, (62.0, 29.0)),
        ("roll-2x1", 1, (50.8, 25.4)),
    ],
)
def test_template_sizes(name: str, per_sheet: int, label_mm: tuple[float, float]) -> None:
    template = get_template(name)
    assert template.labels_per_sheet == per_sheet
    size_mm = (template.label_width / 72 * 25.4, template.label_height / 72 * 25.4)
    assert size_mm == pytest.approx(label_mm, abs=0.01)


def _template_data() -> dict[str, object]:
    return {
        "name": "test",
        "title": "Test",
        "unit": "mm",
        "page": {"width": 100.0, "height": 50.0},
        "grid": {
            "columns": 2,
            "rows": 1,
            "margin_top": 0.0,
            "margin_left": 0.0,
            "pitch_x": 50.0,
            "pitch_y": 50.0,
        },
        "label": {"width": 50.0, "height": 50.0, "corner_radius": 0.0, "padding": 2.0},
        "qr": {"layout": "side", "size": 30.0, "error_correction": "Q", "min_module": 0.3},
        "barcode": {"enabled": False},
        "text": {"tag_font_pt": 9.0, "detail_font_pt": 7.0, "min_font_pt": 6.0},
    }


def test_template_parse_valid() -> None:
    template = parse_template(_template_data(), source="test.toml")
    assert isinstance(template, Template)
    assert template.pitch_x == pytest.approx(50 / 25.4 * 72)


def test_template_grid_past_page_edge() -> None:
    data = _template_data()
    data["grid"]["pitch_x"] = 60.0  # type: ignore[index]
    with pytest.raises(TemplateError, match="right edge") as raised:
        parse_template(data, source="test.toml")
    assert "test.toml" in str(raised.value)


def test_template_unknown_key() -> None:
    data = _template_data()
    data["label"]["radius"] = 1.0  # type: ignore[index]
    with pytest.raises(TemplateError, match="unknown key"):
        parse_template(data, source="test.toml")


def test_template_invalid_error_correction() -> None:
    data = _template_data()
    data["qr"]["error_correction"] = "X"  # type: ignore[index]
    with pytest.raises(TemplateError, match=r"qr\.error_correction"):
        parse_template(data, source="test.toml")


# --- QR module rectangles -----------------------------------------------------------------


_QRCODE_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_symbols_equal_those_of_qrcode(level: str) -> None:
    # The fast path must give the very symbol qrcode.QRCode.make() gives: same version,
    # placement, mask choice and format bits. Short payloads reach version 1, and 400
    # characters reach version 7 and above, where the version information is drawn too.
    # Digits and capitals exercise the numeric and alphanumeric segments.
    generator = random.Random(level)
    alphabets = [
        "abcdefghijklmnopqrstuvwxyz-_/",
        "0123456789",
        "ABCDEFGHIJKLMNOP0123 $%*+-./:",
    ]
    versions: set[int] = set()
    for length in [1, 7, 20, 33, 48, 60, 90, 150, 250, 400]:
        for alphabet, prefix in itertools.product(alphabets, ["", BASE_URL + "/a/"]):
            payload = prefix + "".join(generator.choices(alphabet, k=length))
            reference = qrcode.QRCode(error_correction=_QRCODE_LEVELS[level], border=0)
            reference.add_data(payload)
            reference.make()
            rows, version = encode_rows(payload, level)  # type: ignore[arg-type]
            expected = ["".join("1" if cell else "0" for cell in row) for row in reference.modules]
            assert version == reference.version, payload
            versions.add(version)
            assert [format(row, f"0{len(rows)}b") for row in rows] == expected, payload
    assert min(versions) == 1, sorted(versions)
    assert max(versions) >= 10, sorted(versions)


def test_penalty_equals_qrcode_on_random_grids() -> None:
    generator = random.Random(11)
    for _ in range(300):
        size = generator.choice([21, 25, 29, 45])
        rows = [generator.getrandbits(size) if generator.random() < 0.8 else 0 for _ in range(size)]
        grid = [[bool(row >> (size - 1 - column) & 1) for column in range(size)] for row in rows]
        assert penalty(rows, size) == qrcode.util.lost_point(grid)


def test_reed_solomon_generators_equal_qrcode_tables() -> None:
    for degree, coefficients in qrcode_tables.rsPoly_LUT.items():
        assert coefficients[0] == 1
        assert generator_logs(degree) == tuple(GF_LOG[value] for value in coefficients[1:])


def test_merged_rectangles_cover_dark_modules_once() -> None:
    generator = random.Random(5)
    grid = [[generator.random() < 0.5 for _ in range(29)] for _ in range(29)]
    covered: list[tuple[int, int]] = []
    for x, y, width, height in merge_dark_modules(grid):
        covered.extend((x + dx, y + dy) for dx in range(width) for dy in range(height))
    dark = {(x, y) for y, row in enumerate(grid) for x, cell in enumerate(row) if cell}
    assert len(covered) == len(set(covered))
    assert set(covered) == dark


# --- PDF sheets ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_sheet_full_page_decodes(name: str) -> None:
    template = get_template(name)
    specs = _specs(template.labels_per_sheet)
    sheet = render_sheet(specs, template, BASE_URL)

    assert sheet.data.startswith(b"%PDF-")
    assert sheet.page_count == 1
    assert sheet.warnings == ()
    assert _page_sizes_pt(sheet.data) == [
        pytest.approx((template.page_width, template.page_height), abs=0.01)
    ]
    (page,) = _pages(sheet.data)
    results = _decode(page, BOTH)
    assert _texts(results, QR) == sorted(_url(spec.asset_tag) for spec in specs)
    expected_1d = sorted(spec.asset_tag for spec in specs) if template.barcode_enabled else []
    assert _texts(results, CODE128) == expected_1d


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_sheet_run_continues_on_next_page(name: str) -> None:
    template = get_template(name)
    specs = _specs(template.labels_per_sheet + 1, prefix="B")
    sheet = render_sheet(specs, template, BASE_URL)

    assert sheet.page_count == 2
    pages = _pages(sheet.data)
    assert len(pages) == 2
    first = _texts(_decode(pages[0]), QR)
    second = _decode(pages[1])
    assert first == sorted(_url(spec.asset_tag) for spec in specs[:-1])
    assert _texts(second, QR) == [_url(specs[-1].asset_tag)]
    # The page's first label position, measured from the top-left corner of the page.
    corner = second[0].position.top_left
    first_label_x, first_label_y = template.label_origin(0)
    assert _px_to_mm(corner.x) > first_label_x / 72 * 25.4
    assert _px_to_mm(corner.y) > first_label_y / 72 * 25.4
    assert _px_to_mm(corner.x) < (first_label_x + template.label_width) / 72 * 25.4
    assert _px_to_mm(corner.y) < (first_label_y + template.label_height) / 72 * 25.4


def _expected_qr_corner_mm(
    template: Template, label_left_in: float, label_top_in: float, modules: int
) -> tuple[float, float]:
    """Return the top-left corner in mm of the QR symbol on a side-layout label.

    The label's own top-left corner is at (`label_left_in`, `label_top_in`) inches. The rule is
    written out from labels/README.md rather than taken from the library: the square of side
    qr.size sits `padding` in from the label's left edge, centred vertically, and the symbol
    starts 4 modules (the quiet zone) inside that square.
    """
    module = template.qr_size / (modules + 8)
    x_pt = label_left_in * 72 + template.padding + 4 * module
    y_pt = label_top_in * 72 + (template.label_height - template.qr_size) / 2 + 4 * module
    return x_pt / 72 * MM_PER_INCH, y_pt / 72 * MM_PER_INCH


def test_sheet_label_30_position_on_5160() -> None:
    template = get_template("avery-5160")
    specs = _specs(30)
    (page,) = _pages(render_sheet(specs, template, BASE_URL).data)
    by_url = {result.text: result for result in _decode(page)}
    last = by_url[_url(specs[29].asset_tag)]
    first = by_url[_url(specs[0].asset_tag)]
    modules = _modules_across(last)

    # Label 30 is the bottom-right one: Avery's figures put its corner at
    # 0.1875 + 2 x 2.75 in from the left and 0.5 + 9 x 1 in from the top.
    expected_x, expected_y = _expected_qr_corner_mm(template, 0.1875 + 2 * 2.75, 0.5 + 9, modules)
    assert abs(_px_to_mm(last.position.top_left.x) - expected_x) <= 0.5
    assert abs(_px_to_mm(last.position.top_left.y) - expected_y) <= 0.5

    # The same offset measured between two rendered symbols, with no layout rule involved.
    dx = _px_to_mm(last.position.top_left.x - first.position.top_left.x)
    dy = _px_to_mm(last.position.top_left.y - first.position.top_left.y)
    assert abs(dx - 2 * 2.75 * MM_PER_INCH) <= 0.5
    assert abs(dy - 9 * MM_PER_INCH) <= 0.5


def test_sheet_skip_starts_at_label_n() -> None:
    template = get_template("avery-5160")
    specs = _specs(2, prefix="S")
    sheet = render_sheet(specs, template, BASE_URL, skip=5)
    (page,) = _pages(sheet.data)
    by_url = {result.text: result for result in _decode(page)}
    assert sorted(by_url) == sorted(_url(spec.asset_tag) for spec in specs)

    modules = _modules_across(by_url[_url(specs[0].asset_tag)])
    # Label 6 (skip=5) is row 2, column 3; label 7 is row 3, column 1.
    for spec, (left_in, top_in) in zip(
        specs, [(0.1875 + 2 * 2.75, 0.5 + 1), (0.1875, 0.5 + 2)], strict=True
    ):
        corner = by_url[_url(spec.asset_tag)].position.top_left
        expected_x, expected_y = _expected_qr_corner_mm(template, left_in, top_in, modules)
        assert abs(_px_to_mm(corner.x) - expected_x) <= 0.5
        assert abs(_px_to_mm(corner.y) - expected_y) <= 0.5


def test_sheet_skip_last_label_then_next_page() -> None:
    template = get_template("avery-5160")
    specs = _specs(2, prefix="T")
    sheet = render_sheet(specs, template, BASE_URL, skip=29)
    assert sheet.page_count == 2
    first, second = _pages(sheet.data)
    assert _texts(_decode(first), QR) == [_url(specs[0].asset_tag)]
    assert _texts(_decode(second), QR) == [_url(specs[1].asset_tag)]


def test_sheet_special_tags_decode() -> None:
    tags = ["000123", "LIB 042", "CAFÉ-0042"]
    specs = [LabelSpec(tag, site_code="K123") for tag in tags]
    sheet = render_sheet(specs, "avery-5163", BASE_URL)
    (page,) = _pages(sheet.data)
    results = _decode(page, BOTH)

    urls = _texts(results, QR)
    assert urls == sorted(_url(tag) for tag in tags)
    assert sorted(unquote(url.rsplit("/", 1)[1]) for url in urls) == sorted(tags)
    # The non-ASCII tag has no 1D code; the two ASCII tags do, leading zeros and space kept.
    assert _texts(results, CODE128) == ["000123", "LIB 042"]
    assert [(warning.index, warning.asset_tag, warning.code) for warning in sheet.warnings] == [
        (2, "CAFÉ-0042", WarningCode.BARCODE_UNENCODABLE)
    ]
    assert "'É'" in sheet.warnings[0].message


def test_sheet_barcode_too_long_skipped() -> None:
    tag = "DISTRICT-IT-LOANER-POOL-000042"
    sheet = render_sheet([LabelSpec(tag)], "avery-5163", BASE_URL)
    (page,) = _pages(sheet.data)
    results = _decode(page, BOTH)
    assert _texts(results, QR) == [_url(tag)]
    assert _texts(results, CODE128) == []
    assert [warning.code for warning in sheet.warnings] == [WarningCode.BARCODE_TOO_LONG]
    assert "mm" in sheet.warnings[0].message


def test_sheet_long_text_truncated() -> None:
    text = "Reading room, second floor, cabinet 3, shelf B (the one by the window)"
    sheet = render_sheet([LabelSpec("A0000001", "K123", text)], "avery-5160", BASE_URL)
    assert [warning.code for warning in sheet.warnings] == [WarningCode.DETAIL_TRUNCATED]
    assert "…" in sheet.warnings[0].message


def test_sheet_long_tag_truncated_qr_keeps_tag() -> None:
    tag = "LONG-ASSET-TAG-" + "9" * 40
    sheet = render_sheet([LabelSpec(tag)], "avery-22805", BASE_URL)
    assert [warning.code for warning in sheet.warnings] == [WarningCode.TAG_TRUNCATED]
    (page,) = _pages(sheet.data)
    assert _texts(_decode(page), QR) == [_url(tag)]


def test_sheet_missing_glyphs_warned() -> None:
    tag = "資産-7"
    sheet = render_sheet([LabelSpec(tag)], "avery-5163", BASE_URL)
    codes = {warning.code for warning in sheet.warnings}
    assert codes == {WarningCode.MISSING_GLYPHS, WarningCode.BARCODE_UNENCODABLE}
    (page,) = _pages(sheet.data)
    assert _texts(_decode(page), QR) == [_url(tag)]


def test_sheet_long_base_url_warned() -> None:
    base_url = "https://" + "inventory-" * 15 + "example.org"
    sheet = render_sheet([LabelSpec("A1")], "avery-5160", base_url)
    assert [warning.code for warning in sheet.warnings] == [WarningCode.QR_MODULES_SMALL]


def test_sheet_outline_still_decodes() -> None:
    specs = _specs(3)
    sheet = render_sheet(specs, "avery-5160", BASE_URL, outline=True)
    (page,) = _pages(sheet.data)
    assert _texts(_decode(page), QR) == sorted(_url(spec.asset_tag) for spec in specs)


def test_sheet_same_input_same_bytes() -> None:
    specs = _specs(4)
    first = render_sheet(specs, "avery-5160", BASE_URL).data
    second = render_sheet(specs, "avery-5160", BASE_URL).data
    assert first == second


@pytest.mark.parametrize("skip", [-1, 30, 100])
def test_sheet_skip_out_of_range(skip: int) -> None:
    with pytest.raises(LabelError, match=f"skip={skip} is out of range") as raised:
        render_sheet(_specs(1), "avery-5160", BASE_URL, skip=skip)
    assert "0 to 29" in str(raised.value)


@pytest.mark.parametrize("skip", [True, 1.5, "3"])
def test_sheet_skip_not_whole_number(skip: object) -> None:
    with pytest.raises(LabelError, match="skip must be a whole number from 0 to 29"):
        render_sheet(_specs(1), "avery-5160", BASE_URL, skip=skip)  # type: ignore[arg-type]


def test_sheet_empty_labels() -> None:
    with pytest.raises(LabelError, match="labels is empty"):
        render_sheet([], "avery-5160", BASE_URL)


def test_sheet_empty_tag_names_position() -> None:
    with pytest.raises(LabelError, match=r"^label 2: asset tag '' is empty"):
        render_sheet([LabelSpec("A1"), LabelSpec("")], "avery-5160", BASE_URL)


def test_sheet_unknown_template() -> None:
    with pytest.raises(UnknownTemplateError, match="known templates: avery-22805"):
        render_sheet(_specs(1), "avery-0000", BASE_URL)


# --- SVG and PNG --------------------------------------------------------------------------

_PATH_COMMAND = re.compile(r"M(\d+) (\d+)h(\d+)v([\d.]+)h-\d+z")
_TRANSFORM = re.compile(r"translate\(([\d.]+) ([\d.]+)\) scale\(([\d.]+)\)")


def _paint_svg_path(root: ElementTree.Element, path_id: str, scale: float) -> Image.Image:
    """Paint one path of the SVG at `scale` pixels per point, from the XML alone."""
    namespace = {"svg": "http://www.w3.org/2000/svg"}
    width = float(root.attrib["viewBox"].split()[2])
    height = float(root.attrib["viewBox"].split()[3])
    image = Image.new("L", (round(width * scale), round(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    path = root.find(f".//svg:path[@id='{path_id}']", namespace)
    assert path is not None
    transform = _TRANSFORM.fullmatch(path.attrib["transform"])
    assert transform is not None
    offset_x, offset_y, unit = (float(value) for value in transform.groups())
    commands = _PATH_COMMAND.findall(path.attrib["d"])
    assert "".join(f"M{x} {y}h{w}v{h}h-{w}z" for x, y, w, h in commands) == path.attrib["d"]
    for x, y, w, h in commands:
        left = (offset_x + int(x) * unit) * scale
        top = (offset_y + int(y) * unit) * scale
        right = (offset_x + (int(x) + int(w)) * unit) * scale
        bottom = (offset_y + (int(y) + float(h)) * unit) * scale
        draw.rectangle((round(left), round(top), round(right) - 1, round(bottom) - 1), fill=0)
    return image


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_svg_parses_and_qr_decodes(name: str) -> None:
    tag = "LIB 042"
    rendered = render_svg(LabelSpec(tag, "K123", "Cart 7"), BASE_URL, name)
    assert rendered.media_type == "image/svg+xml"
    root = ElementTree.fromstring(rendered.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == [tag, "K123", "Cart 7"]

    image = _paint_svg_path(root, "qr", scale=DPI / 72)
    assert _texts(_decode(image), QR) == [_url(tag)]


def test_svg_code128_decodes() -> None:
    rendered = render_svg(LabelSpec("000123"), BASE_URL, "avery-5163")
    root = ElementTree.fromstring(rendered.data)
    image = _paint_svg_path(root, "code128", scale=DPI / 72)
    assert _texts(_decode(image, CODE128_ONLY), CODE128) == ["000123"]


def test_svg_escapes_text() -> None:
    rendered = render_svg(LabelSpec("A<1>&", text='"quoted"'), BASE_URL, "avery-5160")
    root = ElementTree.fromstring(rendered.data)
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["A<1>&", '"quoted"']


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_png_decodes(name: str) -> None:
    template = get_template(name)
    tag = "CAFÉ-0042"
    rendered = render_png(LabelSpec(tag, "K123"), BASE_URL, template)
    assert rendered.media_type == "image/png"
    image = Image.open(io.BytesIO(rendered.data))
    assert image.format == "PNG"
    assert image.size == (
        round(template.label_width / 72 * DPI),
        round(template.label_height / 72 * DPI),
    )
    assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
    assert _texts(_decode(image), QR) == [_url(tag)]
    expected = [WarningCode.BARCODE_UNENCODABLE] if template.barcode_enabled else []
    assert [warning.code for warning in rendered.warnings] == expected


def test_png_code128_decodes_at_203_dpi() -> None:
    rendered = render_png(LabelSpec("A0012345"), BASE_URL, "avery-5163", dpi=203)
    image = Image.open(io.BytesIO(rendered.data))
    results = _decode(image, BOTH)
    assert _texts(results, CODE128) == ["A0012345"]
    assert _texts(results, QR) == [_url("A0012345")]


@pytest.mark.parametrize("dpi", [0, 71, 2401, 300.0, True])
def test_png_invalid_dpi(dpi: object) -> None:
    with pytest.raises(LabelError, match="dpi must be a whole number from 72 to 2400"):
        render_png(LabelSpec("A1"), BASE_URL, "avery-5160", dpi=dpi)  # type: ignore[arg-type]
