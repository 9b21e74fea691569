"""Rules for identifiers and free text. Pure: no I/O.

Asset tags, serial numbers, site codes and employee numbers are text, matched exactly after
trimming and Unicode NFKC normalization, so a fullwidth letter typed on a phone matches the
printed label and leading zeros are kept.
"""

from __future__ import annotations

import unicodedata

MAX_IDENTIFIER_LENGTH = 64
MAX_TEXT_LENGTH = 2000

# Characters no identifier may contain: they would break the /a/{asset_tag} address.
_URL_BREAKING = set("/\\?#%")
# Line breaks and tabs are kept in free text such as notes; other control characters are not.
_TEXT_WHITESPACE = {"\n", "\r", "\t"}


def _invisible(char: str) -> bool:
    # Cc: control characters (C0 and C1), Cf: format characters such as zero-width space
    # and direction overrides, Zl/Zp: line and paragraph separators, Cs: lone surrogates.
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs")


def normalize_identifier(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def identifier_problem(value: str) -> str | None:
    """Return what makes a normalized identifier invalid, or None when it is valid."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_IDENTIFIER_LENGTH:
        return f"is longer than {MAX_IDENTIFIER_LENGTH} characters"
    bad = sorted({char for char in value if char in _URL_BREAKING or _invisible(char)})
    if bad:
        shown = ", ".join(f"U+{ord(char):04X}" if _invisible(char) else repr(char) for char in bad)
        return f"contains {shown}; identifiers may not contain / \\ ? # % or invisible characters"
    return None


def text_problem(value: str, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """Return what makes free text invalid, or None when it is valid."""
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    bad = sorted({char for char in value if _invisible(char) and char not in _TEXT_WHITESPACE})
    if bad:
        shown = ", ".join(f"U+{ord(char):04X}" for char in bad)
        return f"contains the control or invisible characters {shown}"
    return None
