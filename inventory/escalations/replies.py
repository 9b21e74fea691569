"""A vendor's replies: RMA numbers and outcomes, one at a time or as a CSV file.

A reply row names an escalation and gives any of its RMA number, its outcome (repaired,
replaced or denied), the replacement unit's serial number and a reason. Each becomes the
device actions the lifecycle has for it, applied through the device service. A file is
checked whole: every row is tried, and when any is rejected nothing is kept.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal, Role
from inventory.db import Database
from inventory.devices.models import Device
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action_in
from inventory.errors import InvalidInputError, NotFoundError, ServiceError
from inventory.escalations.exports import restore
from inventory.escalations.models import Escalation
from inventory.escalations.rules import EscalationState, Outcome
from inventory.escalations.schemas import VendorUpdateReport, VendorUpdateRow

MAX_ROWS = 20_000
_OUTCOME_ACTIONS = {
    Outcome.REPAIRED: "vendor_return",
    Outcome.DENIED: "vendor_deny",
    Outcome.REPLACED: "vendor_replace",
}
# Header names matched after folding case and spaces; the first of each is what exports write.
_HEADERS = {
    "escalation_id": ("escalation id", "escalation", "claim id"),
    "rma_number": ("rma number", "rma", "dispatch number"),
    "outcome": ("outcome", "result"),
    "replacement_serial": ("replacement serial", "new serial"),
    "reason": ("reason", "notes", "vendor notes"),
}


@dataclass
class Reply:
    line: int
    escalation_id: int | None
    rma_number: str = ""
    outcome: str = ""
    replacement_serial: str = ""
    reason: str = ""
    problems: list[str] = field(default_factory=list)


class _RowsRejected(Exception):
    """Raised to roll back a reply file in which a row was rejected."""


def _fold(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def parse_replies(text: str) -> list[Reply]:
    """Read a reply CSV; InvalidInputError when the header lacks the escalation id column."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        raise InvalidInputError("The reply file is empty; send the exported file with replies.")
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        folded = _fold(name)
        for key, aliases in _HEADERS.items():
            if folded in aliases and key not in positions:
                positions[key] = index
    if "escalation_id" not in positions:
        raise InvalidInputError(
            "The reply file has no Escalation ID column; send back the exported file with the "
            "RMA Number, Outcome, Replacement Serial and Reason columns filled in.",
            header=header[:30],
        )
    replies: list[Reply] = []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(replies) >= MAX_ROWS:
            raise InvalidInputError(f"The reply file has more than {MAX_ROWS:,} rows; split it.")

        def cell(key: str, cells: list[str] = cells) -> str:
            index = positions.get(key)
            # The export prefixed "'" to cells a spreadsheet would run as formulas.
            value = cells[index].strip() if index is not None and index < len(cells) else ""
            return restore(value)

        raw_id = cell("escalation_id")
        reply = Reply(line=line, escalation_id=int(raw_id) if raw_id.isdigit() else None)
        if reply.escalation_id is None:
            reply.problems.append(f"Escalation ID {raw_id!r} is not a number")
        reply.rma_number = cell("rma_number")
        reply.outcome = cell("outcome").casefold()
        reply.replacement_serial = cell("replacement_serial")
        reply.reason = cell("reason")
        replies.append(reply)
    return replies


def _steps(reply: Reply, escalation: Escalation) -> list[tuple[str, dict[str, Any]]]:
    """Return the device actions a reply requests; raise ValueError when it cannot be applied."""
    steps: list[tuple[str, dict[str, Any]]] = []
    state = EscalationState(escalation.state)
    if reply.outcome and reply.outcome not in set(Outcome):
        raise ValueError(
            f"Outcome {reply.outcome!r} is not one of {', '.join(Outcome)} (or leave it empty)"
        )
    if state is EscalationState.CLOSED:
        if reply.outcome and reply.outcome != escalation.outcome:
            raise ValueError(f"the escalation is already closed as {escalation.outcome}")
        return []
    if reply.rma_number:
        if escalation.rma_number and escalation.rma_number != reply.rma_number:
            raise ValueError(
                f"the escalation already has RMA number {escalation.rma_number!r}, not "
                f"{reply.rma_number!r}"
            )
        if not escalation.rma_number:
            steps.append(("vendor_acknowledge", {"rma_number": reply.rma_number}))
    if reply.outcome:
        outcome = Outcome(reply.outcome)
        if outcome is Outcome.REPAIRED:
            data = {"outcome": reply.reason or "Repaired by the vendor"}
        elif outcome is Outcome.DENIED:
            if not reply.reason:
                raise ValueError("a denial needs a Reason")
            data = {"reason": reply.reason}
        else:
            if not reply.replacement_serial:
                raise ValueError("a replacement needs the Replacement Serial of the new unit")
            data = {"replacement_serial": reply.replacement_serial}
        steps.append((_OUTCOME_ACTIONS[outcome], data))
    return steps


async def _apply_reply(
    session: AsyncSession,
    db: Database,
    reply: Reply,
    principal: Principal | None,
    vendor_id: int | None,
) -> VendorUpdateRow:
    row = VendorUpdateRow(
        line=reply.line, escalation_id=reply.escalation_id, asset_tag=None, actions=[], error=None
    )
    if reply.problems:
        row.error = "; ".join(reply.problems)
        return row
    escalation = await session.get(Escalation, reply.escalation_id)
    visible = (
        escalation is not None
        and vendor_id in (None, escalation.vendor_id)
        and (
            principal is None
            or principal.is_staff
            or (principal.role is Role.VENDOR and principal.vendor_id == escalation.vendor_id)
        )
    )
    if escalation is None or not visible:
        row.error = f"escalation {reply.escalation_id} not found"
        return row
    device = await session.get(Device, escalation.device_id)
    assert device is not None
    row.asset_tag = device.asset_tag
    try:
        steps = _steps(reply, escalation)
    except ValueError as exc:
        row.error = str(exc)
        return row
    try:
        async with session.begin_nested():
            for action, data in steps:
                await apply_action_in(
                    session,
                    db.settings,
                    device.asset_tag,
                    ActionRequest(action=action, data=data),
                    principal,
                )
                row.actions.append(action)
    except ServiceError as exc:
        row.actions = []
        row.error = exc.detail
    return row


async def apply_replies(
    db: Database,
    replies: list[Reply],
    principal: Principal | None,
    *,
    vendor_id: int | None = None,
    dry_run: bool = False,
) -> VendorUpdateReport:
    """Apply every reply in one transaction; keep them only when none was rejected."""
    if not replies:
        raise InvalidInputError("The reply file has no rows.")
    report: VendorUpdateReport | None = None
    try:
        async with db.write() as session:
            rows = [
                await _apply_reply(session, db, reply, principal, vendor_id) for reply in replies
            ]
            applied = not dry_run and all(row.error is None for row in rows)
            report = VendorUpdateReport(applied=applied, rows=rows)
            if not applied:
                raise _RowsRejected
    except _RowsRejected:
        pass
    assert report is not None
    return report


async def reply_one(
    db: Database, escalation_id: int, reply: Reply, principal: Principal | None
) -> VendorUpdateRow:
    """Apply one reply; raise, with the reason, when it is rejected, and change nothing."""
    reply.escalation_id = escalation_id
    report = await apply_replies(db, [reply], principal)
    row = report.rows[0]
    if row.error is not None:
        if row.error.startswith("escalation") and row.error.endswith("not found"):
            raise NotFoundError(f"Escalation {escalation_id} not found.", escalation=escalation_id)
        raise InvalidInputError(f"Escalation {escalation_id}: {row.error}.", line=row.line)
    return row
