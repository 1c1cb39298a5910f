"""Server-side SVG charts: horizontal bars, a monthly line and the regency choropleth.

Pure functions: no Flask, no database. Callers pass labels and numbers already translated and
formatted for the reader's locale; everything user-visible is XML-escaped here. Every chart is
an ``<svg role="img">`` with ``<title>`` and ``<desc>`` and only presentation attributes (no
inline ``style``), so it passes the page's ``style-src 'self'`` policy and works without JS.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from registry.reference.maps import NODATA, map_shapes

FONT = 'font-family="system-ui, sans-serif"'
INK, MUTED, LINE, BAR = "#1d2329", "#5b6670", "#d9dcd6", "#0e7a62"
# Sequential greens (ColorBrewer "Greens", 5 classes): light = little, dark = much.
PALETTE = ("#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as the reader should see it, e.g. "Rp 1.234.000"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _open(chart_id: str, width: float, height: float, title: str, desc: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_e(chart_id)}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
            f'role="img" aria-labelledby="{_e(chart_id)}-t {_e(chart_id)}-d" {FONT}>'
            f'<title id="{_e(chart_id)}-t">{_e(title)}</title>'
            f'<desc id="{_e(chart_id)}-d">{_e(desc)}</desc>')


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def bar_chart(chart_id: str, bars: Sequence[Bar], *, title: str, desc: str,
              width: int = 640) -> str:
    """Horizontal bars, longest first as given; the value is written at each bar's end."""
    label_w, value_w, row_h, pad = 190, 130, 26, 6
    height = max(1, len(bars)) * row_h + 2 * pad
    top = max((b.value for b in bars), default=0) or 1
    span = width - label_w - value_w
    parts = [_open(chart_id, width, height, title, desc)]
    for i, b in enumerate(bars):
        y = pad + i * row_h
        w = max(0.0, b.value) / top * span
        parts.append(
            f'<g><title>{_e(b.label)}: {_e(b.text)}</title>'
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="{INK}">{_e(_short(b.label, 28))}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{BAR}" rx="2"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="12" '
            f'fill="{MUTED}">{_e(b.text)}</text></g>')
    if not bars:
        parts.append(f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="13" '
                     f'fill="{MUTED}">—</text>')
    parts.append("</svg>")
    return "".join(parts)


def nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at or above ``value``: round axis maxima."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


def _y_axis(ymax: float, axis: Callable[[float], str], *, left: int, right: int, top: int,
            plot_h: int, width: int) -> list[str]:
    """The y axis of a line chart: five grid lines, 0 to ``ymax`` in four steps, labelled."""
    parts = []
    for i in range(5):
        v = ymax * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{LINE}"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="{MUTED}">{_e(axis(v))}</text>')
    return parts


