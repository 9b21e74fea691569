"""The server-rendered pages: home, site, device, not-found and error pages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from inventory.devices.schemas import ActionRequest, DeviceReceive
from inventory.devices.service import apply_action, receive_device
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site
from inventory.web import controller
from tests.factories import make_world, receive

# Elements that never have an end tag, so the tree builder must not wait for one.
_VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr", "col", "area", "base"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def raw_text(self) -> str:
        return "".join(
            child if isinstance(child, str) else child.raw_text() for child in self.children
        )

    def text(self) -> str:
        """Return the text content with runs of white space folded to one space."""
        return " ".join(self.raw_text().split())

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and (cls is None or cls in child.classes):
                    found.append(child)
                found.extend(child.find_all(tag, cls))
        return found

    def find(self, tag: str, cls: str | None = None) -> Node:
        matches = self.find_all(tag, cls)
        assert matches, f"no <{tag} class={cls!r}> in the page"
        return matches[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def table_rows(table: Node) -> dict[str, list[str]]:
    """Return each body and footer row keyed by its row header, as the texts of its cells."""
    rows = {}
    sections = table.find_all("tbody") + table.find_all("tfoot")
    for row in [row for section in sections for row in section.find_all("tr")]:
        cells = [child for child in row.children if isinstance(child, Node)]
        if cells and cells[0].tag == "th":
            rows[cells[0].text()] = [cell.text() for cell in cells[1:]]
    return rows


def column_labels(table: Node) -> list[str]:
    return [cell.text() for cell in table.find("thead").find_all("th")]


def link_targets(page: Node, text: str) -> list[str]:
    return [link.attrs["href"] for link in page.find_all("a") if link.text() == text]


async def act(db, tag: str, action: str, technician: str | None = "000456", **data) -> None:
    await apply_action(db, tag, ActionRequest(action=action, technician=technician, data=data))


ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}


async def test_home_lists_sites_with_state_counts(page_client, db) -> None:
    await make_world(db)
    await create_site(db, SiteCreate(code="10X001", name="Bronx Prep", region="Bronx"))
    for tag in ("0001", "0002", "0003"):
        await receive(db, tag)
    await receive(db, "0004", site="02M019")
    await act(db, "0001", "enroll", **ENROLL)
    await act(db, "0002", "enroll", **ENROLL)
    await act(db, "0002", "deploy", room="101")

    response = await page_client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    table = page.find("table", "counts")
    # Only states that have devices get a column, in lifecycle order.
    assert column_labels(table) == ["Site", "Name", "Total", "Received", "Enrolled", "Deployed"]
    rows = table_rows(table)
    assert rows["01M015"] == ["P.S. 015 Roberto Clemente", "3", "1", "1", "1"]
    assert rows["02M019"] == ["P.S. 019 Asher Levy", "1", "1", "0", "0"]
    assert rows["10X001"] == ["Bronx Prep", "0", "0", "0", "0"]
    # Region rows carry the region totals, and the footer sums all shown sites.
    assert rows["Bronx"] == ["1 site", "0", "0", "0", "0"]
    assert rows["Manhattan"] == ["2 sites", "4", "2", "1", "1"]
    assert rows["All regions shown"] == ["4", "2", "1", "1"]
    assert link_targets(page, "01M015") == ["/sites/01M015"]


async def test_home_filters_by_region_and_text(page_client, db) -> None:
    await make_world(db)
    await create_site(db, SiteCreate(code="10X001", name="Bronx Prep", region="Bronx"))

    by_region = parse((await page_client.get("/", params={"region": "Bronx"})).text)
    by_text = parse((await page_client.get("/", params={"q": "asher"})).text)
    by_code = parse((await page_client.get("/", params={"q": "m015", "region": "Manhattan"})).text)
    nothing = parse((await page_client.get("/", params={"q": "no such school"})).text)

    assert list(table_rows(by_region.find("table", "counts"))) == ["Bronx", "10X001"]
    assert list(table_rows(by_text.find("table", "counts"))) == ["Manhattan", "02M019"]
    assert list(table_rows(by_code.find("table", "counts"))) == ["Manhattan", "01M015"]
    assert nothing.find_all("table") == []
    assert "No site matches these filters." in nothing.text()
    selected = [
        option.text() for option in by_region.find_all("option") if "selected" in option.attrs
    ]
    assert selected == ["Bronx"]


async def test_site_page_details_and_counts(page_client, db) -> None:
    await make_world(db)
    await receive(db, "0001")
    await receive(db, "0002")
    await receive(db, "0009", site="02M019")
    await act(db, "0002", "enroll", **ENROLL)

    response = await page_client.get("/sites/01M015")

    assert response.status_code == 200
    page = parse(response.text)
    assert page.find("h1").text() == "01M015 P.S. 015 Roberto Clemente"
    facts = {
        div.find("dt").text(): div.find("dd").text()
        for div in page.find_all("div")
        if div.find_all("dt")
    }
    assert facts["Kind"] == "School"
    assert facts["Region"] == "Manhattan"
    assert facts["Enrollment"] == "250"
    counts = [item.text() for item in page.find("ul", "state-counts").find_all("li")]
    assert counts == ["All devices 2", "Received 1", "Enrolled 1"]
    rows = table_rows(page.find("table", "devices"))
    assert list(rows) == ["0001", "0002"]
    assert rows["0002"][0] == "Enrolled"
    assert link_targets(page, "0001") == ["/a/0001"]


async def test_site_page_pages_with_cursor(page_client, db, monkeypatch) -> None:
    monkeypatch.setattr(controller, "SITE_DEVICES_PAGE_SIZE", 2)
    await make_world(db)
    tags = ["0001", "0002", "0003", "0004", "0005"]
    for tag in tags:
        await receive(db, tag)
    await receive(db, "0000", site="02M019")

    seen: list[list[str]] = []
    url: str | None = "/sites/01M015"
    while url is not None:
        response = await page_client.get(url)
        assert response.status_code == 200, response.text
        page = parse(response.text)
        seen.append(list(table_rows(page.find("table", "devices"))))
        next_links = link_targets(page, "Next page")
        assert len(next_links) <= 1
        url = next_links[0] if next_links else None
        assert len(seen) <= len(tags), "the Next page links do not end"

    assert seen == [["0001", "0002"], ["0003", "0004"], ["0005"]]


async def test_site_page_filters_by_state(page_client, db, monkeypatch) -> None:
    monkeypatch.setattr(controller, "SITE_DEVICES_PAGE_SIZE", 1)
    await make_world(db)
    for tag in ("0001", "0002", "0003", "0004"):
        await receive(db, tag)
    for tag in ("0002", "0004"):
        await act(db, tag, "enroll", **ENROLL)

    first = parse((await page_client.get("/sites/01M015", params={"state": "enrolled"})).text)
    next_url = link_targets(first, "Next page")[0]
    second = parse((await page_client.get(next_url)).text)

    assert list(table_rows(first.find("table", "devices"))) == ["0002"]
    assert "state=enrolled" in next_url
    assert list(table_rows(second.find("table", "devices"))) == ["0004"]
    assert link_targets(second, "Next page") == []
    assert link_targets(second, "First page") == ["/sites/01M015?state=enrolled"]


async def _device_with_history(db) -> None:
    """Create device 0042 with three events at fixed times, one in winter and one in summer."""
    await make_world(db)
    await receive_device(
        db,
        DeviceReceive(
            asset_tag="0042",
            serial_number="NXABC042",
            manufacturer="Acer",
            model="Chromebook 311 (C722)",
            site="01M015",
            technician="000123",
            warranty_start=datetime(2025, 8, 1).date(),
            warranty_end=datetime(2028, 7, 31).date(),
            occurred_at=datetime(2025, 9, 2, 16, 0, tzinfo=UTC),
        ),
    )
    await apply_action(
        db,
        "0042",
        ActionRequest(
            action="enroll",
            technician="000456",
            data=ENROLL,
            notes="Enrolled at the depot",
            occurred_at=datetime(2026, 3, 4, 17, 15, tzinfo=UTC),
        ),
    )
    await apply_action(
        db,
        "0042",
        ActionRequest(
            action="deploy",
            technician="000123",
            data={"room": "B-204", "assignee": "Cart 3"},
            occurred_at=datetime(2026, 3, 5, 16, 30, tzinfo=UTC),
        ),
    )


async def test_device_page_shows_card(page_client, db) -> None:
    await _device_with_history(db)

    response = await page_client.get("/a/0042")

    assert response.status_code == 200
    page = parse(response.text)
    card = page.find("article", "device-card")
    assert card.find("h1").text() == "Asset tag 0042"
    assert card.find("span", "badge").text() == "Deployed"
    assert "state-deployed" in card.find("span", "badge").classes
    facts = {div.find("dt").text(): div.find("dd").text() for div in card.find_all("div")}
    assert facts["Model"] == "Chromebook 311 (C722)"
    assert facts["Manufacturer"] == "Acer"
    assert facts["Serial number"] == "NXABC042"
    assert facts["Site"] == "01M015 P.S. 015 Roberto Clemente"
    assert facts["Room"] == "B-204"
    assert facts["Assignee"] == "Cart 3"
    assert facts["Warranty"].startswith("2025-08-01 to 2028-07-31")
    # The model states its end of support to the month.
    assert facts["End of support"].startswith("2029-06")
    assert not facts["End of support"].startswith("2029-06-01")
    assert facts["Operating system"] == "ChromeOS"
    assert card.find("time").text() == "2026-03-05 08:30 PST"


async def test_device_page_shows_history_in_order(page_client, db) -> None:
    await _device_with_history(db)

    page = parse((await page_client.get("/a/0042")).text)

    events = page.find("ol", "history").find_all("li", "event")
    assert [event.find("strong", "action").text() for event in events] == [
        "Receive",
        "Enroll",
        "Deploy",
    ]
    # Stored in UTC, shown in America/Los_Angeles: PDT in September, PST in March.
    assert [event.find("time").text() for event in events] == [
        "2025-09-02 09:00 PDT",
        "2026-03-04 09:15 PST",
        "2026-03-05 08:30 PST",
    ]
    assert events[0].find("time").attrs["datetime"] == "2025-09-02T16:00:00+00:00"
    facts = [
        {div.find("dt").text(): div.find("dd").text() for div in event.find_all("div")}
        for event in events
    ]
    assert facts[0]["Technician"] == "Ana Reyes (employee no. 000123)"
    assert facts[1]["Technician"] == "Ben Okafor (employee no. 000456)"
    assert facts[1]["Notes"] == "Enrolled at the depot"
    assert facts[1]["User profile kind"] == "student"
    assert facts[2]["Room"] == "B-204"
    assert [event.find("p", "transition").text() for event in events] == [
        "Received",
        "Received → to Enrolled",
        "Enrolled → to Deployed",
    ]
    assert page.find_all("span", "earlier-device") == []


async def test_device_page_marks_predecessor_events(page_client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    await act(db, "0042", "enroll", **ENROLL)
    await act(db, "0042", "open_repair", problem="no power")
    await act(db, "0042", "escalate", vendor="acer", problem="board failure")
    await act(
        db,
        "0042",
        "vendor_replace",
        None,
        replacement_serial="NXNEW1",
        replacement_asset_tag="0043",
    )

    new_page = parse((await page_client.get("/a/0043")).text)
    old_page = parse((await page_client.get("/a/0042")).text)

    events = new_page.find("ol", "history").find_all("li", "event")
    labelled = [
        (
            event.find("strong", "action").text(),
            event.find("span", "earlier-device").find("a").text()
            if event.find_all("span", "earlier-device")
            else None,
        )
        for event in events
    ]
    assert sorted(labelled, key=str) == sorted(
        [
            ("Receive", "0042"),
            ("Enroll", "0042"),
            ("Open repair", "0042"),
            ("Escalate to vendor", "0042"),
            ("Vendor replacement", "0042"),
            ("Receive", None),
        ],
        key=str,
    )
    assert link_targets(new_page, "0042")[0] == "/a/0042"
    assert "This device replaces 0042" in new_page.find("article", "device-card").text()
    assert "This device was replaced by 0043." in old_page.find("article", "device-card").text()
    assert old_page.find_all("span", "earlier-device") == []


async def test_unknown_asset_tag_gives_html_404(page_client, db) -> None:
    await make_world(db)

    response = await page_client.get("/a/NOPE-17")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    assert "NOPE-17" in page.find("h1").text()
    assert "Check the tag against the label" in page.text()
    assert page.find("form", "find-form").find("input").attrs["value"] == "NOPE-17"


async def test_unknown_tag_suggests_serial_match(page_client, db) -> None:
    await make_world(db)
    await receive(db, "0042", serial="NXABC042")

    not_found = await page_client.get("/a/NXABC042")
    search = await page_client.get("/a", params={"tag": " NXABC042 "}, follow_redirects=False)

    assert not_found.status_code == 404
    assert link_targets(parse(not_found.text), "0042") == ["/a/0042"]
    assert search.status_code == 303
    assert search.headers["location"] == "/a/0042"


async def test_unknown_site_gives_html_404(page_client, db) -> None:
    await make_world(db)

    response = await page_client.get("/sites/99Z999")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "99Z999" in parse(response.text).find("h1").text()


async def test_leading_zero_tags_stay_distinct(page_client, db) -> None:
    await make_world(db)
    await receive(db, "007")
    await receive(db, "7")

    padded = await page_client.get("/a/007")
    spaced = await page_client.get("/a/%20007%20")
    short = await page_client.get("/a/7")
    search = await page_client.get("/a", params={"tag": " 007 "}, follow_redirects=False)

    assert padded.status_code == 200
    assert parse(padded.text).find("h1").text() == "Asset tag 007"
    assert spaced.status_code == 200
    assert parse(spaced.text).find("h1").text() == "Asset tag 007"
    assert parse(short.text).find("h1").text() == "Asset tag 7"
    assert search.headers["location"] == "/a/007"


async def test_search_without_tag_shows_form(page_client) -> None:
    response = await page_client.get("/a", params={"tag": "  "})

    assert response.status_code == 200
    assert parse(response.text).find("h1").text() == "Find a device"


async def test_hostile_values_are_escaped(page_client, db) -> None:
    await make_world(db)
    await create_site(db, SiteCreate(code="66X066", name="<b>Bold</b> school", region="Bronx"))
    await receive(db, "0042")
    await apply_action(
        db,
        "0042",
        ActionRequest(
            action="enroll",
            technician="000456",
            data={**ENROLL, "management_profile": '"><img src=x onerror=alert(1)>'},
            notes="<script>alert('notes')</script>",
        ),
    )

    device = await page_client.get("/a/0042")
    home = await page_client.get("/")
    missing = await page_client.get("/a/<em>x")

    assert "<script>alert" not in device.text
    assert "&lt;script&gt;alert(&#39;notes&#39;)&lt;/script&gt;" in device.text
    assert "<img src=x" not in device.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in device.text
    assert "<b>Bold</b>" not in home.text
    assert "&lt;b&gt;Bold&lt;/b&gt; school" in home.text
    assert missing.status_code == 404
    assert "<em>x" not in missing.text
    assert "&lt;em&gt;x" in missing.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": "broken"}, "Unknown state &#39;broken&#39;"),
        ({"cursor": "not-a-cursor"}, "Invalid cursor &#39;not-a-cursor&#39;"),
    ],
)
async def test_page_errors_render_html(page_client, db, params, message) -> None:
    await make_world(db)

    response = await page_client.get("/sites/01M015", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert parse(response.text).find("h1").text() == "Invalid request"


async def test_api_errors_stay_json(client) -> None:
    response = await client.get("/api/v1/devices/NOPE-17")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"] == "Device with asset tag 'NOPE-17' not found."


async def test_layout_is_phone_ready(page_client) -> None:
    response = await page_client.get("/")
    css = await page_client.get("/static/pages.css")

    page = parse(response.text)
    viewport = [meta for meta in page.find_all("meta") if meta.attrs.get("name") == "viewport"]
    search = page.find("form", "tag-search")
    assert viewport[0].attrs["content"] == "width=device-width, initial-scale=1"
    assert search.attrs["action"] == "/a"
    assert search.find("label").attrs["for"] == search.find("input").attrs["id"]
    assert page.find_all("html")[0].attrs["lang"] == "en"
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert re.search(r"@media print", css.text)
