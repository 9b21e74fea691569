"""Users, their sites, API tokens, web sessions and failed logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from inventory.types import BigIntId, UTCDateTime, utc_now


class User(SQLModel, table=True):
    """A person or system that signs in. Each user has exactly one role."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    # Lower case, trimmed; matched exactly.
    username: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    # admin, technician, site or vendor (see inventory.accounts.principal.Role).
    role: str = Field(sa_column=Column(Text, nullable=False))
    technician_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=True, unique=True),
    )
    vendor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("vendors.id"), nullable=True)
    )
    # Argon2id hash; null for a user who only uses API tokens.
    password_hash: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    active: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    last_login_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )


class UserSite(SQLModel, table=True):
    """A site a `site` user may read."""

    __tablename__ = "user_sites"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True))


class ApiToken(SQLModel, table=True):
    """A bearer token for the API. Only a hash of the token is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(sa_column=Column(Text, nullable=False))
    # SHA-256 of the token, hex. The token has 256 random bits, so a plain hash suffices.
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    # The first characters of the token, shown in lists so people can tell tokens apart.
    token_prefix: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie contains a random value and this row its hash."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user_id", "user_id"),)

    id: str = Field(sa_column=Column(Text, primary_key=True))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    last_seen_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, counted per username and per client address for throttling."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "attempted_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    # "user:<username>" or "addr:<client address>".
    key: str = Field(sa_column=Column(Text, nullable=False))
    attempted_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
