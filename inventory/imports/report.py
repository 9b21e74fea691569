"""The report of an import: what happened to every row, as text, CSV or JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
REJECTED = "rejected"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, REJECTED)

REPORT_HEADER = ("line", "key", "outcome", "reasons")
# Rejected rows kept in memory for the text report and the API; the CSV report has them all.
MAX_KEPT_REJECTIONS = 1000


@dataclass(frozen=True)
class RowResult:
    line: int
    # The row's asset tag, site code or employee number, as far as it could be read.
    key: str
    outcome: str
    reasons: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """Counts per outcome, the column mapping used, and the rows that were rejected.

    Every row is also passed to `row_sink` when one is given, so a caller can write the full
    report as the file is read without keeping it in memory.
    """

    kind: str
    source: str = ""
    format_label: str = ""
    mapping: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    rejections: list[RowResult] = field(default_factory=list)
    new_models: list[str] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False
    row_sink: Callable[[RowResult], None] | None = None

    def add(self, result: RowResult) -> None:
        self.counts[result.outcome] += 1
        if result.outcome == REJECTED and len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append(result)
        if self.row_sink is not None:
            self.row_sink(result)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def status_line(self) -> str:
        counts = ", ".join(f"{self.counts[name]:,} {name}" for name in OUTCOMES)
        if self.committed:
            verdict = "Imported"
        elif self.dry_run and not self.counts[REJECTED]:
            verdict = "Dry run, nothing written; the import would succeed"
        elif self.counts[REJECTED]:
            verdict = "Nothing written, because rows were rejected"
        else:
            verdict = "Nothing written"
        return f"{verdict}: {self.rows:,} rows ({counts})."

    def text(self) -> str:
        lines = [f"Import of {self.kind} from {self.source} ({self.format_label})"]
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        lines.append("Columns:")
        lines.extend(f"  {line}" for line in self.mapping)
        if self.new_models:
            lines.append("Device models created: " + "; ".join(self.new_models))
        for result in self.rejections:
            lines.append(f"line {result.line} ({result.key or 'no key'}): rejected: ")
            lines[-1] += " ".join(result.reasons)
        if self.counts[REJECTED] > len(self.rejections):
            lines.append(
                f"... {self.counts[REJECTED] - len(self.rejections):,} more rejected rows are "
                "listed in the CSV report."
            )
        lines.append(self.status_line())
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "format": self.format_label,
            "mapping": self.mapping,
            "warnings": self.warnings,
            "counts": self.counts,
            "new_models": self.new_models,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "rejected_rows": [
                {"line": row.line, "key": row.key, "reasons": list(row.reasons)}
                for row in self.rejections
            ],
            "summary": self.status_line(),
        }


def csv_line(result: RowResult) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [result.line, result.key, result.outcome, " ".join(result.reasons)]
    )
    return buffer.getvalue()


def csv_header() -> str:
    return ",".join(REPORT_HEADER) + "\r\n"
