"""Bar charts as inline SVG, drawn on the server.

The pages send a Content-Security-Policy without inline styles or scripts, so the charts use
SVG presentation attributes only. A chart scales to the width of its container (a phone
included) and prints as it shows.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from inventory.reports.tables import Chart

# Series colours, with at least 4.5:1 contrast on white for the value labels in them.
COLOURS = ("#0b4f8a", "#b34700", "#2e6b30", "#6a3d9a")
_WIDTH = 640
_BAR_HEIGHT = 22
_GAP = 8
_LABEL_WIDTH = 230
_FONT = 'font-family="system-ui, sans-serif" font-size="13"'


def render_chart(chart: Chart, title: str) -> Markup:
    if chart.kind == "columns":
        return _columns(chart, title)
    return _bars(chart, title)


def _open_svg(height: int, title: str, chart_id: str) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(chart_id)}" role="img" '
        f'viewBox="0 0 {_WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}"><title>'
        f"{escape(title)}</title>"
    )


def _bars(chart: Chart, title: str) -> Markup:
    """Draw one horizontal bar per label, longest value across the full width."""
    values = next(iter(chart.series.values()), [])
    peak = max(values, default=0) or 1
    height = max(len(values), 1) * (_BAR_HEIGHT + _GAP) + _GAP
    plot = _WIDTH - _LABEL_WIDTH - 60
    parts = [_open_svg(height, title, title)]
    if not values:
        parts.append(f'<text x="0" y="20" {_FONT} fill="#535b6b">No devices.</text>')
    for index, (label, value) in enumerate(zip(chart.labels, values, strict=True)):
        y = _GAP + index * (_BAR_HEIGHT + _GAP)
        width = round(plot * value / peak) if value else 0
        shown = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" {_FONT} '
            f'fill="#1a1f2b">{escape(shown)}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{width}" height="{_BAR_HEIGHT}" '
            f'fill="{COLOURS[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{_LABEL_WIDTH + width + 6}" y="{y + 16}" {_FONT} fill="#1a1f2b" '
            f'class="chart-value">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above


def _columns(chart: Chart, title: str) -> Markup:
    """Draw grouped columns per month, one colour per series, with a legend on top."""
    height = 220
    top, bottom = 34, 40
    plot_height = height - top - bottom
    names = list(chart.series)
    peak = max((max(values, default=0) for values in chart.series.values()), default=0) or 1
    slot = (_WIDTH - 40) / max(len(chart.labels), 1)
    column = max(min(slot / (len(names) + 1), 28), 2)
    parts = [_open_svg(height, title, title)]

    for index, name in enumerate(names):
        x = 40 + index * 200
        parts.append(
            f'<rect x="{x}" y="6" width="14" height="14" fill="{COLOURS[index % 4]}"/>'
            f'<text x="{x + 20}" y="18" {_FONT} fill="#1a1f2b">{escape(name)}</text>'
        )
    parts.append(
        f'<line x1="36" y1="{top + plot_height}" x2="{_WIDTH}" y2="{top + plot_height}" '
        'stroke="#9aa1ad"/>'
        f'<text x="32" y="{top + 10}" text-anchor="end" {_FONT} fill="#535b6b">{peak}</text>'
    )

    for month_index, label in enumerate(chart.labels):
        x0 = 40 + month_index * slot
        for index, name in enumerate(names):
            value = chart.series[name][month_index]
            bar = round(plot_height * value / peak)
            left = x0 + index * column
            parts.append(
                f'<rect x="{left:.1f}" y="{top + plot_height - bar}" width="{column - 1:.1f}" '
                f'height="{bar}" fill="{COLOURS[index % 4]}"><title>{escape(label)}, '
                f"{escape(name)}: {value}</title></rect>"
            )
        if len(chart.labels) <= 12 or month_index % 3 == 0:
            parts.append(
                f'<text x="{x0 + slot / 2:.1f}" y="{top + plot_height + 16}" '
                f'text-anchor="middle" font-family="system-ui, sans-serif" font-size="11" '
                f'fill="#535b6b">{escape(label[2:])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above
