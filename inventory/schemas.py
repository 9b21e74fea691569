"""Request and response shapes shared by every domain: identifiers, dates, pages."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from litestar import MediaType, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from inventory.errors import InvalidInputError
from inventory.identifiers import (
    MAX_IDENTIFIER_LENGTH,
    MAX_TEXT_LENGTH,
    identifier_problem,
    normalize_identifier,
    text_problem,
)

T = TypeVar("T")


def _normalize(value: object) -> object:
    return normalize_identifier(value) if isinstance(value, str) else value


def _check_identifier(value: str) -> str:
    problem = identifier_problem(value)
    if problem:
        raise ValueError(f"{value!r} {problem}")
    return value


def _check_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Asset tags, serial numbers, site codes, employee numbers: text, trimmed, NFKC-normalized,
# leading zeros kept.
Identifier = Annotated[
    str,
    BeforeValidator(_normalize),
    StringConstraints(min_length=1, max_length=MAX_IDENTIFIER_LENGTH),
    AfterValidator(_check_identifier),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_check_text),
]
OptionalText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT_LENGTH),
    AfterValidator(_check_text),
]
# Row ids and similar integers that must fit a 32-bit signed column.
DatabaseInt = Annotated[int, Field(ge=1, le=2**31 - 1)]


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


def json_response(model: BaseModel, status_code: int = 200) -> Response[Any]:
    """Return `model` as a JSON response, encoded by pydantic in one call.

    The same JSON as returning the model from a handler, where Litestar turns it into Python
    values first and then encodes those.
    """
    return Response(
        model.__pydantic_serializer__.to_json(model),
        media_type=MediaType.JSON,
        status_code=status_code,
    )


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: dict[str, type]) -> dict[str, Any]:
    """Decode a cursor made by encode_cursor, checking each value's type.

    Raises InvalidInputError naming the cursor when it was not made by encode_cursor.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    valid = (
        isinstance(values, dict)
        and set(values) == set(keys)
        and all(
            type(values[name]) is kind
            and (kind is not int or 0 <= values[name] < 2**63)
            and (kind is not str or len(values[name]) <= 1000)
            for name, kind in keys.items()
        )
    )
    if not valid:
        raise InvalidInputError(
            f"Invalid cursor {cursor[:100]!r}; use the next_cursor value of the previous page.",
            cursor=cursor[:100],
        )
    return values


def check_limit(limit: int, maximum: int) -> int:
    if limit < 1 or limit > maximum:
        raise InvalidInputError(
            f"limit {limit} is out of range; use a value from 1 to {maximum}.", limit=limit
        )
    return limit
