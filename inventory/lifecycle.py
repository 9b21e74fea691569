"""The device lifecycle: states, actions, and what each action needs. Pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from inventory.identifiers import identifier_problem, normalize_identifier, text_problem


class State(StrEnum):
    RECEIVED = "received"
    ENROLLED = "enrolled"
    DEPLOYED = "deployed"
    IN_REPAIR = "in_repair"
    WITH_VENDOR = "with_vendor"
    AWAITING_SALVAGE = "awaiting_salvage"
    RECYCLE_PENDING = "recycle_pending"
    LOST = "lost"
    RECYCLED = "recycled"
    HARVESTED = "harvested"
    REPLACED = "replaced"


STATE_LABELS: dict[State, str] = {
    State.RECEIVED: "Received",
    State.ENROLLED: "Enrolled",
    State.DEPLOYED: "Deployed",
    State.IN_REPAIR: "In repair",
    State.WITH_VENDOR: "With vendor",
    State.AWAITING_SALVAGE: "Awaiting salvage",
    State.RECYCLE_PENDING: "Recycle pending",
    State.LOST: "Lost",
    State.RECYCLED: "Recycled",
    State.HARVESTED: "Harvested",
    State.REPLACED: "Replaced",
}

TERMINAL_STATES = frozenset({State.RECYCLED, State.HARVESTED, State.REPLACED})
NON_TERMINAL_STATES = frozenset(State) - TERMINAL_STATES

# Decisions of a salvage assessment and the state each leads to.
SALVAGE_OUTCOMES: dict[str, State] = {
    "reuse": State.ENROLLED,
    "harvest": State.HARVESTED,
    "recycle": State.RECYCLE_PENDING,
}
SANITIZATION_METHODS = ("clear", "purge", "destroy")  # after NIST SP 800-88 Rev. 1
# Given in place of a method for a device that stores no user data, such as a monitor.
SANITIZATION_NOT_NEEDED = "not_needed"
USER_PROFILE_KINDS = ("student", "staff", "shared", "kiosk")


class LifecycleError(Exception):
    """An action that the lifecycle does not allow, or that lacks what it needs."""


class ActionNotAllowedError(LifecycleError):
    def __init__(self, action: str, state: State | None, allowed: list[str]) -> None:
        self.action = action
        self.state = state
        self.allowed = allowed
        where = "a new device" if state is None else f"a device in state {state.value!r}"
        choices = ", ".join(allowed) if allowed else "none, because the state is terminal"
        super().__init__(f"Action {action!r} is not allowed for {where}; allowed: {choices}.")


class UnknownActionError(LifecycleError):
    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"Unknown action {action!r}; known actions: {', '.join(ACTIONS)}.")


class ActionDataError(LifecycleError):
    """The action's data lacks a field or contains a value the action cannot use."""

    def __init__(self, action: str, problems: dict[str, str]) -> None:
        self.action = action
        self.problems = problems
        details = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        super().__init__(f"Action {action!r} cannot be applied: {details}.")


@dataclass(frozen=True)
class Action:
    """One lifecycle action: where it may start, where it leads, and what it needs."""

    name: str
    label: str
    from_states: frozenset[State]
    # None when the target depends on the device or the data (see `target_state`).
    to_state: State | None
    required: tuple[str, ...] = ()
    # Vendor updates and problem reports are the only actions recorded without a technician.
    needs_technician: bool = True
    description: str = ""
    optional: tuple[str, ...] = field(default=())
    # False for steps the service records itself, such as an export to a vendor. These are not
    # offered to people and not listed among the allowed actions.
    offered: bool = True


