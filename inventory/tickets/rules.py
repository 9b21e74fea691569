"""Ticket severity, impact, priority and states. Pure: no I/O."""

from __future__ import annotations

SEVERITIES = {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}
IMPACTS = {"person": "One person", "classroom": "A classroom or group", "site": "The whole site"}
TICKET_STATES = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved"}
TICKET_TRANSITIONS = {
    "open": {"in_progress", "resolved"},
    "in_progress": {"open", "resolved"},
    "resolved": {"open"},
}

# Priority by severity (rows) and impact (columns): 1 is handled first, 4 last.
PRIORITY = {
    "critical": {"person": 2, "classroom": 1, "site": 1},
    "high": {"person": 3, "classroom": 2, "site": 1},
    "medium": {"person": 3, "classroom": 3, "site": 2},
    "low": {"person": 4, "classroom": 4, "site": 3},
}


def ticket_priority(severity: str, impact: str) -> int:
    """Return the priority (1 to 4) of a severity and impact; raises ValueError on others."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    if impact not in IMPACTS:
        raise ValueError(f"unknown impact {impact!r}; use one of {', '.join(IMPACTS)}")
    return PRIORITY[severity][impact]
