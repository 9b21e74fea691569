"""Ids too large for the database's integers get 404, not a 500."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.factories import make_world

HUGE = "352240519848819294208"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/recycling/batches/{HUGE}",
        f"/api/v1/tickets/{HUGE}",
        "/api/v1/tickets/3175459871153328640",
        f"/api/v1/batches/{HUGE}",
        f"/api/v1/escalations/{HUGE}",
    ],
)
async def test_huge_id_is_not_found(client: AsyncTestClient, db, path: str) -> None:
    await make_world(db)
    response = await client.get(path)
    assert response.status_code == 404, response.text
    assert "not found" in response.json()["detail"]
