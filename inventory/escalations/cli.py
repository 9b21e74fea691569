"""The work behind `inventory export vendor` and `inventory escalations list`."""

from __future__ import annotations

import sys
from pathlib import Path

import inventory.models  # noqa: F401  (every table, for the foreign keys)
from inventory.db import Database
from inventory.escalations import batches, service
from inventory.escalations.controller import batch_stream


async def write_batch(
    db: Database, code: str, fmt: str, out: Path | None, batch_id: int | None
) -> str:
    """Make a batch (or take an earlier one), write it in `fmt`, and return a summary line."""
    if batch_id is None:
        batch = await batches.create_batch(db, code, None)
    else:
        batch, _ = await batches.get_batch(db, batch_id, None)
    stream = await batch_stream(db, None, batch.id, fmt)
    target = out.open("wb") if out is not None else sys.stdout.buffer
    try:
        body = stream.iterator
        if hasattr(body, "__aiter__"):
            async for chunk in body:
                target.write(chunk)
        else:
            for chunk in body:
                target.write(chunk)
    finally:
        if out is not None:
            target.close()
        else:
            target.flush()
    noun = "escalation" if batch.row_count == 1 else "escalations"
    where = f" to {out}" if out is not None else ""
    return (
        f"Batch {batch.id} for {batch.vendor}: {batch.row_count} {noun}{where} "
        f"(checksum {batch.checksum[:16]}...)."
    )


async def list_all(db: Database, vendor: str | None, state: str | None) -> list[str]:
    lines = []
    cursor = None
    while True:
        page = await service.list_escalations(
            db, None, vendor=vendor, state=state, cursor=cursor, limit=500
        )
        for item in page.items:
            rma = item.rma_number or "-"
            lines.append(
                f"{item.id:>7}  {item.vendor:<10} {item.asset_tag:<14} {item.state:<12} "
                f"{item.outcome or '':<9} RMA {rma:<14} {item.opened_at:%Y-%m-%d}  "
                f"{item.problem[:50]}"
            )
        if page.next_cursor is None:
            return lines
        cursor = page.next_cursor