_REPAIRABLE = frozenset({State.ENROLLED, State.DEPLOYED})

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            "receive",
            "Receive",
            frozenset(),
            State.RECEIVED,
            ("asset_tag", "serial_number", "model", "site"),
            description="Take a new device into district stock.",
        ),
        Action(
            "enroll",
            "Enroll",
            frozenset({State.RECEIVED}),
            State.ENROLLED,
            ("operating_system", "management_profile", "user_profile_kind"),
            description="Set the device up and enroll it in management.",
        ),
        Action(
            "deploy",
            "Deploy",
            frozenset({State.ENROLLED}),
            State.DEPLOYED,
            optional=("assignee", "room"),
            description="Hand the device to a person, room or cart (assignee or room).",
        ),
        Action(
            "collect",
            "Collect",
            frozenset({State.DEPLOYED}),
            State.ENROLLED,
            description="Take the device back from its assignee or room.",
        ),
        Action(
            "transfer",
            "Transfer",
            NON_TERMINAL_STATES - {State.WITH_VENDOR},
            None,
            ("site",),
            description="Move the device to another site; its state stays the same.",
        ),
        Action(
            "open_repair",
            "Open repair",
            _REPAIRABLE,
            State.IN_REPAIR,
            ("problem",),
            description="Start a repair.",
        ),
        Action(
            "complete_repair",
            "Complete repair",
            frozenset({State.IN_REPAIR}),
            None,
            ("resolution", "parts_used"),
            description="Finish a repair; the device returns to the state it had before.",
        ),
        Action(
            "escalate",
            "Escalate to vendor",
            frozenset({State.IN_REPAIR}),
            State.WITH_VENDOR,
            ("vendor", "problem"),
            optional=("troubleshooting", "parts_requested", "warranty_override_reason"),
            description="Open a warranty claim and send the device to its vendor.",
        ),
        Action(
            "escalation_export",
            "Exported to vendor",
            frozenset({State.WITH_VENDOR}),
            None,
            ("batch",),
            needs_technician=False,
            optional=("escalation",),
            offered=False,
            description="The claim went to the vendor in an export batch.",
        ),
        Action(
            "vendor_acknowledge",
            "Vendor RMA number",
            frozenset({State.WITH_VENDOR}),
            None,
            ("rma_number",),
            needs_technician=False,
            description="The vendor accepted the claim and gave its RMA number.",
        ),
        Action(
            "ship_to_vendor",
            "Shipped to vendor",
            frozenset({State.WITH_VENDOR}),
            None,
            optional=("tracking_number", "carrier"),
            needs_technician=False,
            description="The device went to the vendor under its RMA number.",
        ),
        Action(
            "vendor_return",
            "Vendor return",
            frozenset({State.WITH_VENDOR}),
            State.IN_REPAIR,
            ("outcome",),
            needs_technician=False,
            description="The vendor sent the device back.",
        ),
        Action(
            "vendor_deny",
            "Vendor denial",
            frozenset({State.WITH_VENDOR}),
            State.IN_REPAIR,
            ("reason",),
            needs_technician=False,
            description="The vendor denied the warranty claim.",
        ),
        Action(
            "vendor_replace",
            "Vendor replacement",
            frozenset({State.WITH_VENDOR}),
            State.REPLACED,
            ("replacement_serial",),
            needs_technician=False,
            optional=("replacement_asset_tag",),
            description="The vendor exchanged the device for a new unit.",
        ),
        Action(
            "request_salvage",
            "Request salvage",
            frozenset({State.RECEIVED, State.ENROLLED, State.DEPLOYED, State.IN_REPAIR}),
            State.AWAITING_SALVAGE,
            ("reason",),
            description="Pull the device for a salvage assessment.",
        ),
        Action(
            "assess_salvage",
            "Assess salvage",
            frozenset({State.AWAITING_SALVAGE}),
            None,
            ("decision", "assessment"),
            optional=("sanitization_method",),
            description="Decide reuse, harvest or recycle; harvest and recycle need sanitization.",
        ),
        Action(
            "recycle",
            "Recycle",
            frozenset({State.RECYCLE_PENDING}),
            State.RECYCLED,
            ("recycling_batch",),
            description="Hand the device to a recycler in a recycling batch.",
        ),
        Action(
            "report_lost",
            "Report lost",
            NON_TERMINAL_STATES - {State.LOST},
            State.LOST,
            description="The device is missing or stolen.",
        ),
        Action(
            "report_problem",
            "Report a problem",
            NON_TERMINAL_STATES,
            None,
            ("problem",),
            needs_technician=False,
            description="Site staff report a problem; the state stays the same until a "
            "technician acts on it.",
        ),
        Action(
            "audit_seen",
            "Seen in audit",
            NON_TERMINAL_STATES,
            None,
            optional=("room",),
            description="A technician saw the device during an inventory count; the state "
            "stays the same.",
        ),
        Action(
            "found",
            "Found",
            frozenset({State.LOST}),
            State.RECEIVED,
            description="A lost device turned up again.",
        ),
    )
}


