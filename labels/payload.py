"""The URL that a label's QR code carries, and the checks on the asset tag it is built from."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from labels.errors import LabelError

# Characters the service never allows in an asset tag: they would break the /a/{asset_tag}
# path or a CSV cell. Control characters are rejected too.
_FORBIDDEN_IN_TAG = frozenset("/\\?#%") | {chr(code) for code in range(32)} | {"\x7f"}


@dataclass(frozen=True)
class LabelSpec:
    """Content of one label: the asset tag, and optionally a site code and a line of text."""

    asset_tag: str
    site_code: str | None = None
    text: str | None = None


def validate_asset_tag(asset_tag: object) -> str:
    """Return the tag unchanged, or raise LabelError if it cannot be printed or addressed.

    The rules follow the service's identifiers: a non-empty string without surrounding
    whitespace and without / \\ ? # % or control characters. "." and ".." are rejected too,
    because a browser resolves them as relative path segments instead of sending them.
    """
    if not isinstance(asset_tag, str):
        raise LabelError(f"asset tag must be a string, not {type(asset_tag).__name__}")
    if not asset_tag.strip():
        raise LabelError(f"asset tag {asset_tag!r} is empty; give the device's asset tag")
    if asset_tag != asset_tag.strip():
        raise LabelError(
            f"asset tag {asset_tag!r} has leading or trailing whitespace; pass the stored tag, "
            "which the service keeps trimmed"
        )
    forbidden = sorted({char for char in asset_tag if char in _FORBIDDEN_IN_TAG})
    if forbidden:
        listed = ", ".join(repr(char) for char in forbidden)
        raise LabelError(
            f"asset tag {asset_tag!r} contains {listed}; asset tags may not contain "
            "/ \\ ? # % or control characters"
        )
    if asset_tag in {".", ".."}:
        raise LabelError(f"asset tag {asset_tag!r} cannot be a URL path segment")
    return asset_tag


def validate_base_url(base_url: object) -> str:
    """Return the base URL without a trailing slash, or raise LabelError if it is not usable.

    It must be an absolute http or https URL with a host, and no query or fragment, because the
    asset path is appended to it.
    """
    if not isinstance(base_url, str):
        raise LabelError(f"base URL must be a string, not {type(base_url).__name__}")
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise LabelError(
            f"base URL {base_url!r} is not an absolute http:// or https:// URL; pass the "
            "service's INVENTORY_BASE_URL, for example https://inventory.example.org"
        )
    if parts.query or parts.fragment:
        raise LabelError(
            f"base URL {base_url!r} has a query or fragment; the asset path is appended to it, "
            "so give only scheme, host and an optional path prefix"
        )
    return base_url.rstrip("/")


def build_payload(base_url: str, asset_tag: str) -> str:
    """Build the QR payload ``{base_url}/a/{asset_tag}`` with the tag as one encoded segment.

    The tag is UTF-8 percent-encoded with no character left as-is except the RFC 3986
    unreserved ones (letters, digits, ``-._~``), so ``A 7`` becomes ``A%207`` and ``É1``
    becomes ``%C3%891``. `base_url` is the service's configured public address, never the host
    of the request that asked for the label.
    """
    return f"{validate_base_url(base_url)}/a/{quote(validate_asset_tag(asset_tag), safe='')}"
