"""Server-rendered SVG charts (sparkline, bars, line with target), each with a text alternative.

Each chart is `role="img"` with a `<title>` and `<desc>` (aria-labelledby), sized by its
viewBox so CSS scales it to the screen; the page shows the same figures as a table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

_ids = itertools.count(1)
Number = int | float | Decimal


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(kind: str, width: int, height: int, title: str, desc: str) -> tuple[str, str]:
    n = next(_ids)
    head = (f'<svg class="chart chart-{kind}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="c{n}t c{n}d" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="c{n}t">{escape(title)}</title><desc id="c{n}d">{escape(desc)}</desc>')
    return head, "</svg>"


def sparkline(values: Sequence[Number | None], title: str, desc: str,
              width: int = 120, height: int = 32) -> Markup:
    """A small line of `values` (None: a gap), scaled to its own range."""
    head, tail = _open("spark", width, height, title, desc)
    known = [float(v) for v in values if v is not None]
    if len(known) < 2:
        return Markup(head + tail)  # noqa: S704 - text parts went through escape()
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
            continue
        y = height - 2 - (float(v) - low) / span * (height - 4)
        current.append(f"{_fmt(i * step)},{_fmt(y)}")
    if current:
        segments.append(current)
    lines = "".join(f'<polyline class="series" fill="none" points="{" ".join(s)}"/>'
                    for s in segments if len(s) > 1)
    return Markup(head + lines + tail)  # noqa: S704 - numbers only


def line_with_target(labels: Sequence[str], values: Sequence[Number | None],
                     target: Number | None, title: str, desc: str,
                     width: int = 340, height: int = 160, top: float = 100.0) -> Markup:
    """A percentage line over weeks, with a dashed target line and a dot per known value."""
    head, tail = _open("line", width, height, title, desc)
    left, right, upper, lower = 30, 6, 8, 20
    plot_w, plot_h = width - left - right, height - upper - lower
    step = plot_w / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return upper + plot_h - max(0.0, min(float(v), top)) / top * plot_h

    parts = []
    for tick in (0, 50, 100):
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_fmt(y(tick))}" '
                     f'y2="{_fmt(y(tick))}"/><text class="axis" x="{left - 4}" '
                     f'y="{_fmt(y(tick) + 4)}" text-anchor="end">{tick}</text>')
    if target is not None:
        parts.append(f'<line class="target" x1="{left}" x2="{width - right}" '
                     f'y1="{_fmt(y(target))}" y2="{_fmt(y(target))}" stroke-dasharray="4 3"/>')
    points = [(left + i * step, y(v)) for i, v in enumerate(values) if v is not None]
    if len(points) > 1:
        parts.append('<polyline class="series" fill="none" points="'
                     + " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in points) + '"/>')
    parts.extend(f'<circle class="dot" cx="{_fmt(px)}" cy="{_fmt(py)}" r="2.5"/>'
                 for px, py in points)
    if labels:
        for i in (0, len(labels) - 1):
            anchor = "start" if i == 0 else "end"
            parts.append(f'<text class="axis" x="{_fmt(left + i * step)}" y="{height - 4}" '
                         f'text-anchor="{anchor}">{escape(labels[i])}</text>')
    return Markup(head + "".join(parts) + tail)  # noqa: S704 - labels escaped


def bars(labels: Sequence[str], values: Sequence[Number | None], title: str, desc: str,
         width: int = 340, bar_height: int = 18, top: float | None = None,
         threshold: Number | None = None) -> Markup:
    """Horizontal bars, one per label, with the value written at the end of each bar."""
    gap, label_w, value_w = 6, 96, 52
    height = max(len(values), 1) * (bar_height + gap) + gap
    head, tail = _open("bars", width, height, title, desc)
    known = [float(v) for v in values if v is not None]
    scale = float(top) if top else (max(known) if known else 1.0) or 1.0
    plot_w = width - label_w - value_w
    parts = []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        yy = gap + i * (bar_height + gap)
        parts.append(f'<text class="axis" x="0" y="{yy + bar_height - 5}">{escape(label)}</text>')
        if v is None:
            parts.append(f'<text class="axis" x="{label_w}" y="{yy + bar_height - 5}">—</text>')
            continue
        w = max(0.0, min(float(v), scale)) / scale * plot_w
        over = threshold is not None and float(v) > float(threshold)
        parts.append(f'<rect class="bar{" over" if over else ""}" x="{label_w}" y="{yy}" '
                     f'width="{_fmt(w)}" height="{bar_height}" rx="2"/>'
                     f'<text class="value" x="{_fmt(label_w + w + 4)}" '
                     f'y="{yy + bar_height - 5}">{escape(_fmt(float(v)))}</text>')
    if threshold is not None and scale:
        tx = label_w + min(float(threshold), scale) / scale * plot_w
        parts.append(f'<line class="target" x1="{_fmt(tx)}" x2="{_fmt(tx)}" y1="0" '
                     f'y2="{height}" stroke-dasharray="4 3"/>')
    return Markup(head + "".join(parts) + tail)  # noqa: S704 - labels escaped