@dataclass(frozen=True)
class DeviceContext:
    """Device facts the rules need beyond its state."""

    state: State | None
    site_code: str | None = None
    # State the device had when its current repair was opened.
    repair_return_state: State | None = None
    # The device's warranty coverages as (first day, last day) pairs.
    coverages: tuple[tuple[date, date], ...] = ()


def allowed_actions(state: State | None) -> list[str]:
    """Return the actions that may start from `state` (None: a device not yet received)."""
    if state is None:
        return ["receive"]
    return [
        name for name, action in ACTIONS.items() if state in action.from_states and action.offered
    ]


def warranty_active(context: DeviceContext, on: date) -> bool:
    """Return whether a coverage includes the day `on`; first and last days are covered."""
    return any(start <= on <= end for start, end in context.coverages)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Fields of action data that name something by its identifier; the rest are free text,
# except parts_used, a list of part names.
IDENTIFIER_FIELDS = frozenset(
    {
        "site",
        "vendor",
        "replacement_serial",
        "replacement_asset_tag",
        "rma_number",
        "batch",
        "escalation",
    }
)
LIST_FIELDS = frozenset({"parts_used", "parts_requested"})
_MAX_PARTS = 50


def _type_problems(action: Action, data: Mapping[str, Any]) -> dict[str, str]:
    """Check that the data has only the action's fields, each of its kind."""
    problems: dict[str, str] = {}
    known = set(action.required) | set(action.optional)
    for name, value in data.items():
        if name not in known:
            fields = ", ".join(sorted(known)) or "none"
            problems[name] = f"not a field of {action.name!r}; its fields: {fields}"
        elif name in LIST_FIELDS:
            if not isinstance(value, list) or len(value) > _MAX_PARTS:
                problems[name] = f"must be a list of at most {_MAX_PARTS} part names"
            elif not all(isinstance(part, str) and part.strip() for part in value):
                problems[name] = "each part must be a non-empty text"
            elif any(text_problem(part, 200) for part in value):
                problems[name] = "a part name is too long or has control characters"
        elif value is None:
            continue
        elif not isinstance(value, str):
            problems[name] = f"must be text, not {type(value).__name__}"
        elif name in IDENTIFIER_FIELDS and value.strip():
            problem = identifier_problem(normalize_identifier(value))
            if problem:
                problems[name] = f"{value!r} {problem}"
        else:
            problem = text_problem(value)
            if problem:
                problems[name] = problem
    return problems


