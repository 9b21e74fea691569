"""Jinja filters and globals that turn service values into text for the pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from inventory.lifecycle import ACTIONS, STATE_LABELS, State
from inventory.sites.models import SITE_KINDS

SERVICE_NAME = "Device inventory"

# An event recorded this long after it happened was most likely entered later, for example
# from a phone that was offline, so the page shows both times.
_LATE_RECORDING = timedelta(minutes=5)


def humanize(name: str) -> str:
    """Turn a snake_case key such as ``parts_used`` into a label such as ``Parts used``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def state_label(value: str | None) -> str:
    if value is None:
        return ""
    try:
        return STATE_LABELS[State(value)]
    except ValueError:
        return humanize(value)


def action_label(name: str) -> str:
    action = ACTIONS.get(name)
    return action.label if action else humanize(name)


def site_kind_label(kind: str) -> str:
    return SITE_KINDS.get(kind, humanize(kind))


def _zone(context: Context) -> ZoneInfo:
    # Every Litestar Template context contains the request, and the app keeps its settings
    # in app.state.settings (see inventory.app.create_app).
    return context["request"].app.state.settings.zone


@pass_context
def district_time(context: Context, value: datetime | None) -> str:
    """Format a UTC instant in the district time zone, e.g. ``2026-03-04 09:15 PST``."""
    if value is None:
        return ""
    return value.astimezone(_zone(context)).strftime("%Y-%m-%d %H:%M %Z")


def iso_instant(value: datetime) -> str:
    """Return the instant in ISO 8601 with its offset, for a ``<time datetime>`` attribute."""
    return value.isoformat(timespec="seconds")


def recorded_late(occurred_at: datetime, recorded_at: datetime) -> bool:
    return recorded_at - occurred_at > _LATE_RECORDING


def data_value(value: Any) -> str:
    """Render one value of an event's action data as plain text."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(data_value(item) for item in value) if value else "none"
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def number(value: int) -> str:
    return f"{value:,}"


def path_segment(value: str) -> str:
    """Percent-encode a value for use as one path segment, so a tag like ``A 7`` still works."""
    return quote(value, safe="")


def device_url(asset_tag: str) -> str:
    return f"/a/{path_segment(asset_tag)}"


def site_url(code: str, **query: str | None) -> str:
    params = {name: value for name, value in query.items() if value}
    suffix = f"?{urlencode(params)}" if params else ""
    return f"/sites/{path_segment(code)}{suffix}"


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def register(environment: Environment) -> None:
    """Add this module's filters and globals to the Jinja environment of the pages."""
    environment.filters.update(
        {
            "action_label": action_label,
            "data_value": data_value,
            "district_time": district_time,
            "humanize": humanize,
            "iso_date": iso_date,
            "iso_instant": iso_instant,
            "number": number,
            "path_segment": path_segment,
            "site_kind_label": site_kind_label,
            "state_label": state_label,
        }
    )
    environment.globals.update(
        {
            "SERVICE_NAME": SERVICE_NAME,
            "device_url": device_url,
            "recorded_late": recorded_late,
            "site_url": site_url,
        }
    )
