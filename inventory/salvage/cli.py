"""The `inventory salvage`, `inventory recycling` and `inventory end-of-support` commands.

inventory.cli registers these groups. Each command imports inventory.cli's settings loader
and database runner when it runs, so that inventory.cli can import this module at its top.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import click
from pydantic import BaseModel, ValidationError

import inventory.models  # noqa: F401  (every table, for the foreign keys)
from inventory.db import Database
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.lifecycle import SALVAGE_OUTCOMES, SANITIZATION_METHODS
from inventory.salvage import end_of_support, recycling, service
from inventory.salvage.manifest import FORMATS, manifest_csv, manifest_pdf
from inventory.salvage.schemas import (
    AssessmentCreate,
    BatchClose,
    BatchCreate,
    DecisionCreate,
    SanitizationCreate,
)

T = TypeVar("T")
S = TypeVar("S", bound=BaseModel)


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    from inventory.cli import load_settings, run_with_db

    return run_with_db(load_settings(), work)


def _build(schema: type[S], **values: object) -> S:
    """Validate command options into a request shape; report problems as a usage error."""
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        raise click.UsageError(f"Invalid options: {problems}") from None


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD.") from None


@click.group("salvage")
def salvage_group() -> None:
    """Salvage: request, assess, sanitize and decide reuse, harvest or recycle."""


@salvage_group.command("queue")
@click.option("--site", metavar="CODE", help="Only devices at this site.")
def salvage_queue(site: str | None) -> None:
    """List the devices awaiting salvage, with their latest recommendation."""

    async def work(db: Database) -> list[str]:
        lines = []
        cursor = None
        while True:
            page = await service.salvage_queue(db, site, cursor=cursor, limit=500)
            for item in page.items:
                recommendation = item.recommendation or "not assessed"
                sanitized = "sanitized" if item.sanitized else "not sanitized"
                lines.append(
                    f"{item.asset_tag:<14} {item.site:<8} {item.manufacturer} {item.model:<28} "
                    f"{recommendation:<12} {sanitized}"
                )
            if page.next_cursor is None:
                return lines
            cursor = page.next_cursor

    lines = _run(work)
    for line in lines:
        click.echo(line)
    click.echo(f"{recycling.device_count_text(len(lines))} awaiting salvage.", err=True)


@salvage_group.command("request")
@click.argument("asset_tag")
@click.option("--technician", required=True, metavar="EMPLOYEE_NUMBER", help="Who pulled it.")
@click.option("--reason", required=True, help="Why the device is pulled for salvage.")
def salvage_request(asset_tag: str, technician: str, reason: str) -> None:
    """Pull ASSET_TAG for a salvage assessment (the request_salvage action)."""
    request = _build(
        ActionRequest, action="request_salvage", technician=technician, data={"reason": reason}
    )
    result = _run(lambda db: apply_action(db, asset_tag, request))
    click.echo(f"{result.device.asset_tag}: {result.event.from_state} -> {result.device.state}")


@salvage_group.command("assess")
@click.argument("asset_tag")
@click.option("--technician", required=True, metavar="EMPLOYEE_NUMBER", help="Who assessed it.")
@click.option(
    "--grade",
    required=True,
    type=click.Choice(["A", "B", "C", "D"], case_sensitive=False),
    help="Condition: A like new, B worn but sound, C damaged but repairable, D broken.",
)
@click.option("--repair-cost", required=True, type=Decimal, help="Estimated repair cost, dollars.")
@click.option("--replacement-cost", required=True, type=Decimal, help="Replacement cost, dollars.")
@click.option(
    "--battery-health",
    type=click.IntRange(0, 100),
    help="Battery capacity as percent of design; leave out when there is no battery.",
)
@click.option("--missing-part", "missing_parts", multiple=True, help="A missing part; repeat.")
@click.option("--notes", help="Free text for the record.")
def salvage_assess(
    asset_tag: str,
    technician: str,
    grade: str,
    repair_cost: Decimal,
    replacement_cost: Decimal,
    battery_health: int | None,
    missing_parts: tuple[str, ...],
    notes: str | None,
) -> None:
    """Record an assessment of ASSET_TAG and print the recommendation with its reasons."""
    data = _build(
        AssessmentCreate,
        technician=technician,
        condition_grade=grade,
        repair_cost=repair_cost,
        replacement_cost=replacement_cost,
        battery_health=battery_health,
        missing_parts=list(missing_parts),
        notes=notes,
    )
    read = _run(lambda db: service.create_assessment(db, asset_tag, data, None))
    click.echo(f"Assessment {read.id} of {read.asset_tag}: recommended {read.recommendation}")
    for reason in read.reasons:
        click.echo(f"  - {reason}")


@salvage_group.command("sanitize")
@click.argument("asset_tag")
@click.option(
    "--method",
    required=True,
    type=click.Choice(SANITIZATION_METHODS),
    help="clear, purge or destroy, after NIST SP 800-88 Rev. 1.",
)
@click.option("--tool", required=True, help="Software or device used, with its version.")
@click.option("--technician", required=True, metavar="EMPLOYEE_NUMBER", help="Who did it.")
@click.option(
    "--verified-by", required=True, metavar="EMPLOYEE_NUMBER", help="Who verified the result."
)
@click.option(
    "--date", "performed_on", callback=_date, help="Day of the work, YYYY-MM-DD; default today."
)
@click.option("--notes", help="Free text for the record.")
def salvage_sanitize(
    asset_tag: str,
    method: str,
    tool: str,
    technician: str,
    verified_by: str,
    performed_on: date | None,
    notes: str | None,
) -> None:
    """Record that the storage of ASSET_TAG was sanitized."""
    data = _build(
        SanitizationCreate,
        method=method,
        tool=tool,
        technician=technician,
        verified_by=verified_by,
        performed_on=performed_on,
        notes=notes,
    )
    read = _run(lambda db: service.record_sanitization(db, asset_tag, data, None))
    click.echo(
        f"Sanitization {read.id} of {read.asset_tag}: {read.method} with {read.tool} on "
        f"{read.performed_on.isoformat()}, verified by {read.verified_by}."
    )


@salvage_group.command("decide")
@click.argument("asset_tag")
@click.argument("decision", type=click.Choice(list(SALVAGE_OUTCOMES)))
@click.option("--technician", required=True, metavar="EMPLOYEE_NUMBER", help="Who decided.")
@click.option("--reason", help="Required when the decision differs from the recommendation.")
@click.option("--part", "parts", multiple=True, help="For harvest: a part taken; repeat.")
@click.option(
    "--spare-site", metavar="CODE", help="For harvest: site that stocks the parts; default its own."
)
def salvage_decide(
    asset_tag: str,
    decision: str,
    technician: str,
    reason: str | None,
    parts: tuple[str, ...],
    spare_site: str | None,
) -> None:
    """Decide DECISION (reuse, harvest or recycle) for ASSET_TAG's latest assessment."""
    data = _build(
        DecisionCreate,
        decision=decision,
        technician=technician,
        reason=reason,
        parts=list(parts),
        spare_site=spare_site,
    )
    assessment, result = _run(lambda db: service.decide(db, asset_tag, data, None))
    click.echo(
        f"{result.device.asset_tag}: {decision} (recommended {assessment.recommendation}); "
        f"now {result.device.state}."
    )