def line_chart(chart_id: str, points: Sequence[Bar], *, title: str, desc: str,
               axis: Callable[[float], str], width: int = 900, height: int = 260) -> str:
    """One line over months (``Bar.label`` is the x label), with a y axis of four steps."""
    left, right, top, bottom = 90, 40, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = nice_ceiling(max((p.value for p in points), default=0))
    parts = [_open(chart_id, width, height, title, desc)]
    parts += _y_axis(ymax, axis, left=left, right=right, top=top, plot_h=plot_h, width=width)
    n = len(points)
    step = plot_w / max(1, n - 1)
    every = max(1, math.ceil(n / 10))  # at most ten x labels, however long the period
    coords = []
    for i, p in enumerate(points):
        x = left + (i * step if n > 1 else plot_w / 2)
        y = top + plot_h - max(0.0, p.value) / ymax * plot_h
        coords.append((x, y))
        if i % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" '
                         f'font-size="11" fill="{MUTED}">{_e(p.label)}</text>')
    if len(coords) > 1:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{BAR}" stroke-width="2.5"/>')
    for (x, y), p in zip(coords, points, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{BAR}">'
                     f'<title>{_e(p.label)}: {_e(p.text)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def class_breaks(values: Sequence[float], classes: int = len(PALETTE)) -> list[float]:
    """Upper bounds of up to ``classes`` quantile classes of the positive values."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    breaks: list[float] = []
    for i in range(1, classes + 1):
        b = positive[min(len(positive) - 1, math.ceil(i * len(positive) / classes) - 1)]
        if not breaks or b > breaks[-1]:
            breaks.append(b)
    return breaks


def colour_for(value: float, breaks: Sequence[float]) -> str:
    if value <= 0 or not breaks:
        return NODATA
    offset = len(PALETTE) - len(breaks)  # few classes use the darker end
    for i, b in enumerate(breaks):
        if value <= b:
            return PALETTE[offset + i]
    return PALETTE[-1]


def regency_map(chart_id: str, values: dict[str, float], *, title: str, desc: str,
                names: dict[str, str], fmt: Callable[[float], str], no_data: str) -> str:
    """Regencies shaded by ``values`` (quantile classes), each with a tooltip title."""
    shapes, width, height = map_shapes()
    breaks = class_breaks(list(values.values()))
    parts: list[str] = []
    for s in shapes:
        value = values.get(s.code, 0.0)
        label = f"{names.get(s.code, s.name)}: {fmt(value) if value > 0 else no_data}"
        parts.append(f'<path d="{s.path}" fill="{colour_for(value, breaks)}" stroke="#ffffff" '
                     f'stroke-width="0.6" data-regency="{_e(s.code)}"><title>{_e(label)}</title>'
                     f'</path>')
    items = [(NODATA, no_data)]
    offset = len(PALETTE) - len(breaks)
    lower = min((v for v in values.values() if v > 0), default=0.0)
    for i, b in enumerate(breaks):
        items.append((PALETTE[offset + i], fmt(b) if lower == b else f"{fmt(lower)} – {fmt(b)}"))
        lower = b
    # Legend entries flow into as many rows as they need (about 6.2 px per character).
    x, y, rows = 0.0, height + 8, []
    for colour, text in items:
        item_w = 28 + 6.2 * len(text)
        if x and x + item_w > width:
            x, y = 0.0, y + 20
        rows.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="14" height="14" fill="{colour}" '
                    f'stroke="{LINE}"/><text x="{x + 18:.0f}" y="{y + 12:.0f}" font-size="11" '
                    f'fill="{INK}">{_e(text)}</text>')
        x += item_w
    return "".join([_open(chart_id, width, y + 22, title, desc), *parts, *rows, "</svg>"])


def progress_chart(chart_id: str, labels: Sequence[str], achieved: Sequence[float | None],
                   expected: Sequence[float], *, title: str, desc: str,
                   axis: Callable[[float], str], achieved_name: str, expected_name: str,
                   texts: Sequence[str], width: int = 900, height: int = 280) -> str:
    """A target's year: what was achieved by the end of each month (a solid line, up to the
    last month measured) against the linear path to the target (dashed), with a legend.
    ``texts`` are the achieved values as the reader reads them (tooltips)."""
    left, right, top, bottom = 90, 40, 12, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = nice_ceiling(max([*expected, *(a for a in achieved if a is not None)], default=0))
    parts = [_open(chart_id, width, height, title, desc)]
    parts += _y_axis(ymax, axis, left=left, right=right, top=top, plot_h=plot_h, width=width)
    n = len(labels)
    step = plot_w / max(1, n - 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - max(0.0, value) / ymax * plot_h

    for i, label in enumerate(labels):
        parts.append(f'<text x="{xy(i, 0)[0]:.1f}" y="{top + plot_h + 18}" '
                     f'text-anchor="middle" font-size="11" fill="{MUTED}">{_e(label)}</text>')
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(expected)))
    parts.append(f'<polyline points="{path}" fill="none" stroke="{MUTED}" stroke-width="1.5" '
                 f'stroke-dasharray="6 4"/>')
    done = [(i, a) for i, a in enumerate(achieved) if a is not None]
    if len(done) > 1:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, a) for i, a in done))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{BAR}" stroke-width="2.5"/>')
    for i, a in done:
        x, y = xy(i, a)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{BAR}">'
                     f'<title>{_e(labels[i])}: {_e(texts[i])}</title></circle>')
    legend_y = height - 16
    parts.append(
        f'<line x1="{left}" x2="{left + 24}" y1="{legend_y}" y2="{legend_y}" stroke="{BAR}" '
        f'stroke-width="2.5"/><text x="{left + 30}" y="{legend_y + 4}" font-size="12" '
        f'fill="{INK}">{_e(achieved_name)}</text>'
        f'<line x1="{left + 260}" x2="{left + 284}" y1="{legend_y}" y2="{legend_y}" '
        f'stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<text x="{left + 290}" y="{legend_y + 4}" font-size="12" fill="{INK}">'
        f'{_e(expected_name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
