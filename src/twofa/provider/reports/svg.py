"""Small charts as SVG text, drawn on the server: readable without JavaScript and under a CSP
that allows no inline script or style.

Hand-written rather than a charting library: the dashboard needs two shapes (stacked columns
over hours, horizontal bars per category), and the libraries that draw SVG in Python either
embed scripts and style sheets in their output (pygal), which the console's CSP would refuse,
or bring a plotting stack (matplotlib) for a few rectangles. Colours go in presentation
attributes (``fill``), never ``style``, for the same CSP.

Each chart is an ``<svg role="img">`` whose ``<title>`` names it and whose ``<desc>`` states
its totals in words, and every bar carries its own ``<title>`` ("14:00 UTC, approved: 3"), so
screen readers and tooltips read the numbers; the pages put the same numbers in a table
beside the picture. Every text is escaped (``markupsafe``): labels include operator-chosen
application names.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from twofa.provider.reports.model import Hourly

# A palette that stays distinguishable for the common colour-vision deficiencies (Okabe & Ito).
PALETTE = {
    "ok": "#009E73",
    "approved": "#009E73",
    "sent": "#0072B2",
    "failed": "#D55E00",
    "denied": "#D55E00",
    "expired": "#E69F00",
    "pending": "#56B4E9",
    "verified": "#009E73",
    "codes": "#56B4E9",
    "delivered": "#009E73",
}
FALLBACK = ("#0072B2", "#E69F00", "#CC79A7", "#F0E442", "#999999")
INK, GRID = "#333333", "#dddddd"


def colour(name: str, index: int = 0) -> str:
    return PALETTE.get(name, FALLBACK[index % len(FALLBACK)])


@dataclass(frozen=True, slots=True)
class Bar:
    """One category of a horizontal bar chart: a label and a value per series."""

    label: str
    values: tuple[tuple[str, int], ...]  # (series name, value), drawn side by side
    note: str = ""  # shown after the bars, e.g. "conversion 42 %"


def _markup(parts: list[str]) -> Markup:
    """The drawn parts as markup: every text in them went through ``escape``, every number
    was formatted here."""
    return Markup("".join(parts))  # noqa: S704 - built from escaped text only


def _id() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


def _open(width: int, height: int, title: str, desc: str) -> tuple[str, list[str]]:
    ident = _id()
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{ident}-t {ident}-d" font-family="sans-serif" font-size="11">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]
    return ident, head


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        left = x + index * 95
        parts.append(
            f'<rect x="{left:.1f}" y="{y - 9:.1f}" width="10" height="10" '
            f'fill="{colour(name, index)}"/>'
            f'<text x="{left + 14:.1f}" y="{y:.1f}" fill="{INK}">{escape(name)}</text>'
        )
    return parts


def stacked_hours(chart: Hourly, *, title: str, names: Sequence[str] | None = None) -> Markup:
    """Columns per hour, each stacking the series in ``names`` (default: all, in order)."""
    shown = [chart.get(n) for n in names] if names else list(chart.series)
    width, height = 720, 220
    left, right, top, bottom = 40, 10, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in shown) for i in range(chart.hours)]
    top_value = _nice_max(max(totals, default=0))
    described = ", ".join(f"{s.name} {s.total}" for s in shown)
    desc = f"{title} over the last {chart.hours} hours, per hour (UTC): {described}."
    _, parts = _open(width, height, title, desc)
    parts += _legend([s.name for s in shown], left, 14)
    for tick in (0, top_value // 2, top_value):
        y = top + plot_h - plot_h * tick / top_value
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="{INK}">{tick}</text>'
        )
    slot = plot_w / max(chart.hours, 1)
    for i in range(chart.hours):
        x = left + i * slot + slot * 0.12
        base = float(top + plot_h)
        hour = chart.hour(i).strftime("%H:00")
        for index, series in enumerate(shown):
            value = series.values[i]
            if not value:
                continue
            h = plot_h * value / top_value
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.76:.1f}" height="{h:.1f}" '
                f'fill="{colour(series.name, index)}" data-series="{escape(series.name)}" '
                f'data-value="{value}"><title>{hour} UTC, {escape(series.name)}: {value}'
                f"</title></rect>"
            )
        if i % 3 == 0:
            parts.append(
                f'<text x="{x + slot * 0.38:.1f}" y="{height - bottom + 14}" '
                f'text-anchor="middle" fill="{INK}">{hour}</text>'
            )
    parts.append("</svg>")
    return _markup(parts)


def bars(items: Sequence[Bar], *, title: str, unit: str = "") -> Markup:
    """Horizontal bars: a row per category, its series side by side."""
    names: list[str] = []
    for item in items:
        names += [n for n, _ in item.values if n not in names]
    row_h = 14 * max(len(names), 1) + 10
    width, label_w, note_w = 720, 130, 130
    top = 28
    height = top + row_h * max(len(items), 1) + 8
    plot_w = width - label_w - note_w - 40  # room for the value after a full bar
    biggest = _nice_max(max((v for item in items for _, v in item.values), default=0))
    described = "; ".join(
        f"{item.label}: "
        + ", ".join(f"{n} {v}" for n, v in item.values)
        + (f" ({item.note})" if item.note else "")
        for item in items
    )
    desc = f"{title}. {described or 'Nothing to show.'}"
    _, parts = _open(width, height, title, desc)
    parts += _legend(names, label_w, 14)
    if not items:
        parts.append(
            f'<text x="{width / 2}" y="{top + 14}" text-anchor="middle" fill="{INK}">'
            "Nothing in this window</text>"
        )
    for row, item in enumerate(items):
        y = top + row * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{INK}">{escape(item.label[:22])}</text>'
        )
        for index, (name, value) in enumerate(item.values):
            w = plot_w * value / biggest
            by = y + 4 + index * 14
            parts.append(
                f'<rect x="{label_w}" y="{by}" width="{max(w, 0.5):.1f}" height="12" '
                f'fill="{colour(name, names.index(name))}" data-series="{escape(name)}" '
                f'data-value="{value}"><title>{escape(item.label)}, {escape(name)}: '
                f"{value}{escape(unit)}</title></rect>"
                f'<text x="{label_w + w + 4:.1f}" y="{by + 10}" fill="{INK}">{value}</text>'
            )
        if item.note:
            parts.append(
                f'<text x="{width - note_w + 6}" y="{y + row_h / 2 + 4:.1f}" '
                f'fill="{INK}">{escape(item.note)}</text>'
            )
    parts.append("</svg>")
    return _markup(parts)
