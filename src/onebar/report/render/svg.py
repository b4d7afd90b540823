"""Inline SVG charts drawn server-side: no JavaScript, no library, nothing fetched by the page."""

from __future__ import annotations

import math
from collections.abc import Callable

from markupsafe import Markup, escape

PALETTE = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
    "#4b5563", "#65a30d", "#9333ea", "#ea580c", "#0d9488", "#be123c",
]  # fmt: skip


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _t(x: float) -> str:
    return f"{x:.1f}"


def nice_max(v: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `v` (at least 1)."""
    if v <= 1:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def _tick(v: float) -> str:
    return f"{v:g}" if v < 10 else f"{v:,.0f}"


def line_chart(
    title: str,
    series: dict[str, list[float | None]],
    labels: list[str],
    *,
    fmt: str = "{:.1f}",
    width: int = 460,
    height: int = 220,
) -> Markup:
    """One line per series over shared x labels; gaps where a value is None."""
    left, right, top, bottom = 48, 12, 28, 36
    pw, ph = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    vmax = nice_max(max(values) if values else 0.0)
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph - ph * v / vmax

    out = [
        f'<svg class="chart line" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="{left}" y="16" class="ctitle">{escape(title)}</text>',
    ]
    for k in range(5):
        tv = vmax * k / 4
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{_t(y(tv))}" y2="{_t(y(tv))}" class="grid"/>')
        out.append(f'<text x="{left - 4}" y="{_t(y(tv) + 4)}" class="axis" text-anchor="end">{_tick(tv)}</text>')
    step = max(1, n // 6)
    for i in range(0, n, step):
        out.append(
            f'<text x="{_t(x(i))}" y="{height - bottom + 16}" class="axis" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
    for s, (name, vs) in enumerate(series.items()):
        segs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                segs.append([])
                continue
            segs[-1].append(f"{_t(x(i))},{_t(y(v))}")
            out.append(
                f'<circle cx="{_t(x(i))}" cy="{_t(y(v))}" r="2.5" fill="{color(s)}">'
                f"<title>{escape(name)} {escape(labels[i])}: {escape(fmt.format(v))}</title></circle>"
            )
        for seg in segs:
            if len(seg) > 1:
                out.append(f'<polyline fill="none" stroke="{color(s)}" stroke-width="2" points="{" ".join(seg)}"/>')
    out.append("</svg>")
    return Markup("".join(out))


def legend(names: list[str]) -> Markup:
    items = "".join(
        f'<span class="key"><span class="swatch" style="background:{color(i)}"></span>{escape(n)}</span>'
        for i, n in enumerate(names)
    )
    return Markup(f'<div class="legend">{items}</div>')


def heat_grid(
    title: str,
    rows: list[str],
    cols: list[str],
    value: Callable[[str, str], float],
    note: Callable[[str, str], str],
    *,
    cell: int = 56,
) -> Markup:
    """A grid of shares 0..1 (darker = higher); `value(r, c)` gives the share, `note(r, c)` the tooltip."""
    left, top = 150, 70
    width, height = left + cell * len(cols) + 50, top + 28 * len(rows) + 10  # room for slanted labels
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="4" y="16" class="ctitle">{escape(title)}</text>',
    ]
    for j, c in enumerate(cols):
        cx = left + cell * j + cell / 2
        out.append(
            f'<text x="{_t(cx)}" y="{top - 8}" class="axis" text-anchor="start" '
            f'transform="rotate(-30 {_t(cx)} {top - 8})">{escape(c)}</text>'
        )
    for i, r in enumerate(rows):
        ry = top + 28 * i
        out.append(f'<text x="{left - 6}" y="{ry + 18}" class="axis" text-anchor="end">{escape(r)}</text>')
        for j, c in enumerate(cols):
            v = value(r, c)
            shade = 0.08 + 0.92 * v if v else 0.0
            fill = f"rgba(37,99,235,{shade:.2f})" if v else "#f3f4f6"
            out.append(
                f'<rect x="{left + cell * j + 1}" y="{ry + 1}" width="{cell - 2}" height="26" fill="{fill}">'
                f"<title>{escape(note(r, c))}</title></rect>"
            )
            if v:
                tc = "#fff" if v > 0.5 else "#111"
                out.append(
                    f'<text x="{_t(left + cell * j + cell / 2)}" y="{ry + 18}" class="cell" fill="{tc}" '
                    f'text-anchor="middle">{"<1" if v < 0.01 else f"{100 * v:.0f}"}%</text>'
                )
    out.append("</svg>")
    return Markup("".join(out))


def flows(title: str, matrix: dict[str, dict[str, int]], *, width: int = 460) -> Markup:
    """Review flows: author organisations on the left, reviewer organisations on the right."""
    authors = sorted(matrix)
    reviewers = sorted({r for row in matrix.values() for r in row})
    rows = max(len(authors), len(reviewers), 1)
    height = 50 + 40 * rows
    total = max((n for row in matrix.values() for n in row.values()), default=1)
    lx, rx = 130, width - 130

    def ay(i: int) -> float:
        return 50 + 40 * i + 10

    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="4" y="16" class="ctitle">{escape(title)}</text>',
        f'<text x="{lx}" y="36" class="axis" text-anchor="end">author org</text>',
        f'<text x="{rx}" y="36" class="axis">reviewer org</text>',
    ]
    for i, a in enumerate(authors):
        for r, n in sorted(matrix[a].items()):
            j = reviewers.index(r)
            y1, y2 = ay(i), ay(j)
            sw = 1 + 14 * n / total
            stroke = color(i) if r != a else "#9ca3af"
            mid = (lx + rx) / 2
            out.append(
                f'<path d="M{lx + 6},{_t(y1)} C{_t(mid)},{_t(y1)} {_t(mid)},{_t(y2)} {rx - 6},{_t(y2)}" '
                f'fill="none" stroke="{stroke}" stroke-opacity="0.6" stroke-width="{_t(sw)}">'
                f"<title>{escape(a)} → {escape(r)}: {n} changes</title></path>"
            )
    for i, a in enumerate(authors):
        out.append(f'<text x="{lx}" y="{_t(ay(i) + 4)}" class="axis" text-anchor="end">{escape(a)}</text>')
    for j, r in enumerate(reviewers):
        out.append(f'<text x="{rx}" y="{_t(ay(j) + 4)}" class="axis">{escape(r)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
