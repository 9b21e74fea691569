"""Rules for the values of an imported row. Pure: no I/O.

Each parser returns the value or raises ValueProblem with a message that names the value and
what to do. Nothing is guessed: an ambiguous or unreadable date, an identifier that a
spreadsheet has turned into a number in scientific notation, or money in an unknown form is
an error on that row, never a default.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from inventory.escalations.exports import restore
from inventory.identifiers import (
    MAX_IDENTIFIER_LENGTH,
    identifier_problem,
    normalize_identifier,
    text_problem,
)
from inventory.imports.reading import Cell


class ValueProblem(ValueError):
    """A value of one row that cannot be imported; the message states why and what to do."""


_URL_BREAKING = re.compile(r"[/\\?#%]")
# Excel's display of a long number it has rounded, such as 6.37702E+15.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_MONEY = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?$")
# Excel keeps 15 significant digits, so a number of 16 or more digits in a workbook has
# been rounded.
_EXACT_INTEGER_LIMIT = 10**15


def text(cell: Cell) -> str:
    """Return a cell as trimmed text, with the quote mark an export adds before formulas undone."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return restore(str(cell).strip())


def identifier(cell: Cell, name: str) -> str:
    """Return an asset tag, serial number or code as text, leading zeros kept."""
    if type(cell) is str and cell.isascii():
        # NFKC leaves ASCII text unchanged, so normalize_identifier would only trim it.
        value = restore(cell.strip()).strip()
    else:
        value = _identifier_text(cell, name)
    if _SCIENTIFIC.match(value):
        raise ValueProblem(
            f"{name} {value!r} is in scientific notation: the spreadsheet rounded the real "
            "value. Format the column as text, type the value again and re-export."
        )
    if value and not _plain_identifier(value):
        problem = identifier_problem(value)
        if problem:
            raise ValueProblem(f"{name} {value!r} {problem}.")
    return value


def _identifier_text(cell: Cell, name: str) -> str:
    if isinstance(cell, bool):
        raise ValueProblem(
            f"{name} is {str(cell).upper()} in the workbook, a true-or-false cell; type the "
            "value as text."
        )
    if isinstance(cell, float) and not cell.is_integer():
        raise ValueProblem(
            f"{name} {cell!r} is a number with decimals in the workbook; format the column as "
            "text and type the value again."
        )
    if isinstance(cell, int | float) and abs(cell) >= _EXACT_INTEGER_LIMIT:
        raise ValueProblem(
            f"{name} {cell!r} is stored as a number too large to be exact; format the column "
            "as text and type the value again."
        )
    return normalize_identifier(text(cell))


def _plain_identifier(value: str) -> bool:
    # The common case decided without a look at each character's Unicode category: printable
    # ASCII without the characters that break an /a/{asset_tag} address.
    return (
        value.isascii()
        and value.isprintable()
        and len(value) <= MAX_IDENTIFIER_LENGTH
        and not _URL_BREAKING.search(value)
    )


def free_text(cell: Cell, name: str, max_length: int = 2000) -> str | None:
    value = restore(cell.strip()) if type(cell) is str else text(cell)
    if not value:
        return None
    if value.isascii() and value.isprintable() and len(value) <= max_length:
        return value
    problem = text_problem(value, max_length)
    if problem:
        raise ValueProblem(f"{name} {value[:40]!r} {problem}.")
    return value


# C0 and C1 control characters, which public files sometimes carry in place of a dash.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def name_text(cell: Cell, name: str) -> tuple[str | None, str | None]:
    """Return a name with runs of spaces made one, and a notice when control characters
    were replaced by spaces; ValueProblem for other invisible characters or a long name."""
    raw = text(cell)
    notice = None
    found = sorted(set(_CONTROL.findall(raw)))
    if found:
        shown = ", ".join(f"U+{ord(char):04X}" for char in found)
        notice = f"{name}: control characters {shown} replaced by spaces."
        raw = _CONTROL.sub(" ", raw)
    value = " ".join(raw.split())
    return free_text(value, name, 200), notice


