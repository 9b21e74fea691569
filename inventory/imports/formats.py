"""File formats: the columns each one has, matched by their known names. Pure: no I/O.

A header matches a field when, folded to lower case with everything but letters and digits
removed, it equals one of the field's aliases. So "Asset Tag", "asset_tag" and "ASSET-TAG"
are one column, and a byte-order mark or stray spaces change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inventory.errors import InvalidInputError

# Header of the generic device template, in this order. The device export writes exactly this
# header, so an exported file can be edited and imported again with --update-by.
DEVICE_TEMPLATE = (
    "asset_tag",
    "serial_number",
    "manufacturer",
    "model",
    "device_type",
    "operating_system",
    "site",
    "state",
    "room",
    "assignee",
    "purchase_date",
    "purchase_cost",
    "warranty_start",
    "warranty_end",
    "warranty_months",
    "end_of_support",
    "notes",
)

_GENERIC_DEVICE_ALIASES: dict[str, tuple[str, ...]] = {
    "asset_tag": ("assettag", "tag", "assetid", "assetnumber", "annotatedassetid"),
    "serial_number": ("serialnumber", "serial", "serialno", "sn"),
    "manufacturer": ("manufacturer", "make", "brand"),
    "model": ("model", "modelname"),
    "device_type": ("devicetype", "type", "category"),
    "operating_system": ("operatingsystem", "os"),
    "site": ("site", "sitecode", "location", "school"),
    "state": ("state", "status", "lifecyclestate"),
    "room": ("room", "roomnumber"),
    "assignee": ("assignee", "assignedto", "user"),
    "purchase_date": ("purchasedate", "purchased"),
    "purchase_cost": ("purchasecost", "cost", "price"),
    "warranty_start": ("warrantystart", "warrantystartdate"),
    "warranty_end": ("warrantyend", "warrantyenddate", "warrantyexpiration", "warrantyexpires"),
    "warranty_months": ("warrantymonths", "warranty"),
    "end_of_support": ("endofsupport", "aue", "autoupdateexpiration", "eol", "eoldate"),
    "notes": ("notes", "comments"),
}

# Snipe-IT's asset import columns (its sample_csvs/assets-sample.csv and importer field names).
_SNIPEIT_DEVICE_ALIASES: dict[str, tuple[str, ...]] = {
    "asset_tag": ("assettag",),
    "serial_number": ("serial", "serialnumber"),
    "manufacturer": ("manufacturer",),
    "model": ("model", "modelname"),
    "device_type": ("category",),
    "site": ("location",),
    "assignee": ("checkedouttousername", "checkedouttoemail"),
    "room": ("checkedouttolocation",),
    "purchase_date": ("purchasedate",),
    "purchase_cost": ("purchasecost",),
    "warranty_months": ("warranty", "warrantymonths"),
    "end_of_support": ("asseteoldate", "eoldate"),
    "notes": ("assetnotes", "notes"),
}

# The Google Admin console's ChromeOS device list and GAM's `print cros` columns.
_GOOGLE_DEVICE_ALIASES: dict[str, tuple[str, ...]] = {
    "serial_number": ("serialnumber",),
    "asset_tag": ("annotatedassetid", "assetid"),
    "room": ("annotatedlocation",),
    "assignee": ("annotateduser",),
    "site": ("orgunitpath",),
    "model": ("model",),
    "end_of_support": ("autoupdateexpiration",),
    "state": ("status",),
    "notes": ("notes",),
}

SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "sitecode", "dbn", "schoolcode", "cds", "cdscode"),
    "name": ("name", "sitename", "schoolname", "school"),
    "kind": ("kind", "sitekind"),
    "region": ("region", "borough", "districtname", "district"),
    "enrollment": ("enrollment", "totalenrollment", "students"),
    "external_code": ("externalcode", "cds", "cdscode"),
    "address": ("address", "street", "streetaddress"),
    "city": ("city",),
    "state": ("state",),
    "zip": ("zip", "zipcode", "postalcode"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng"),
}

TECHNICIAN_ALIASES: dict[str, tuple[str, ...]] = {
    "employee_number": ("employeenumber", "employeeid", "employeeno", "employee"),
    "name": ("name", "fullname"),
    "first_name": ("firstname", "givenname"),
    "last_name": ("lastname", "familyname", "surname"),
    "email": ("email", "emailaddress"),
    "active": ("active",),
    "home_region": ("homeregion", "region"),
}


@dataclass(frozen=True)
class DeviceFormat:
    name: str
    label: str
    aliases: dict[str, tuple[str, ...]]
    # Headers that only this format has; any of them selects it when the format is "auto".
    markers: frozenset[str]


DEVICE_FORMATS = {
    "generic": DeviceFormat("generic", "generic template", _GENERIC_DEVICE_ALIASES, frozenset()),
    "snipeit": DeviceFormat(
        "snipeit",
        "Snipe-IT asset import",
        _SNIPEIT_DEVICE_ALIASES,
        frozenset({"checkouttype", "checkedouttousername", "checkedouttolocation", "asseteoldate"}),
    ),
    "google": DeviceFormat(
        "google",
        "Google Admin ChromeOS devices",
        _GOOGLE_DEVICE_ALIASES,
        frozenset({"annotatedassetid", "orgunitpath", "annotateduser", "annotatedlocation"}),
    ),
}

_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def fold_header(header: str) -> str:
    return _NOT_ALPHANUMERIC.sub("", header.replace("\ufeff", "").casefold())


def detect_device_format(header: list[str]) -> DeviceFormat:
    folded = {fold_header(name) for name in header}
    for name in ("google", "snipeit"):
        if folded & DEVICE_FORMATS[name].markers:
            return DEVICE_FORMATS[name]
    return DEVICE_FORMATS["generic"]


def device_format(name: str, header: list[str]) -> DeviceFormat:
    if name == "auto":
        return detect_device_format(header)
    try:
        return DEVICE_FORMATS[name]
    except KeyError:
        raise InvalidInputError(
            f"Format {name!r} is not one of auto, {', '.join(DEVICE_FORMATS)}.", format=name
        ) from None


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds each field, and which columns are not imported."""

    columns: dict[str, int]
    header: list[str]
    ignored: list[str]

    def lines(self) -> list[str]:
        """Describe the mapping as `"Header" -> field` lines, in the file's column order."""
        by_column: dict[int, list[str]] = {}
        for field_name, index in self.columns.items():
            by_column.setdefault(index, []).append(field_name)
        lines = [
            f"{self.header[index]!r} -> {', '.join(fields)}"
            for index, fields in sorted(by_column.items())
        ]
        lines.extend(f"{name!r} -> not imported" for name in self.ignored)
        return lines


def map_columns(
    header: list[str], aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> ColumnMap:
    """Match headers to fields; InvalidInputError names every required field not found."""
    folded = [fold_header(name) for name in header]
    columns: dict[str, int] = {}
    for field_name, names in aliases.items():
        for alias in names:
            if alias in folded:
                columns[field_name] = folded.index(alias)
                break
    used = set(columns.values())
    ignored = [name for index, name in enumerate(header) if index not in used and name.strip()]
    missing = [name for name in required if name not in columns]
    if missing:
        wanted = "; ".join(f"{name}: {', '.join(aliases[name])}" for name in missing)
        raise InvalidInputError(
            f"The header has no column for {', '.join(missing)}. Headers found: "
            f"{', '.join(repr(name) for name in header)}. Accepted names (case, spaces and "
            f"punctuation ignored): {wanted}.",
            missing=missing,
        )
    return ColumnMap(columns=columns, header=header, ignored=ignored)
