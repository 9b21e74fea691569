"""Read the public files in data/: NYC schools with their enrollment, and ChromeOS Flex models.

SOURCES.md in data/ names where each file comes from.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from inventory.devices.service import model_match_key, normalize_name

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHOOLS_FILE = DATA_DIR / "nyc-school-enrollment-2011-12.csv"
MODELS_FILE = DATA_DIR / "chromeos-flex-models.json"

# A NYC school code (DBN) is a two-digit district number, a borough letter and a
# three-digit school number, such as 01M015.
BOROUGHS = {
    "M": "Manhattan",
    "X": "Bronx",
    "K": "Brooklyn",
    "Q": "Queens",
    "R": "Staten Island",
}
_SCHOOL_CODE = re.compile(r"^\d{2}([MXKQR])\d{3}$")

# The ChromeOS Flex list does not name an operating system per model, because every model
# on it is certified for ChromeOS Flex.
FLEX_OPERATING_SYSTEM = "ChromeOS Flex"

# Device type from words in the model name, first match wins. The list names the model
# only, so these rules are a best guess by product family. A model that matches none of
# them is a small desktop, thin client, panel PC or signage player, stored as "desktop".
_DEVICE_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("all_in_one", re.compile(r"\bAIO\b|all[- ]in[- ]one|\beTILE\b", re.IGNORECASE)),
    ("thin_client", re.compile(r"thin client", re.IGNORECASE)),
    (
        "tablet",
        re.compile(r"surface pro|toughpad|stylistic|miix|engage go|\bS104P\b", re.IGNORECASE),
    ),
    (
        "laptop",
        re.compile(
            r"latitude|thinkpad|thinkbook|elitebook|probook|zbook|travelmate|aspire|"
            r"vivobook|expertbook|eeebook|zenbook|\bgram\b|surface laptop|macbook|satellite|"
            r"tecra|portege|inspiron 15|inspiron 35|vostro (15|3401|3560)|lifebook|stream|"
            r"securebook|spectre|ideapad|chromebook|notebook|toughbook|whalebook|\bxps\b|x360|"
            r"\bone 1[14]\b|\bR3-131T\b|\bBR1100|\bB5402|\bP1512|\bx200m\b|\b1[04]0e\b|"
            r"\b300e\b|\b14w\b|\b500w\b|\bN2[234]\b|\bK14\b|\bV1[45]\b|\bV1[34][05]\b|"
            r"\bB590\b|\bE40-80\b|\bT490s\b|\bVJP[JK]\d|\b15U50T\b|\b14ZT980\b|"
            r"\b2[1-5][0-9] G\d|\bGeoBook\b|\b1e\b|\bR73/|\bVision C14\b|\bMaster N1212\b",
            re.IGNORECASE,
        ),
    ),
)


class DemoDataError(ValueError):
    """A demo data file does not have the shape the loader reads."""


@dataclass(frozen=True)
class School:
    code: str
    name: str
    region: str
    enrollment: int


@dataclass(frozen=True)
class CatalogModel:
    """One entry of the ChromeOS Flex list, ready to store as a device model."""

    manufacturer: str
    model: str
    match_key: str
    device_type: str
    end_of_support_year: int

    @property
    def end_of_support(self) -> date:
        # The list gives only the year in which updates end. January 1 is the earliest day
        # that year could mean, so a check such as `end_of_support < today` warns early
        # rather than late. With end_of_support_precision="year", readers show only the year.
        return date(self.end_of_support_year, 1, 1)


def read_schools(path: Path = SCHOOLS_FILE) -> list[School]:
    """Read the schools of the NYC enrollment file, in file order.

    School codes stay text with their leading zeros. Names lose the padding spaces of the
    file, and runs of inner spaces become one space. Raises DemoDataError for a malformed
    row or a repeated school code.
    """
    schools: list[School] = []
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8") as file:
        for line_number, row in enumerate(csv.DictReader(file), start=2):
            code = (row.get("DBN") or "").strip()
            match = _SCHOOL_CODE.match(code)
            if match is None:
                raise DemoDataError(
                    f"{path.name} line {line_number}: school code {code!r} is not a district "
                    "number, borough letter and school number such as 01M015."
                )
            if code in seen:
                raise DemoDataError(f"{path.name} line {line_number}: school code {code} repeats.")
            seen.add(code)
            name = " ".join((row.get("Name") or "").split())
            enrollment_text = (row.get("total_enrollment") or "").strip()
            if not name or not enrollment_text.isdigit():
                raise DemoDataError(
                    f"{path.name} line {line_number}: school {code} needs a name and a whole "
                    f"number in total_enrollment, got {enrollment_text!r}."
                )
            schools.append(
                School(
                    code=code,
                    name=name,
                    region=BOROUGHS[match.group(1)],
                    enrollment=int(enrollment_text),
                )
            )
    return schools


def device_type_for(model: str) -> str:
    """Return the device type guessed from a model name's product family."""
    for device_type, pattern in _DEVICE_TYPE_RULES:
        if pattern.search(model):
            return device_type
    return "desktop"


@dataclass(frozen=True)
class Catalog:
    models: list[CatalogModel]
    # Entries left out because an earlier entry had the same match key.
    duplicates: list[str]


def read_models(path: Path = MODELS_FILE) -> Catalog:
    """Read the ChromeOS Flex list, one model per match key.

    Models are matched only by `model_match_key` (manufacturer and model folded to lower case
    with single spaces), so "Macbook Air 5,1" and "MacBook Air 6,1" stay two models. When two
    entries have the same key, the first is kept and the other is listed in `duplicates`.
    """
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise DemoDataError(f"{path.name}: expected a JSON list of models.")
    models: list[CatalogModel] = []
    duplicates: list[str] = []
    by_key: dict[str, CatalogModel] = {}
    for index, entry in enumerate(entries):
        try:
            manufacturer = " ".join(str(entry["manufacturer"]).split())
            model = " ".join(str(entry["model"]).split())
            year = int(entry["eol_year"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DemoDataError(
                f"{path.name} entry {index}: needs manufacturer, model and eol_year ({exc})."
            ) from exc
        if not manufacturer or not model:
            raise DemoDataError(f"{path.name} entry {index}: manufacturer or model is empty.")
        key = model_match_key(manufacturer, model)
        if key in by_key:
            first = by_key[key]
            duplicates.append(f"{manufacturer} {model}")
            log.warning(
                "demo model skipped: same match key as an earlier entry",
                extra={
                    "skipped": f"{manufacturer} {model}",
                    "kept": f"{first.manufacturer} {first.model}",
                    "match_key": key,
                },
            )
            continue
        catalog_model = CatalogModel(
            manufacturer=manufacturer,
            model=model,
            match_key=key,
            device_type=device_type_for(model),
            end_of_support_year=year,
        )
        by_key[key] = catalog_model
        models.append(catalog_model)
    return Catalog(models=models, duplicates=duplicates)


def vendor_code(manufacturer: str) -> str:
    """Return the vendor code of a manufacturer: its folded name with dashes for spaces."""
    return re.sub(r"[^a-z0-9]+", "-", normalize_name(manufacturer)).strip("-")
