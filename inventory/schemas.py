"""Request and response shapes shared by every domain: identifiers, dates, pages."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from inventory.errors import InvalidInputError

T = TypeVar("T")

# Characters an identifier may not hold: they would break the /a/{asset_tag} address or a
# CSV cell, and no real asset tag, serial number or code uses them.
_FORBIDDEN_IN_IDENTIFIER = set("/\\?#%") | {chr(code) for code in range(32)} | {"\x7f"}


def _check_identifier(value: str) -> str:
    bad = sorted({char for char in value if char in _FORBIDDEN_IN_IDENTIFIER})
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        raise ValueError(f"{value!r} contains {shown}; identifiers may not contain / \\ ? # %")
    return value


# Asset tags, serial numbers, site codes, employee numbers: text, trimmed, leading zeros kept.
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_check_identifier),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class Schema(BaseModel):
    """Base of request shapes: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the cursor of the next page (null on the last page)."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last."
    )
    limit: int


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Decode a cursor made by encode_cursor; raise InvalidInputError naming it otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, dict) or set(values) != set(keys):
        raise InvalidInputError(
            f"Invalid cursor {cursor!r}; use the next_cursor value of the previous page.",
            cursor=cursor,
        )
    return values


def check_limit(limit: int, maximum: int) -> int:
    if limit < 1 or limit > maximum:
        raise InvalidInputError(
            f"limit {limit} is out of range; use a value from 1 to {maximum}.", limit=limit
        )
    return limit
