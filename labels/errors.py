"""Errors raised for invalid input, and the warnings a render returns for single labels."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LabelError(ValueError):
    """Invalid input to the label functions: the message names the value and the fix."""


class UnknownTemplateError(LabelError, LookupError):
    """No template has the requested name."""


class TemplateError(LabelError):
    """A template file is malformed or describes a layout that does not fit its page."""


class WarningCode(StrEnum):
    """Kinds of problems that leave a label printed but incomplete or hard to read."""

    BARCODE_UNENCODABLE = "barcode_unencodable"
    BARCODE_TOO_LONG = "barcode_too_long"
    TAG_TRUNCATED = "tag_truncated"
    DETAIL_TRUNCATED = "detail_truncated"
    MISSING_GLYPHS = "missing_glyphs"
    QR_MODULES_SMALL = "qr_modules_small"


@dataclass(frozen=True)
class LabelWarning:
    """A problem with one label that did not stop it from being rendered.

    `index` is the label's position in the sequence passed to the renderer (0 for a single
    label), so a caller can match the warning to its input even when two tags are equal.
    """

    index: int
    asset_tag: str
    code: WarningCode
    message: str

    def __str__(self) -> str:
        return f"label {self.index + 1} ({self.asset_tag!r}): {self.message}"