def _check_data(action: Action, data: Mapping[str, Any], context: DeviceContext, on: date) -> None:
    if action.name != "receive":
        type_problems = _type_problems(action, data)
        if type_problems:
            raise ActionDataError(action.name, type_problems)
    problems: dict[str, str] = {}
    for name in action.required:
        # An empty list of parts is valid, because a repair may use none.
        if name == "parts_used":
            if not isinstance(data.get(name), list):
                problems[name] = "required, as a list (empty when no parts were used)"
        elif _is_blank(data.get(name)):
            problems[name] = "required"

    if action.name == "deploy" and _is_blank(data.get("assignee")) and _is_blank(data.get("room")):
        problems["assignee"] = "an assignee or a room is required"
    if action.name == "enroll":
        kind = data.get("user_profile_kind")
        if not _is_blank(kind) and kind not in USER_PROFILE_KINDS:
            problems["user_profile_kind"] = (
                f"{kind!r} is not one of {', '.join(USER_PROFILE_KINDS)}"
            )
    if action.name == "transfer":
        site = data.get("site")
        if not _is_blank(site) and context.site_code is not None and site == context.site_code:
            problems["site"] = f"the device is already at site {site!r}"
    overridden = not _is_blank(data.get("warranty_override_reason"))
    if action.name == "escalate" and not overridden and not warranty_active(context, on):
        ends = [end for _, end in context.coverages]
        end = max(ends).isoformat() if ends else "no coverage recorded"
        problems["warranty_override_reason"] = (
            f"no warranty coverage includes {on.isoformat()} (warranty end: {end}); "
            "give an override reason to escalate anyway"
        )
    if action.name == "assess_salvage":
        decision = data.get("decision")
        if not _is_blank(decision) and decision not in SALVAGE_OUTCOMES:
            problems["decision"] = f"{decision!r} is not one of {', '.join(SALVAGE_OUTCOMES)}"
        if decision in ("harvest", "recycle"):
            method = data.get("sanitization_method")
            if method not in SANITIZATION_METHODS and method != SANITIZATION_NOT_NEEDED:
                problems["sanitization_method"] = (
                    f"data sanitization is required before {decision}: give one of "
                    f"{', '.join(SANITIZATION_METHODS)}, or {SANITIZATION_NOT_NEEDED} for a "
                    "device without storage"
                )
    if problems:
        raise ActionDataError(action.name, problems)


_SAME_STATE = frozenset(
    {
        "transfer",
        "report_problem",
        "audit_seen",
        "escalation_export",
        "vendor_acknowledge",
        "ship_to_vendor",
    }
)


def target_state(action: Action, data: Mapping[str, Any], context: DeviceContext) -> State:
    if action.to_state is not None:
        return action.to_state
    if action.name in _SAME_STATE:
        assert context.state is not None
        return context.state
    if action.name == "complete_repair":
        return context.repair_return_state or State.ENROLLED
    if action.name == "assess_salvage":
        return SALVAGE_OUTCOMES[data["decision"]]
    raise AssertionError(f"action {action.name!r} has no target rule")


def plan_transition(
    action_name: str,
    context: DeviceContext,
    data: Mapping[str, Any],
    *,
    has_technician: bool,
    on: date,
) -> State:
    """Check an action against the lifecycle and return the state it leads to.

    Raises UnknownActionError, ActionNotAllowedError or ActionDataError. `on` is the day the
    action happens, used for the warranty check of an escalation.
    """
    action = ACTIONS.get(action_name)
    if action is None:
        raise UnknownActionError(action_name)
    if action_name == "receive":
        if context.state is not None:
            raise ActionNotAllowedError(action_name, context.state, allowed_actions(context.state))
    elif context.state is None or context.state not in action.from_states:
        raise ActionNotAllowedError(action_name, context.state, allowed_actions(context.state))
    if action.needs_technician and not has_technician:
        raise ActionDataError(action_name, {"technician": "required for this action"})
    _check_data(action, data, context, on)
    return target_state(action, data, context)


def field_changes(
    action: str, data: Mapping[str, Any], from_state: State | None, to_state: State
) -> dict[str, Any]:
    """Return the device fields an action sets besides its state, site and vendor.

    `data` is the action's data as `plan_transition` accepted it.
    """
    changes: dict[str, Any] = {}
    if action == "enroll":
        changes = {
            "operating_system": str(data["operating_system"]).strip(),
            "management_profile": str(data["management_profile"]).strip(),
            "user_profile_kind": data["user_profile_kind"],
        }
    elif action == "deploy":
        changes = {
            "assignee": str(data.get("assignee") or "").strip() or None,
            "room": str(data.get("room") or "").strip() or None,
        }
    elif action == "collect":
        changes = {"assignee": None, "room": None}
    if action == "open_repair":
        changes["repair_return_state"] = from_state.value if from_state else None
    elif to_state not in (State.IN_REPAIR, State.WITH_VENDOR):
        # The repair is over however it ended: completed, salvaged, lost or replaced.
        changes["repair_return_state"] = None
    return changes
