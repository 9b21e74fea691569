"""Settings read from ``INVENTORY_*`` environment variables."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "inventory.sqlite3"

# Placeholder secrets that a production deployment must not start with.
_PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "development"}


class Settings(BaseSettings):
    """Service settings; every field is read from ``INVENTORY_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        default="development",
        description="Deployment mode: development, test or production. Production requires a "
        "real secret key.",
    )
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL: sqlite+aiosqlite:///PATH or "
        "postgresql+asyncpg://USER@HOST:PORT/DATABASE.",
    )
    base_url: str = Field(
        default="",
        description="Public address of the service, such as https://assets.district.org. QR "
        "labels and links are built from it, never from the host a request came in on. "
        "Default: http://HOST:PORT from INVENTORY_HOST and INVENTORY_PORT.",
    )
    secret_key: str = Field(
        default="development",
        description="Key for signing sessions and tokens. Required in production.",
        repr=False,
    )
    timezone: str = Field(
        default="America/Los_Angeles",
        description="IANA time zone in which instants are shown. Instants are stored in UTC.",
    )
    host: str = Field(default="127.0.0.1", description="Address that `inventory serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port of `inventory serve`.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written to the log."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="Log line format. `auto` writes JSON lines when standard error is not a "
        "terminal and readable lines when it is.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="Milliseconds an SQLite connection waits for another writer before failing.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections kept open per worker for transactions, and the "
        "most a worker opens for the reads every request makes (on SQLite always 1).",
    )
    max_body_kb: int = Field(
        default=1024,
        ge=1,
        description="Largest request body in KiB that a route accepts, unless the route sets "
        "its own limit (the vendor reply upload does). Larger bodies get 413.",
    )
    page_size_max: int = Field(
        default=500, ge=1, description="Largest page a list request may ask for."
    )

    import_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="Largest file, in bytes, that the import upload page and API accept; a "
        "larger one gets 413. The `inventory import` command has no limit.",
    )

    session_idle_minutes: int = Field(
        default=480,
        ge=1,
        description="Minutes without a request after which a web sign-in ends.",
    )
    session_max_hours: int = Field(
        default=12,
        ge=1,
        description="Hours after signing in at which a web sign-in ends, however active.",
    )
    token_default_days: int = Field(
        default=90, ge=1, description="Days an API token lasts when created without --expires-days."
    )
    login_max_failures_per_user: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins for one username within the window before it is throttled.",
    )
    login_max_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one client address within the window before it is "
        "throttled.",
    )
    login_window_minutes: int = Field(
        default=15, ge=1, description="Minutes over which failed sign-ins are counted."
    )

    salvage_end_of_support_months: int = Field(
        default=6,
        ge=0,
        description="Salvage assessment: a device whose end of support has passed or comes "
        "within this many months is not recommended for reuse.",
    )
    salvage_max_age_months: int = Field(
        default=60,
        ge=1,
        description="Salvage assessment: a device older than this many months since purchase is "
        "not recommended for reuse.",
    )
    salvage_repair_cost_ratio_max: Decimal = Field(
        default=Decimal("0.5"),
        ge=0,
        description="Salvage assessment: a repair that costs more than this share of a "
        "replacement (0.5 = half) is not recommended, unless a warranty covers the device.",
    )
    salvage_battery_health_min: int = Field(
        default=60,
        ge=0,
        le=100,
        description="Salvage assessment: a battery below this percent of its design capacity "
        "rules out reuse.",
    )
    salvage_reuse_grades: str = Field(
        default="A,B",
        description="Salvage assessment: condition grades (A best to D worst, comma-separated) "
        "that allow reuse.",
    )
    salvage_harvest_grades: str = Field(
        default="A,B,C",
        description="Salvage assessment: condition grades whose parts are worth harvesting "
        "when reuse is ruled out; other grades are recommended for recycling.",
    )
    salvage_types_without_storage: str = Field(
        default="monitor,projector,docking_station",
        description="Device types (comma-separated) that hold no user data, so they need no "
        "data sanitization record before harvest or recycling.",
    )

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if value == "":
            return value
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"INVENTORY_BASE_URL must start with http:// or https://, not {value!r}"
            )
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"INVENTORY_TIMEZONE {value!r} is not an IANA time zone name") from exc
        return value

    @field_validator("salvage_reuse_grades", "salvage_harvest_grades")
    @classmethod
    def _known_grades(cls, value: str) -> str:
        grades = {part.strip().upper() for part in value.split(",") if part.strip()}
        unknown = sorted(grades - {"A", "B", "C", "D"})
        if unknown:
            raise ValueError(
                f"unknown condition grades {', '.join(unknown)}; use some of A, B, C, D"
            )
        return value

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        return self

    @model_validator(mode="after")
    def _secret_outside_development(self) -> Settings:
        if self.environment == "production" and self.secret_key.strip() in _PLACEHOLDER_SECRETS:
            raise ValueError(
                "INVENTORY_SECRET_KEY is missing or a placeholder; set it to a long random "
                "value (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry the Secure flag: when the service is reached over HTTPS."""
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read once from the environment."""
    return Settings()