@click.group("recycling")
def recycling_group() -> None:
    """Recycling batches handed to a certified recycler."""


@recycling_group.group("batch")
def batch_group() -> None:
    """Create, list, close and print recycling batches."""


@batch_group.command("create")
@click.option("--site", metavar="CODE", help="Gather the site's devices; or give --region.")
@click.option("--region", help="Gather the region's devices; or give --site.")
@click.option("--recycler", required=True, help="Name of the certified recycler.")
@click.option("--pickup-date", required=True, callback=_date, help="Day of the pickup, YYYY-MM-DD.")
def batch_create(site: str | None, region: str | None, recycler: str, pickup_date: date) -> None:
    """Put the devices in recycle_pending at a site or region into a new batch."""
    data = _build(BatchCreate, site=site, region=region, recycler=recycler, pickup_date=pickup_date)
    batch = _run(lambda db: recycling.create_batch(db, data, None))
    click.echo(
        f"Recycling batch {batch.id}: {recycling.device_count_text(batch.device_count)} for "
        f"{batch.recycler}."
    )


@batch_group.command("list")
@click.option("--status", type=click.Choice([recycling.OPEN, recycling.CLOSED]))
def batch_list(status: str | None) -> None:
    """List recycling batches, newest first."""
    for batch in _run(lambda db: recycling.list_batches(db, status=status, limit=500)):
        where = batch.site or batch.region
        click.echo(
            f"{batch.id:>6}  {batch.status:<6} {where:<12} {batch.device_count:>6} devices  "
            f"{batch.recycler}  pickup {batch.pickup_date.isoformat()}  "
            f"certificate {batch.certificate_number or '-'}"
        )


