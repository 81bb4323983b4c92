"""Inline SVG charts for the HTML report: no JavaScript, no external files."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c")


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.1f}"


def _nice_max(v: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``v`` (the axis top)."""
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= v)


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], *,
               width: int = 720, height: int = 240, chart_id: str = "") -> str:
    """A line chart of one or more series over the same labels (e.g. volume per bucket)."""
    pad_l, pad_r, pad_t, pad_b = 48, 12, 28, 36
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    n = max(len(labels), 1)
    top = _nice_max(max((max(s) if s else 0) for s in series.values()) if series else 0)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad_l + (w * i / (n - 1) if n > 1 else w / 2)
        return round(x, 1), round(pad_t + h - h * v / top, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{pad_l}" y="16" font-size="13" font-weight="600">{escape(title)}</text>']
    for k in range(5):
        v = top * k / 4
        y = pad_t + h - h * k / 4
        parts.append(f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{pad_l - 6}" y="{y + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{_fmt(v)}</text>')
    for i in sorted({0, n // 2, n - 1}) if labels else []:
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x}" y="{height - 8}" font-size="10" '
                     f'text-anchor="middle">{escape(labels[i])}</text>')
    for j, (name, values) in enumerate(series.items()):
        color = PALETTE[j % len(PALETTE)]
        pts = " ".join(f"{x},{y}" for x, y in (xy(i, v) for i, v in enumerate(values)))
        parts.append(f'<polyline class="series" data-series="{escape(name)}" fill="none" '
                     f'stroke="{color}" stroke-width="2" points="{pts}"/>')
        for i, v in enumerate(values):
            if v:
                x, y = xy(i, v)
                parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{color}" '
                             f'data-value="{v}"><title>{escape(name)} {escape(labels[i])}: '
                             f'{_fmt(v)}</title></circle>')
        parts.append(f'<text x="{pad_l + w - 90 * (len(series) - j)}" y="16" font-size="11" '
                     f'fill="{color}">■ {escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, items: Sequence[tuple[str, float]], *, unit: str = "",
              width: int = 720, bar_height: int = 22, chart_id: str = "") -> str:
    """Horizontal bars, one per item (e.g. the most used formulas)."""
    pad_l, pad_t = 140, 28
    height = pad_t + bar_height * max(len(items), 1) + 10
    w = width - pad_l - 70
    top = max((v for _, v in items), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="8" y="16" font-size="13" font-weight="600">{escape(title)}</text>']
    if not items:
        parts.append(f'<text x="{pad_l}" y="{pad_t + 15}" font-size="12">no data</text>')
    for i, (label, v) in enumerate(items):
        y = pad_t + i * bar_height
        bw = max(w * v / top, 1)
        parts.append(f'<text x="{pad_l - 6}" y="{y + bar_height * 0.65:.1f}" font-size="11" '
                     f'text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect class="bar" data-label="{escape(label)}" data-value="{v}" x="{pad_l}" '
                     f'y="{y + 3}" width="{bw:.1f}" height="{bar_height - 6}" fill="{PALETTE[0]}">'
                     f'<title>{escape(label)}: {_fmt(v)}{unit}</title></rect>')
        parts.append(f'<text x="{pad_l + bw + 6:.1f}" y="{y + bar_height * 0.65:.1f}" '
                     f'font-size="11">{_fmt(v)}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def grouped_bar_chart(title: str, groups: Sequence[str], series: dict[str, Sequence[float]], *,
                      unit: str = "", width: int = 720, height: int = 260,
                      chart_id: str = "") -> str:
    """Vertical bars grouped by label (e.g. p50/p95/p99 latency per tool)."""
    pad_l, pad_r, pad_t, pad_b = 56, 12, 28, 48
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    top = _nice_max(max((max(s) if s else 0) for s in series.values()) if series else 0)
    gw = w / max(len(groups), 1)
    bw = gw * 0.8 / max(len(series), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{pad_l}" y="16" font-size="13" font-weight="600">{escape(title)}</text>']
    for k in range(5):
        y = pad_t + h - h * k / 4
        parts.append(f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e5e7eb"/><text x="{pad_l - 6}" y="{y + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{_fmt(top * k / 4)}{escape(unit)}</text>')
    if not groups:
        parts.append(f'<text x="{pad_l + 10}" y="{pad_t + 20}" font-size="12">no data</text>')
    for gi, g in enumerate(groups):
        x0 = pad_l + gi * gw + gw * 0.1
        parts.append(f'<text x="{x0 + gw * 0.4:.1f}" y="{height - pad_b + 16}" font-size="10" '
                     f'text-anchor="middle">{escape(g)}</text>')
        for si, (name, values) in enumerate(series.items()):
            v = values[gi] or 0
            bh = h * v / top
            parts.append(f'<rect class="bar" data-group="{escape(g)}" data-series="{escape(name)}" '
                         f'data-value="{v}" x="{x0 + si * bw:.1f}" y="{pad_t + h - bh:.1f}" '
                         f'width="{bw * 0.9:.1f}" height="{bh:.1f}" '
                         f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(g)} {escape(name)}: '
                         f'{_fmt(v)}{escape(unit)}</title></rect>')
    for si, name in enumerate(series):
        parts.append(f'<text x="{pad_l + 60 * si}" y="{height - 8}" font-size="11" '
                     f'fill="{PALETTE[si % len(PALETTE)]}">■ {escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