def _two_readings(first: int, second: int, year: int) -> tuple[date | None, date | None]:
    def make(month: int, day: int) -> date | None:
        try:
            return date(year, month, day)
        except ValueError:
            return None

    return make(first, second), make(second, first)


# ISO date texts already read, with their date: a file repeats a few purchase and warranty
# dates over many rows.
_iso_days: dict[str, date] = {}
_MAX_ISO_DAYS = 4096


def parse_date(cell: Cell, name: str, date_format: str | None) -> date | None:
    """Return a calendar date, or None for an empty cell.

    ISO dates (2021-03-06, with or without a time) are always read. Any other form is read
    only with the declared `date_format` (a strptime format such as %m/%d/%y), because
    03/06/2021 is March 6 in one district and June 3 in another.
    """
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        raise ValueProblem(
            f"{name} {cell!r} is a number in the workbook, not a date (Excel counts days from "
            "1900 when a date cell loses its format); format the column as dates, or type "
            "them as YYYY-MM-DD."
        )
    value = text(cell)
    if not value:
        return None
    if not date_format:
        known = _iso_days.get(value)
        if known is not None:
            return known
    if date_format:
        try:
            return datetime.strptime(value, date_format).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            pass
    iso = _ISO_DATE.match(value)
    if iso:
        try:
            day = date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            raise ValueProblem(f"{name} {value!r} is not a real calendar date.") from None
        if len(_iso_days) >= _MAX_ISO_DAYS:
            _iso_days.clear()
        _iso_days[value] = day
        return day
    if date_format:
        raise ValueProblem(
            f"{name} {value!r} does not match the declared date format {date_format!r} and is "
            "not an ISO date (YYYY-MM-DD)."
        )
    numeric = _NUMERIC_DATE.match(value)
    if numeric:
        year = int(numeric[3])
        if len(numeric[3]) == 2:
            year += 2000
        month_first, day_first = _two_readings(int(numeric[1]), int(numeric[2]), year)
        if month_first and day_first and month_first != day_first:
            raise ValueProblem(
                f"{name} {value!r} is ambiguous: {month_first.isoformat()} or "
                f"{day_first.isoformat()}. Declare the date format (such as %m/%d/%Y) or use "
                "YYYY-MM-DD."
            )
    raise ValueProblem(
        f"{name} {value!r} is not a date in YYYY-MM-DD form; declare the file's date format "
        "(such as %m/%d/%y) or write the date as YYYY-MM-DD."
    )


def parse_money(cell: Cell, name: str) -> Decimal | None:
    """Return an amount in dollars, such as $1,234.50; None for an empty cell."""
    if isinstance(cell, int | float):
        return Decimal(str(cell)).quantize(Decimal("0.01"))
    value = text(cell)
    if not value:
        return None
    match = _MONEY.match(value)
    if not match:
        raise ValueProblem(
            f"{name} {value!r} is not an amount in dollars such as 1234.50 or $1,234.50."
        )
    try:
        return Decimal(match[1].replace(",", "") + (match[2] or "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueProblem(f"{name} {value!r} is not an amount in dollars.") from None


def parse_count(cell: Cell, name: str) -> int | None:
    """Return a whole number such as an enrollment; None for an empty cell."""
    if isinstance(cell, int):
        return cell
    value = text(cell).replace(",", "")
    if not value:
        return None
    try:
        number = float(value) if "." in value else int(value)
    except ValueError:
        raise ValueProblem(f"{name} {value!r} is not a whole number.") from None
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueProblem(f"{name} {value!r} is not a whole number.")
        number = int(number)
    if number < 0:
        raise ValueProblem(f"{name} {value!r} is negative.")
    return number


def parse_coordinate(cell: Cell, name: str, limit: float) -> float | None:
    value = text(cell)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueProblem(f"{name} {value!r} is not a number in decimal degrees.") from None
    if not -limit <= number <= limit:
        raise ValueProblem(f"{name} {value!r} is outside -{limit:g} to {limit:g} degrees.")
    return number
