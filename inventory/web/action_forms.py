"""The short form each lifecycle action needs on the scan page, and its conversion to data.

The fields mirror what `inventory.lifecycle` requires of each action; the form posts to the
same service operation as the JSON API, which checks them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inventory.accounts.principal import Principal, Role
from inventory.lifecycle import (
    ACTIONS,
    SALVAGE_OUTCOMES,
    SANITIZATION_METHODS,
    USER_PROFILE_KINDS,
)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    # text, textarea, select or list (comma-separated text that becomes a list)
    kind: str = "text"
    required: bool = True
    options: tuple[str, ...] = ()
    hint: str = ""


_NOTES = FormField("notes", "Notes", "textarea", required=False)

ACTION_FIELDS: dict[str, tuple[FormField, ...]] = {
    "enroll": (
        FormField("operating_system", "Operating system", hint="For example ChromeOS 124"),
        FormField("management_profile", "Management profile", hint="Organizational unit"),
        FormField("user_profile_kind", "User profile", "select", options=USER_PROFILE_KINDS),
    ),
    "deploy": (
        FormField("assignee", "Assignee", required=False, hint="Person or cart"),
        FormField("room", "Room", required=False),
    ),
    "collect": (),
    "transfer": (FormField("site", "Destination site code"),),
    "open_repair": (FormField("problem", "Problem", "textarea"),),
    "complete_repair": (
        FormField("resolution", "Resolution", "textarea"),
        FormField(
            "parts_used",
            "Parts used",
            "list",
            required=False,
            hint="Comma-separated; blank if none",
        ),
    ),
    "escalate": (
        FormField("vendor", "Vendor code"),
        FormField("problem", "Problem", "textarea"),
        FormField(
            "warranty_override_reason",
            "Warranty override reason",
            required=False,
            hint="Needed only when the warranty does not cover today",
        ),
    ),
    "vendor_return": (FormField("outcome", "Vendor's outcome", "textarea"),),
    "vendor_deny": (FormField("reason", "Vendor's reason", "textarea"),),
    "vendor_replace": (
        FormField("replacement_serial", "Replacement serial number"),
        FormField(
            "replacement_asset_tag",
            "Replacement asset tag",
            required=False,
            hint="Blank: this tag with -R",
        ),
    ),
    "request_salvage": (FormField("reason", "Reason", "textarea"),),
    "assess_salvage": (
        FormField("decision", "Decision", "select", options=tuple(SALVAGE_OUTCOMES)),
        FormField("assessment", "Assessment", "textarea", hint="Condition, age, cost to repair"),
        FormField(
            "sanitization_method",
            "Data sanitization",
            "select",
            required=False,
            options=("", *SANITIZATION_METHODS),
            hint="Required before harvest or recycle",
        ),
    ),
    "recycle": (FormField("recycling_batch", "Recycling batch"),),
    "report_lost": (),
    "found": (),
    "report_problem": (FormField("problem", "Problem", "textarea"),),
    "audit_seen": (FormField("room", "Room", required=False, hint="Where it was seen"),),
}

# Fields of the page form that are not the action's data.
FORM_CONTROL_FIELDS = {
    "_csrf_token",
    "action",
    "expected_state",
    "idempotency_key",
    "notes",
    "technician",
}


def actions_for(principal: Principal | None, allowed: list[str]) -> list[str]:
    """Return the allowed actions this user may record, in lifecycle order."""
    if principal is None:
        return []
    if principal.is_staff:
        return [action for action in allowed if action != "report_problem"] + (
            ["report_problem"] if "report_problem" in allowed else []
        )
    if principal.role is Role.VENDOR:
        return [action for action in allowed if action.startswith("vendor_")]
    return [action for action in allowed if action == "report_problem"]


def form_fields(action: str) -> tuple[FormField, ...]:
    return (*ACTION_FIELDS.get(action, ()), _NOTES)


def action_label(action: str) -> str:
    found = ACTIONS.get(action)
    return found.label if found else action


def form_to_data(action: str, form: dict[str, Any]) -> dict[str, Any]:
    """Turn the posted form into the action's data: blanks dropped, lists split on commas."""
    data: dict[str, Any] = {}
    for field in ACTION_FIELDS.get(action, ()):
        raw = str(form.get(field.name) or "").strip()
        if field.kind == "list":
            data[field.name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif raw:
            data[field.name] = raw
    return data
