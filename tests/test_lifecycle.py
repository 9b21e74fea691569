"""The lifecycle rules on their own: no database, no web."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.lifecycle import (
    ACTIONS,
    NON_TERMINAL_STATES,
    TERMINAL_STATES,
    ActionDataError,
    ActionNotAllowedError,
    DeviceContext,
    State,
    UnknownActionError,
    allowed_actions,
    plan_transition,
    warranty_active,
)

TODAY = date(2026, 12, 4)

# Data that satisfies each action, so a test can vary one thing at a time.
VALID_DATA: dict[str, dict] = {
    "receive": {"asset_tag": "0001", "serial_number": "SN1", "model": "m", "site": "01M015"},
    "enroll": {
        "operating_system": "ChromeOS",
        "management_profile": "students",
        "user_profile_kind": "student",
    },
    "deploy": {"room": "204"},
    "collect": {},
    "transfer": {"site": "02M019"},
    "open_repair": {"problem": "keyboard"},
    "complete_repair": {"resolution": "new keyboard", "parts_used": ["keyboard"]},
    "escalate": {"vendor": "acer", "problem": "board failure"},
    "escalation_export": {"batch": "7"},
    "vendor_acknowledge": {"rma_number": "RMA-0042"},
    "ship_to_vendor": {"tracking_number": "1Z999"},
    "vendor_return": {"outcome": "mainboard replaced"},
    "vendor_deny": {"reason": "liquid damage"},
    "vendor_replace": {"replacement_serial": "NEW1"},
    "request_salvage": {"reason": "old"},
    "assess_salvage": {
        "decision": "recycle",
        "assessment": "grade D",
        "sanitization_method": "purge",
    },
    "recycle": {"recycling_batch": "RB-1"},
    "report_lost": {},
    "report_problem": {"problem": "will not charge"},
    "audit_seen": {},
    "found": {},
}

# The transition table, written out from the lifecycle's definition: action, from, to.
EXPECTED = [
    ("enroll", State.RECEIVED, State.ENROLLED),
    ("deploy", State.ENROLLED, State.DEPLOYED),
    ("collect", State.DEPLOYED, State.ENROLLED),
    ("open_repair", State.ENROLLED, State.IN_REPAIR),
    ("open_repair", State.DEPLOYED, State.IN_REPAIR),
    ("escalate", State.IN_REPAIR, State.WITH_VENDOR),
    ("escalation_export", State.WITH_VENDOR, State.WITH_VENDOR),
    ("vendor_acknowledge", State.WITH_VENDOR, State.WITH_VENDOR),
    ("ship_to_vendor", State.WITH_VENDOR, State.WITH_VENDOR),
    ("vendor_return", State.WITH_VENDOR, State.IN_REPAIR),
    ("vendor_deny", State.WITH_VENDOR, State.IN_REPAIR),
    ("vendor_replace", State.WITH_VENDOR, State.REPLACED),
    ("request_salvage", State.RECEIVED, State.AWAITING_SALVAGE),
    ("request_salvage", State.ENROLLED, State.AWAITING_SALVAGE),
    ("request_salvage", State.DEPLOYED, State.AWAITING_SALVAGE),
    ("request_salvage", State.IN_REPAIR, State.AWAITING_SALVAGE),
    ("recycle", State.RECYCLE_PENDING, State.RECYCLED),
    ("found", State.LOST, State.RECEIVED),
    *[("report_lost", state, State.LOST) for state in NON_TERMINAL_STATES - {State.LOST}],
    *[("report_problem", state, state) for state in NON_TERMINAL_STATES],
    *[("audit_seen", state, state) for state in NON_TERMINAL_STATES],
    *[
        ("transfer", state, state)
        for state in NON_TERMINAL_STATES
        if state is not State.WITH_VENDOR
    ],
]


def _context(state: State | None, **overrides) -> DeviceContext:
    values = {
        "state": state,
        "site_code": "01M015",
        "coverages": ((date(2025, 1, 1), date(2027, 12, 31)),),
    }
    values.update(overrides)
    return DeviceContext(**values)


def _plan(action: str, state: State | None, data: dict | None = None, **context) -> State:
    return plan_transition(
        action,
        _context(state, **context),
        VALID_DATA[action] if data is None else data,
        has_technician=True,
        on=TODAY,
    )


@pytest.mark.parametrize(("action", "from_state", "to_state"), EXPECTED)
def test_allowed_transition(action: str, from_state: State, to_state: State) -> None:
    assert _plan(action, from_state) is to_state


def test_table_has_no_other_transitions() -> None:
    expected = {(action, from_state) for action, from_state, _ in EXPECTED}
    # complete_repair and assess_salvage have computed targets and are tested below.
    expected |= {("complete_repair", State.IN_REPAIR), ("assess_salvage", State.AWAITING_SALVAGE)}
    actual = {(name, state) for name, action in ACTIONS.items() for state in action.from_states}
    assert actual == expected


@pytest.mark.parametrize(
    ("action", "state"),
    [
        (action, state)
        for action in ACTIONS
        if action != "receive"
        for state in State
        if state not in ACTIONS[action].from_states
    ],
)
def test_forbidden_transition(action: str, state: State) -> None:
    with pytest.raises(ActionNotAllowedError) as raised:
        _plan(action, state)
    assert raised.value.state is state
    assert raised.value.allowed == allowed_actions(state)
    assert state.value in str(raised.value)


def test_receive_only_for_new_device() -> None:
    assert _plan("receive", None) is State.RECEIVED
    with pytest.raises(ActionNotAllowedError):
        _plan("receive", State.ENROLLED)


def test_other_actions_need_existing_device() -> None:
    with pytest.raises(ActionNotAllowedError) as raised:
        _plan("enroll", None)
    assert raised.value.allowed == ["receive"]


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
def test_terminal_states_allow_nothing(state: State) -> None:
    assert allowed_actions(state) == []


def test_unknown_action() -> None:
    with pytest.raises(UnknownActionError):
        _plan("teleport", State.ENROLLED, {})


@pytest.mark.parametrize(
    ("return_state", "expected"),
    [(State.DEPLOYED, State.DEPLOYED), (State.ENROLLED, State.ENROLLED), (None, State.ENROLLED)],
)
def test_complete_repair_returns_to_prior_state(return_state, expected) -> None:
    assert _plan("complete_repair", State.IN_REPAIR, repair_return_state=return_state) is expected


@pytest.mark.parametrize(
    ("decision", "expected"),
    [("reuse", State.ENROLLED), ("harvest", State.HARVESTED), ("recycle", State.RECYCLE_PENDING)],
)
def test_assess_salvage_outcomes(decision: str, expected: State) -> None:
    data = {"decision": decision, "assessment": "grade C", "sanitization_method": "clear"}
    assert _plan("assess_salvage", State.AWAITING_SALVAGE, data) is expected


@pytest.mark.parametrize("decision", ["harvest", "recycle"])
def test_harvest_and_recycle_need_sanitization(decision: str) -> None:
    with pytest.raises(ActionDataError) as raised:
        _plan("assess_salvage", State.AWAITING_SALVAGE, {"decision": decision, "assessment": "x"})
    assert "sanitization_method" in raised.value.problems


def test_reuse_needs_no_sanitization() -> None:
    data = {"decision": "reuse", "assessment": "grade A"}
    assert _plan("assess_salvage", State.AWAITING_SALVAGE, data) is State.ENROLLED


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("receive", None),
        ("enroll", State.RECEIVED),
        ("transfer", State.ENROLLED),
        ("open_repair", State.DEPLOYED),
        ("complete_repair", State.IN_REPAIR),
        ("escalate", State.IN_REPAIR),
        ("vendor_return", State.WITH_VENDOR),
        ("vendor_deny", State.WITH_VENDOR),
        ("vendor_replace", State.WITH_VENDOR),
        ("request_salvage", State.ENROLLED),
        ("assess_salvage", State.AWAITING_SALVAGE),
        ("recycle", State.RECYCLE_PENDING),
        ("report_problem", State.DEPLOYED),
    ],
)
def test_each_required_field_is_checked(action: str, state: State | None) -> None:
    for name in ACTIONS[action].required:
        data = {key: value for key, value in VALID_DATA[action].items() if key != name}
        with pytest.raises(ActionDataError) as raised:
            _plan(action, state, data)
        assert name in raised.value.problems


def test_blank_string_counts_as_missing() -> None:
    with pytest.raises(ActionDataError) as raised:
        _plan("open_repair", State.ENROLLED, {"problem": "   "})
    assert "problem" in raised.value.problems


def test_deploy_needs_assignee_or_room() -> None:
    with pytest.raises(ActionDataError):
        _plan("deploy", State.ENROLLED, {})
    assert _plan("deploy", State.ENROLLED, {"assignee": "J. Doe"}) is State.DEPLOYED


def test_parts_used_may_be_empty_list() -> None:
    data = {"resolution": "reseated cable", "parts_used": []}
    assert _plan("complete_repair", State.IN_REPAIR, data, repair_return_state=State.DEPLOYED)


def test_parts_used_must_be_list() -> None:
    with pytest.raises(ActionDataError):
        _plan("complete_repair", State.IN_REPAIR, {"resolution": "x", "parts_used": "screen"})


def test_transfer_to_same_site_rejected() -> None:
    with pytest.raises(ActionDataError) as raised:
        _plan("transfer", State.ENROLLED, {"site": "01M015"})
    assert "already at site" in raised.value.problems["site"]


def test_enroll_rejects_unknown_profile_kind() -> None:
    data = {**VALID_DATA["enroll"], "user_profile_kind": "alien"}
    with pytest.raises(ActionDataError):
        _plan("enroll", State.RECEIVED, data)


@pytest.mark.parametrize("name", list(ACTIONS))
def test_technician_required_except_vendor_updates(name: str) -> None:
    action = ACTIONS[name]
    state = None if name == "receive" else sorted(action.from_states)[0]
    if not action.needs_technician:
        assert plan_transition(
            name, _context(state), VALID_DATA[name], has_technician=False, on=TODAY
        )
        return
    with pytest.raises(ActionDataError) as raised:
        plan_transition(name, _context(state), VALID_DATA[name], has_technician=False, on=TODAY)
    assert "technician" in raised.value.problems


def test_escalate_outside_warranty_needs_override() -> None:
    expired = {"coverages": ((date(2020, 1, 1), date(2023, 12, 31)),)}
    with pytest.raises(ActionDataError) as raised:
        _plan("escalate", State.IN_REPAIR, **expired)
    assert "2023-12-31" in raised.value.problems["warranty_override_reason"]
    data = {**VALID_DATA["escalate"], "warranty_override_reason": "known board defect"}
    assert _plan("escalate", State.IN_REPAIR, data, **expired) is State.WITH_VENDOR


def test_escalate_without_recorded_warranty_needs_override() -> None:
    with pytest.raises(ActionDataError):
        _plan("escalate", State.IN_REPAIR, coverages=())


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2024, 12, 31), False),
        (date(2025, 1, 1), True),
        (date(2027, 12, 31), True),
        (date(2028, 1, 1), False),
    ],
)
def test_warranty_end_is_last_day_covered(day: date, covered: bool) -> None:
    context = _context(State.IN_REPAIR)
    assert warranty_active(context, day) is covered


def test_coverage_gap_is_not_covered() -> None:
    context = _context(
        State.IN_REPAIR,
        coverages=(
            (date(2022, 1, 1), date(2022, 12, 31)),
            (date(2024, 1, 1), date(2024, 12, 31)),
        ),
    )
    assert warranty_active(context, date(2022, 12, 31))
    assert not warranty_active(context, date(2023, 6, 1))
    assert warranty_active(context, date(2024, 1, 1))
