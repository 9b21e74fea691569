"""The shapes a report is made of: tables of figures, each with an optional chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

Cell = str | int | date | None


@dataclass(frozen=True)
class Chart:
    """A bar chart of one table's counts: "bars" run across, "columns" stand over months."""

    kind: str
    labels: list[str]
    series: dict[str, list[int]]


@dataclass
class ReportTable:
    """One section of a report, the same on the page and in every download."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str | None = None
    chart: Chart | None = None
    # Positions of rows that are totals, shown in bold.
    total_rows: set[int] = field(default_factory=set)


@dataclass
class Report:
    """A titled list of tables, with the period and the day the figures were taken."""

    title: str
    subtitle: str
    today: date
    period_label: str
    tables: list[ReportTable]
    context: dict[str, Any] = field(default_factory=dict)

    def table(self, key: str) -> ReportTable:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)
