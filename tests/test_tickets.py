"""Support tickets: priority, assignment, states, site scope and device problem reports."""

from __future__ import annotations

import pytest

from inventory.db import Database
from inventory.tickets.rules import ticket_priority
from tests.conftest import token_for
from tests.factories import make_world, receive


@pytest.mark.parametrize(
    ("severity", "impact", "priority"),
    [
        ("critical", "site", 1),
        ("high", "classroom", 2),
        ("medium", "person", 3),
        ("low", "person", 4),
    ],
)
def test_priority_table(severity: str, impact: str, priority: int) -> None:
    assert ticket_priority(severity, impact) == priority


def test_unknown_severity_rejected() -> None:
    with pytest.raises(ValueError, match="'urgent'"):
        ticket_priority("urgent", "site")


async def test_ticket_lifecycle(client, db: Database) -> None:
    await make_world(db)
    await receive(db, "T100")
    opened = await client.post(
        "/api/v1/tickets",
        json={
            "site": "01M015",
            "problem": "Projector cart offline",
            "asset_tag": "T100",
            "severity": "high",
            "impact": "classroom",
        },
    )
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert ticket["priority"] == 2
    assert ticket["state"] == "open"
    assert ticket["asset_tag"] == "T100"

    assigned = await client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"technician": "000456"}
    )
    assert assigned.json()["technician"] == "000456"
    started = await client.post(
        f"/api/v1/tickets/{ticket['id']}/state", json={"state": "in_progress"}
    )
    assert started.json()["state"] == "in_progress"
    missing = await client.post(f"/api/v1/tickets/{ticket['id']}/state", json={"state": "resolved"})
    assert missing.status_code == 422
    assert "resolution" in missing.json()["detail"]
    resolved = await client.post(
        f"/api/v1/tickets/{ticket['id']}/state",
        json={"state": "resolved", "resolution": "Reseated the cable"},
    )
    assert resolved.json()["resolved_at"] is not None
    late = await client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"technician": "000123"}
    )
    assert late.status_code == 409


async def test_device_at_other_site_rejected(client, db: Database) -> None:
    await make_world(db)
    await receive(db, "T200", site="02M019")
    response = await client.post(
        "/api/v1/tickets", json={"site": "01M015", "problem": "x", "asset_tag": "T200"}
    )
    assert response.status_code == 404
    assert "T200" in response.json()["detail"]


async def test_tickets_sorted_and_scoped(client, db: Database) -> None:
    await make_world(db)
    for site, severity in (("01M015", "low"), ("02M019", "critical"), ("01M015", "high")):
        await client.post(
            "/api/v1/tickets",
            json={"site": site, "problem": "p", "severity": severity, "impact": "site"},
        )
    page = (await client.get("/api/v1/tickets", params={"limit": 2})).json()
    assert [item["priority"] for item in page["items"]] == [1, 1]
    rest = (await client.get("/api/v1/tickets", params={"cursor": page["next_cursor"]})).json()
    assert [item["priority"] for item in rest["items"]] == [3]

    token = await token_for(db, "ps15", "site", sites=["01M015"])
    headers = {"Authorization": f"Bearer {token}"}
    own = (await client.get("/api/v1/tickets", headers=headers)).json()
    assert {item["site"] for item in own["items"]} == {"01M015"}
    hidden = next(item for item in page["items"] if item["site"] == "02M019")
    assert (await client.get(f"/api/v1/tickets/{hidden['id']}", headers=headers)).status_code == 404
    elsewhere = await client.post(
        "/api/v1/tickets", json={"site": "02M019", "problem": "p"}, headers=headers
    )
    assert elsewhere.status_code == 404


async def test_device_problem_opens_ticket(client, db: Database) -> None:
    await make_world(db)
    await receive(db, "T300")
    token = await token_for(db, "ps15", "site", sites=["01M015"])
    headers = {"Authorization": f"Bearer {token}"}
    reported = await client.post(
        "/api/v1/devices/T300/actions",
        json={"action": "report_problem", "data": {"problem": "Cracked screen"}},
        headers=headers,
    )
    assert reported.status_code == 200, reported.text
    tickets = (await client.get("/api/v1/tickets", headers=headers)).json()["items"]
    assert [(t["asset_tag"], t["problem"], t["reported_by"]) for t in tickets] == [
        ("T300", "Cracked screen", "ps15")
    ]
