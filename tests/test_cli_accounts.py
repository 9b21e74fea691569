"""The `inventory users`, `inventory tokens` and demo-user commands."""

from __future__ import annotations

import pytest

from tests.factories import make_world, run_cli


def _run(database_url: str, *args: str, stdin: str = "", environment: str = "test"):
    return run_cli(database_url, *args, stdin=stdin, environment=environment)


async def test_users_create_and_list(db, database_url: str) -> None:
    await make_world(db)
    created = _run(
        database_url,
        "users",
        "create",
        "Ana",
        "--role",
        "technician",
        "--technician",
        "000123",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Created user ana (technician)." in created.stdout
    site_user = _run(
        database_url,
        "users",
        "create",
        "ps15",
        "--role",
        "site",
        "--site",
        "01M015",
        "--site",
        "02M019",
        "--password-stdin",
        stdin="another long password\n",
    )
    assert site_user.returncode == 0, site_user.stderr
    listed = _run(database_url, "users", "list")
    assert "ana" in listed.stdout
    assert "000123" in listed.stdout
    assert "01M015, 02M019" in listed.stdout
    assert "a long enough password" not in listed.stdout + listed.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "technician"), "--technician"),
        (("--role", "site"), "--site"),
        (("--role", "vendor", "--vendor", "nope"), "Vendor 'nope' not found"),
        (("--role", "admin", "--site", "01M015"), "site users only"),
        (("--role", "technician", "--technician", "999"), "Technician '999' not found"),
    ],
)
async def test_users_create_rejects_bad_scope(db, database_url: str, args, message) -> None:
    await make_world(db)
    result = _run(
        database_url,
        "users",
        "create",
        "x",
        *args,
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "x " not in _run(database_url, "users", "list").stdout


async def test_short_password_rejected(db, database_url: str) -> None:
    result = _run(
        database_url,
        "users",
        "create",
        "boss",
        "--role",
        "admin",
        "--password-stdin",
        stdin="short\n",
    )
    assert result.returncode != 0
    assert "at least 10 characters" in result.stderr


async def test_tokens_create_list_revoke(db, database_url: str, client) -> None:
    _run(database_url, "users", "create", "robot", "--role", "admin", "--no-password")
    created = _run(
        database_url, "tokens", "create", "robot", "--name", "inventory-sync", "--expires-days", "7"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("inv_")
    assert "shown only now" in created.stderr
    response = await client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200

    listed = _run(database_url, "tokens", "list", "robot")
    assert "inventory-sync" in listed.stdout
    assert token not in listed.stdout
    token_id = listed.stdout.split()[0]
    revoked = _run(database_url, "tokens", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    response = await client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    missing = _run(database_url, "tokens", "revoke", "99999")
    assert missing.returncode != 0
    assert "99999" in missing.stderr


@pytest.mark.parametrize(("environment", "shown"), [("development", True), ("production", False)])
async def test_demo_users_passwords_only_in_development(
    database_url: str, environment: str, shown: bool, monkeypatch
) -> None:
    monkeypatch.setenv("INVENTORY_SECRET_KEY", "a-production-secret-for-this-test-only")
    result = _run(
        database_url, "demo", "load", "--devices-per-student", "0.0005", environment=environment
    )
    assert result.returncode == 0, result.stderr
    for username in ("it-office", "tech", "site", "vendor"):
        assert username in result.stdout
    assert ("Demo users (sign in" in result.stdout) is shown
    assert ("shown only in development" in result.stdout) is not shown
    listed = _run(database_url, "users", "list")
    assert "technician" in listed.stdout


async def test_deactivated_user_loses_access(db, database_url: str, client) -> None:
    _run(database_url, "users", "create", "temp", "--role", "admin", "--no-password")
    token = _run(database_url, "tokens", "create", "temp").stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/sites", headers=headers)).status_code == 200
    result = _run(database_url, "users", "deactivate", "temp")
    assert result.returncode == 0, result.stderr
    assert (await client.get("/api/v1/sites", headers=headers)).status_code == 401
    assert "no " in _run(database_url, "users", "list").stdout
    _run(database_url, "users", "activate", "temp")
    assert (await client.get("/api/v1/sites", headers=headers)).status_code == 200
    missing = _run(database_url, "users", "deactivate", "nobody")
    assert missing.returncode != 0
    assert "nobody" in missing.stderr
