"""The states of an escalation and the device actions that move it. Pure: no I/O."""

from __future__ import annotations

from enum import StrEnum


class EscalationState(StrEnum):
    OPEN = "open"  # opened by a technician, not yet in an export batch
    EXPORTED = "exported"  # sent to the vendor in an export batch
    ACKNOWLEDGED = "acknowledged"  # the vendor gave its RMA number
    SHIPPED = "shipped"  # the device went to the vendor
    CLOSED = "closed"  # repaired, replaced or denied


class Outcome(StrEnum):
    REPAIRED = "repaired"
    REPLACED = "replaced"
    DENIED = "denied"


OPEN_STATES = frozenset(EscalationState) - {EscalationState.CLOSED}

# For each device action on an escalated device: the escalation states it may start from and
# the state it leads to.
STEPS: dict[str, tuple[frozenset[EscalationState], EscalationState]] = {
    "escalation_export": (frozenset({EscalationState.OPEN}), EscalationState.EXPORTED),
    # An RMA number may come by phone before the export reaches the vendor.
    "vendor_acknowledge": (
        frozenset({EscalationState.OPEN, EscalationState.EXPORTED}),
        EscalationState.ACKNOWLEDGED,
    ),
    "ship_to_vendor": (frozenset({EscalationState.ACKNOWLEDGED}), EscalationState.SHIPPED),
    # A vendor may close a claim at any point: an onsite repair needs no shipping, and a
    # denial may come before any RMA number.
    "vendor_return": (OPEN_STATES, EscalationState.CLOSED),
    "vendor_deny": (OPEN_STATES, EscalationState.CLOSED),
    "vendor_replace": (OPEN_STATES, EscalationState.CLOSED),
}

OUTCOMES = {
    "vendor_return": Outcome.REPAIRED,
    "vendor_deny": Outcome.DENIED,
    "vendor_replace": Outcome.REPLACED,
}


def next_state(action: str, current: EscalationState) -> EscalationState:
    """Return the state `action` moves an escalation in `current` to.

    Raises ValueError, with a message that names the allowed states, when it may not.
    """
    starts, target = STEPS[action]
    if current not in starts:
        allowed = ", ".join(sorted(state.value for state in starts))
        raise ValueError(
            f"the escalation is {current.value}; {action!r} applies to an escalation that is "
            f"{allowed}"
        )
    return target