@batch_group.command("close")
@click.argument("batch_id", type=int)
@click.option(
    "--technician", required=True, metavar="EMPLOYEE_NUMBER", help="Who handed them over."
)
@click.option("--certificate", help="The recycler's certificate number, if not recorded yet.")
def batch_close(batch_id: int, technician: str, certificate: str | None) -> None:
    """Close BATCH_ID: move its devices to recycled, one event each."""
    data = _build(BatchClose, technician=technician, certificate_number=certificate)
    batch = _run(lambda db: recycling.close_batch(db, batch_id, data, None))
    click.echo(
        f"Recycling batch {batch.id} closed: {recycling.device_count_text(batch.device_count)} "
        "recycled "
        f"(certificate {batch.certificate_number})."
    )


@batch_group.command("manifest")
@click.argument("batch_id", type=int)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
def batch_manifest(batch_id: int, fmt: str, out: Path | None) -> None:
    """Write BATCH_ID's manifest as CSV (to standard output by default) or PDF."""
    if fmt == "pdf" and out is None:
        raise click.UsageError("PDF needs --out FILE; a PDF is not written to a terminal.")
    batch, rows = _run(lambda db: recycling.manifest_rows(db, batch_id))
    body = manifest_csv(rows) if fmt == "csv" else manifest_pdf(batch, rows)
    if out is None:
        click.echo(body.decode("utf-8"), nl=False)
    else:
        out.write_bytes(body)
        click.echo(
            f"Manifest of batch {batch.id}: {recycling.device_count_text(len(rows))} to {out}.",
            err=True,
        )


@click.group("end-of-support")
def end_of_support_group() -> None:
    """End of support (AUE): import model dates and forecast replacements."""


@end_of_support_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report without saving.")
def eos_import(path: Path, dry_run: bool) -> None:
    """Set models' end of support from a CSV file (manufacturer, model, end_of_support)."""
    text = path.read_text(encoding="utf-8")
    report = _run(lambda db: end_of_support.import_model_dates(db, text, dry_run=dry_run))
    verb = "would update" if dry_run else "updated"
    click.echo(
        f"{verb} {report.updated}, unchanged {report.unchanged}, unmatched {len(report.unmatched)}."
    )
    for name in report.unmatched:
        click.echo(f"  no device model matches {name!r}", err=True)


@end_of_support_group.command("forecast")
@click.option("--site", metavar="CODE", help="Only this site.")
@click.option("--first-year", metavar="YYYY-YY", help="First fiscal year; default the current.")
@click.option("--years", type=click.IntRange(1, end_of_support.MAX_FORECAST_YEARS), default=5)
def eos_forecast(site: str | None, first_year: str | None, years: int) -> None:
    """Count devices reaching end of support per site and fiscal year, as CSV."""
    result = _run(
        lambda db: end_of_support.forecast(db, site_code=site, first_year=first_year, years=years)
    )
    click.echo("site,fiscal_year,devices")
    for row in result.rows:
        click.echo(f"{row.site},{row.fiscal_year},{row.devices}")
    click.echo(
        f"{recycling.device_count_text(result.already_unsupported)} reached end of support "
        f"before {result.first_fiscal_year}.",
        err=True,
    )
