"""Users, API tokens, web sessions and sign-in throttling."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.models import ApiToken, LoginFailure, User, UserSite, WebSession
from inventory.accounts.passwords import check_password_strength, hash_password, verify_password
from inventory.accounts.principal import Principal, Role
from inventory.db import Database
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.types import utc_now
from inventory.vendors.models import Vendor

log = logging.getLogger(__name__)

TOKEN_PREFIX = "inv_"  # noqa: S105 (a marker that makes tokens easy to find in leaked text)
# A token's last use is written at most this often, so reads do not all become writes.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


class LoginFailedError(Exception):
    """Wrong username or password. The message does not reveal which of the two."""


class LoginThrottledError(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        minutes = math.ceil(retry_after_seconds / 60)
        wait = "a minute" if minutes <= 1 else f"{minutes} minutes"
        super().__init__(f"Too many failed sign-ins; try again in {wait}.")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str
    active: bool
    technician: str | None
    vendor: str | None
    sites: list[str]
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class TokenInfo:
    id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalize_username(username: str) -> str:
    return username.strip().lower()


async def create_user(
    db: Database,
    username: str,
    role: str,
    password: str | None,
    *,
    technician: str | None = None,
    sites: list[str] | None = None,
    vendor: str | None = None,
) -> UserInfo:
    """Create a user with one role and its scope; raise InvalidInputError naming what is wrong."""
    name = normalize_username(username)
    if not name or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise InvalidInputError(
            f"Invalid username {username!r}: use letters, digits, dots, dashes or underscores."
        )
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise InvalidInputError(
            f"Unknown role {role!r}; use one of {', '.join(Role)}.", role=role
        ) from exc
    sites = [code.strip() for code in sites or [] if code.strip()]
    if role_value is Role.TECHNICIAN and not technician:
        raise InvalidInputError("A technician user needs --technician EMPLOYEE_NUMBER.")
    if role_value is Role.SITE and not sites:
        raise InvalidInputError("A site user needs at least one --site CODE.")
    if role_value is Role.VENDOR and not vendor:
        raise InvalidInputError("A vendor user needs --vendor CODE.")
    if role_value is not Role.TECHNICIAN and technician:
        raise InvalidInputError("--technician applies to technician users only.")
    if role_value is not Role.SITE and sites:
        raise InvalidInputError("--site applies to site users only.")
    if role_value is not Role.VENDOR and vendor:
        raise InvalidInputError("--vendor applies to vendor users only.")
    if password is not None:
        problem = check_password_strength(password)
        if problem:
            raise InvalidInputError(problem)

    async with db.write() as session:
        if await session.scalar(select(User.id).where(User.username == name)):
            raise ConflictError(f"User {name!r} already exists.", username=name)
        user = User(
            username=name,
            role=role_value.value,
            password_hash=hash_password(password) if password is not None else None,
        )
        if technician:
            record = await session.scalar(
                select(Technician).where(Technician.employee_number == technician.strip())
            )
            if record is None:
                raise InvalidInputError(f"Technician {technician.strip()!r} not found.")
            linked_user = await session.scalar(
                select(User.username).where(User.technician_id == record.id)
            )
            if linked_user:
                raise ConflictError(
                    f"Technician {record.employee_number!r} is already linked to user "
                    f"{linked_user!r}."
                )
            user.technician_id = record.id
        if vendor:
            vendor_id = await session.scalar(select(Vendor.id).where(Vendor.code == vendor.strip()))
            if vendor_id is None:
                raise InvalidInputError(f"Vendor {vendor.strip()!r} not found.")
            user.vendor_id = vendor_id
        session.add(user)
        await session.flush()
        for code in sites:
            site_id = await session.scalar(select(Site.id).where(Site.code == code))
            if site_id is None:
                raise InvalidInputError(f"Site {code!r} not found.")
            session.add(UserSite(user_id=user.id or 0, site_id=site_id))
    log.info("user created", extra={"username": name, "role": role_value.value})
    return (await list_users(db, username=name))[0]


async def set_password(db: Database, username: str, password: str) -> None:
    """Replace a user's password and end the user's web sessions."""
    problem = check_password_strength(password)
    if problem:
        raise InvalidInputError(problem)
    name = normalize_username(username)
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.username == name))
        if user is None:
            raise NotFoundError(f"User {name!r} not found.")
        user.password_hash = hash_password(password)
        await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    log.info("password changed", extra={"username": name})


async def set_active(db: Database, username: str, *, active: bool) -> None:
    """Turn a user's access off or on; turning it off also ends the user's web sessions.

    An inactive user's API tokens are refused while the user stays inactive.
    """
    name = normalize_username(username)
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.username == name))
        if user is None:
            raise NotFoundError(f"User {name!r} not found.")
        user.active = active
        if not active:
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    log.info("user access changed", extra={"username": name, "active": active})


async def list_users(db: Database, *, username: str | None = None) -> list[UserInfo]:
    query = (
        select(User, Technician.employee_number, Vendor.code)
        .outerjoin(Technician, Technician.id == User.technician_id)
        .outerjoin(Vendor, Vendor.id == User.vendor_id)
        .order_by(User.username)
    )
    if username is not None:
        query = query.where(User.username == normalize_username(username))
    async with db.read() as session:
        rows = list(await session.execute(query))
        site_rows = await session.execute(
            select(UserSite.user_id, Site.code).join(Site, Site.id == UserSite.site_id)
        )
        sites: dict[int, list[str]] = {}
        for user_id, code in site_rows:
            sites.setdefault(user_id, []).append(code)
    return [
        UserInfo(
            id=user.id,
            username=user.username,
            role=user.role,
            active=user.active,
            technician=number,
            vendor=vendor_code,
            sites=sorted(sites.get(user.id, [])),
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )
        for user, number, vendor_code in rows
    ]


# The user's columns a Principal needs, with the linked technician's employee number.
_PRINCIPAL_COLUMNS = (
    User.id,
    User.username,
    User.role,
    User.active,
    User.technician_id,
    User.vendor_id,
    Technician.employee_number,
)


def _principal_query(credential: Any, *columns: Any) -> Select:
    """Select a credential's `columns` with its user's, in one statement per request."""
    return (
        select(*columns, *_PRINCIPAL_COLUMNS)
        .select_from(credential)
        .join(User, User.id == credential.user_id)
        .outerjoin(Technician, Technician.id == User.technician_id)
    )


# Built once, so that SQLAlchemy reuses their compiled form on every request.
_BY_TOKEN = _principal_query(
    ApiToken,
    ApiToken.id.label("token_id"),
    ApiToken.revoked_at,
    ApiToken.expires_at,
    ApiToken.last_used_at,
).where(ApiToken.token_hash == bindparam("digest"))
_BY_SESSION = _principal_query(
    WebSession,
    WebSession.id.label("session_id"),
    WebSession.expires_at,
    WebSession.last_seen_at,
).where(WebSession.id == bindparam("digest"))
_SITES_OF_USER = select(UserSite.site_id).where(UserSite.user_id == bindparam("user_id"))


async def _principal(db: Database, row: Any) -> Principal:
    role = Role(row.role)
    site_ids: frozenset[int] = frozenset()
    if role is Role.SITE:
        # Only site users are limited to their sites; the others have no site rows.
        site_ids = frozenset(
            site_id for (site_id,) in await db.fetch(_SITES_OF_USER, user_id=row.id)
        )
    return Principal(
        user_id=row.id,
        username=row.username,
        role=role,
        technician_id=row.technician_id,
        technician_number=row.employee_number,
        vendor_id=row.vendor_id,
        site_ids=site_ids,
    )


async def create_token(
    db: Database, username: str, *, name: str = "api", expires_days: int | None = None
) -> tuple[str, TokenInfo]:
    """Create an API token and return it in clear, the only time it is ever available."""
    days = expires_days if expires_days is not None else db.settings.token_default_days
    if days < 1 or days > 3660:
        raise InvalidInputError(f"expires_days {days} is out of range; use 1 to 3660.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utc_now()
    async with db.write() as session:
        user = await session.scalar(
            select(User).where(User.username == normalize_username(username))
        )
        if user is None:
            raise NotFoundError(f"User {normalize_username(username)!r} not found.")
        row = ApiToken(
            user_id=user.id or 0,
            name=name.strip() or "api",
            token_hash=_digest(token),
            token_prefix=token[: len(TOKEN_PREFIX) + 6],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        session.add(row)
        await session.flush()
    log.info("token created", extra={"username": user.username, "token_id": row.id})
    return token, _token_info(row, user.username)


def _token_info(row: ApiToken, username: str) -> TokenInfo:
    return TokenInfo(
        id=row.id or 0,
        username=username,
        name=row.name,
        prefix=row.token_prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


async def list_tokens(db: Database, username: str | None = None) -> list[TokenInfo]:
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if username:
        query = query.where(User.username == normalize_username(username))
    async with db.read() as session:
        rows = await session.execute(query.order_by(ApiToken.id))
        return [_token_info(row, name) for row, name in rows]


async def revoke_token(db: Database, token_id: int) -> TokenInfo:
    async with db.write() as session:
        row = await session.get(ApiToken, token_id)
        if row is None:
            raise NotFoundError(f"Token {token_id} not found; `inventory tokens list` shows ids.")
        if row.revoked_at is None:
            row.revoked_at = utc_now()
        username = await session.scalar(select(User.username).where(User.id == row.user_id))
    log.info("token revoked", extra={"token_id": token_id})
    return _token_info(row, username or "")


async def principal_for_token(db: Database, token: str) -> Principal | None:
    """Return the user a bearer token acts for, or None when it is unknown, expired or revoked."""
    now = utc_now()
    rows = await db.fetch(_BY_TOKEN, digest=_digest(token))
    if not rows:
        return None
    found = rows[0]
    if found.revoked_at is not None or found.expires_at <= now or not found.active:
        return None
    principal = await _principal(db, found)
    if found.last_used_at is None or now - found.last_used_at > _LAST_USED_RESOLUTION:
        async with db.write() as session:
            await session.execute(
                update(ApiToken).where(ApiToken.id == found.token_id).values(last_used_at=now)
            )
    return principal


async def _lock_keys(session: AsyncSession, keys: list[str]) -> None:
    """Serialize sign-in attempts on the same keys, so parallel guesses are all counted.

    On PostgreSQL a transaction-scoped advisory lock per key does it; on SQLite the write
    transaction itself (BEGIN IMMEDIATE) already runs alone.
    """
    if session.bind.dialect.name != "postgresql":
        return
    for key in sorted(keys):
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


async def _record_attempt(db: Database, keys: dict[str, int]) -> list[int]:
    """Count recent failures per key and record this attempt as one, atomically.

    Raises LoginThrottledError, recording nothing, when a key already reached its limit.
    Returns the ids of the recorded rows, which a successful sign-in removes again.
    """
    window = timedelta(minutes=db.settings.login_window_minutes)
    async with db.write() as session:
        await _lock_keys(session, list(keys))
        now = utc_now()
        # Failures older than the window no longer count; drop them as they pass.
        await session.execute(delete(LoginFailure).where(LoginFailure.attempted_at <= now - window))
        for key, limit in keys.items():
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(LoginFailure.attempted_at)).where(
                        LoginFailure.key == key, LoginFailure.attempted_at > now - window
                    )
                )
            ).one()
            if count >= limit and oldest is not None:
                retry = math.ceil((oldest + window - now).total_seconds())
                raise LoginThrottledError(max(retry, 1))
        rows = [LoginFailure(key=key, attempted_at=now) for key in keys]
        session.add_all(rows)
        await session.flush()
        return [row.id or 0 for row in rows]


# Maximum lengths of a sign-in's username and password. Longer values are not looked up.
MAX_USERNAME_LENGTH = 150
MAX_PASSWORD_LENGTH = 1024


async def login(db: Database, username: str, password: str, address: str) -> str:
    """Check a password and open a web session; return the session cookie's value.

    Raises LoginThrottledError after too many failures for the username or the address,
    and LoginFailedError for a wrong password and an unknown user alike. Each attempt is
    recorded as a failure before the password is checked and removed after a success.
    """
    name = normalize_username(username)[:MAX_USERNAME_LENGTH]
    keys = {
        f"user:{name}": db.settings.login_max_failures_per_user,
        f"addr:{address[:100]}": db.settings.login_max_failures_per_address,
    }
    attempt_ids = await _record_attempt(db, keys)
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.username == name))
    # Argon2 takes tens of milliseconds of CPU; a thread keeps other requests moving.
    valid = await asyncio.to_thread(
        verify_password,
        user.password_hash if user else None,
        password[:MAX_PASSWORD_LENGTH],
    )
    if user is None or not valid or not user.active or len(password) > MAX_PASSWORD_LENGTH:
        log.warning("sign-in failed", extra={"username": name[:64], "address": address[:100]})
        raise LoginFailedError("Wrong username or password.")

    cookie = secrets.token_urlsafe(32)
    now = utc_now()
    async with db.write() as session:
        session.add(
            WebSession(
                id=_digest(cookie),
                user_id=user.id or 0,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=db.settings.session_max_hours),
            )
        )
        await session.execute(
            delete(LoginFailure).where(
                (LoginFailure.key == f"user:{name}") | LoginFailure.id.in_(attempt_ids)
            )
        )
        await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        await session.execute(update(User).where(User.id == user.id).values(last_login_at=now))
    log.info("signed in", extra={"username": name})
    return cookie


async def principal_for_session(db: Database, cookie: str) -> Principal | None:
    """Return the signed-in user of a session cookie, or None when the session ended."""
    now = utc_now()
    idle = timedelta(minutes=db.settings.session_idle_minutes)
    rows = await db.fetch(_BY_SESSION, digest=_digest(cookie))
    if not rows:
        return None
    found = rows[0]
    if found.expires_at <= now or found.last_seen_at + idle <= now or not found.active:
        return None
    principal = await _principal(db, found)
    if now - found.last_seen_at > timedelta(minutes=1):
        async with db.write() as session:
            await session.execute(
                update(WebSession).where(WebSession.id == found.session_id).values(last_seen_at=now)
            )
    return principal


async def logout(db: Database, cookie: str) -> None:
    async with db.write() as session:
        await session.execute(delete(WebSession).where(WebSession.id == _digest(cookie)))
