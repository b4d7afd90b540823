"""Inline SVG charts drawn server-side: no JavaScript, no library, nothing fetched by the page.

Every chart of one report takes its colours from one `Colours` map, so an organisation keeps its
colour from chart to chart. Lines that coincide stay apart: each series has its own marker and a
small sideways offset, and a note names the series that lie on top of each other. Margins are
measured from the labels they hold, so no label is cut at the edge. The flow diagram and the heat
map are drawn at the page's width (their viewBox scales to it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from markupsafe import Markup, escape

PALETTE = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
    "#65a30d", "#9333ea", "#ea580c", "#0d9488", "#be123c", "#4338ca", "#a16207",
]  # fmt: skip
NEUTRAL = "#374151"  # the "all" series: everyone together
SAME_ORG = "#9ca3af"  # a review flow inside one organisation
MARKERS = ("circle", "square", "triangle", "diamond", "down", "plus")
PAGE = 1100  # the width flows and heat maps are laid out for (the page's content width)
CHAR = 6.6  # average width of an 11px label character


class Colours:
    """One colour per organisation for a whole report, in the order the report lists them."""

    def __init__(self, names: Iterable[str]):
        self._of: dict[str, str] = {"all": NEUTRAL}
        for name in names:
            if name not in self._of:
                self._of[name] = PALETTE[(len(self._of) - 1) % len(PALETTE)]

    def __call__(self, name: str) -> str:
        if name not in self._of:
            self._of[name] = PALETTE[(len(self._of) - 1) % len(PALETTE)]
        return self._of[name]


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _t(x: float) -> str:
    return f"{x:.1f}"


def text_width(text: str) -> float:
    return len(text) * CHAR


def nice_max(v: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `v` (at least 1)."""
    if v <= 1:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def _tick(v: float) -> str:
    return f"{v:g}" if v < 10 else f"{v:,.0f}"


PLUS = [(-1, -3.4), (1, -3.4), (1, -1), (3.4, -1), (3.4, 1), (1, 1), (1, 3.4), (-1, 3.4), (-1, 1), (-3.4, 1)]
SHAPES: dict[str, list[tuple[float, float]]] = {
    "triangle": [(0, -3.4), (3, 2.2), (-3, 2.2)],
    "down": [(0, 3.4), (3, -2.2), (-3, -2.2)],
    "diamond": [(0, -3.4), (3.2, 0), (0, 3.4), (-3.2, 0)],
    "plus": [*PLUS, (-3.4, -1), (-1, -1)],
}


def marker(shape: str, x: float, y: float, fill: str, tip: str) -> str:
    """A small marker of `shape` at (x, y), with a tooltip."""
    title = f"<title>{escape(tip)}</title>"
    if shape == "square":
        return f'<rect x="{_t(x - 2.6)}" y="{_t(y - 2.6)}" width="5.2" height="5.2" fill="{fill}">{title}</rect>'
    if shape in SHAPES:
        pts = SHAPES[shape]
        points = " ".join(f"{_t(x + dx)},{_t(y + dy)}" for dx, dy in pts)
        return f'<polygon points="{points}" fill="{fill}">{title}</polygon>'
    return f'<circle cx="{_t(x)}" cy="{_t(y)}" r="2.8" fill="{fill}">{title}</circle>'


def coinciding(series: dict[str, list[float | None]]) -> list[list[str]]:
    """Groups of series whose values are all equal (drawn on top of each other)."""
    groups: dict[tuple[float | None, ...], list[str]] = {}
    for name, values in series.items():
        if any(v is not None for v in values):
            groups.setdefault(tuple(values), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def line_chart(
    title: str,
    series: dict[str, list[float | None]],
    labels: list[str],
    *,
    colours: Colours | None = None,
    fmt: str = "{:.1f}",
    width: int = 520,
    height: int = 240,
) -> Markup:
    """One line per series over shared x labels; gaps where a value is None."""
    colours = colours or Colours(series)
    values = [v for vs in series.values() for v in vs if v is not None]
    vmax = nice_max(max(values) if values else 0.0)
    ticks = [vmax * k / 4 for k in range(5)]
    # Room for the widest tick label on the left and for the first and last x labels at the edges.
    left = 10 + max(text_width(_tick(tv)) for tv in ticks)
    edge = text_width(max(labels, key=len)) / 2 if labels else 0.0
    left, right = max(left, edge + 4), max(12.0, edge + 4)
    top, bottom = 28, 38
    same = coinciding(series)
    note_height = 14 * len(same)
    pw, ph = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    step = pw / (n - 1) if n > 1 else pw
    shift = min(2.5, step / 6)  # the sideways offset that keeps coinciding lines apart

    def x(i: int, s: int = 0) -> float:
        base = left + (pw * i / (n - 1) if n > 1 else pw / 2)
        return base + (s - (len(series) - 1) / 2) * shift

    def y(v: float) -> float:
        return top + ph - ph * v / vmax

    total = height + note_height
    out = [
        f'<svg class="chart line" role="img" viewBox="0 0 {width} {total}" width="{width}" height="{total}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="{_t(left)}" y="16" class="ctitle">{escape(title)}</text>',
    ]
    for tv in ticks:
        out.append(f'<line x1="{_t(left)}" x2="{_t(left + pw)}" y1="{_t(y(tv))}" y2="{_t(y(tv))}" class="grid"/>')
        out.append(f'<text x="{_t(left - 4)}" y="{_t(y(tv) + 4)}" class="axis" text-anchor="end">{_tick(tv)}</text>')
    every = max(1, math.ceil(n / max(1, int(pw // (text_width(max(labels, key=len)) + 8))))) if labels else 1
    for i in range(0, n, every):
        out.append(
            f'<text x="{_t(x(i, (len(series) - 1) // 2))}" y="{height - bottom + 16}" class="axis" '
            f'text-anchor="middle">{escape(labels[i])}</text>'
        )
    for s, (name, vs) in enumerate(series.items()):
        c, shape = colours(name), MARKERS[s % len(MARKERS)]
        segs: list[list[str]] = [[]]
        points = []
        for i, v in enumerate(vs):
            if v is None:
                segs.append([])
                continue
            segs[-1].append(f"{_t(x(i, s))},{_t(y(v))}")
            points.append(marker(shape, x(i, s), y(v), c, f"{name} {labels[i]}: {fmt.format(v)}"))
        dash = ' stroke-dasharray="5 3"' if any(name in g[1:] for g in same) else ""
        for seg in segs:
            if len(seg) > 1:
                out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2"{dash} points="{" ".join(seg)}"/>')
        out += points
    for k, group in enumerate(same):
        out.append(
            f'<text x="{_t(left)}" y="{height + 10 + 14 * k}" class="axis">'
            f"{escape(' and '.join(group))}: the same values (lines drawn side by side)</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def legend(names: list[str], colours: Colours | None = None) -> Markup:
    colours = colours or Colours(names)
    items = "".join(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true">'
        f"{marker(MARKERS[i % len(MARKERS)], 6, 6, colours(n), n)}</svg>{escape(n)}</span>"
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
    colours: Colours | None = None,
    width: int = PAGE,
) -> Markup:
    """A grid of shares 0..1 (darker = higher) across the page; `value(r, c)` gives the share and
    `note(r, c)` the tooltip. Column heads carry their organisation's colour."""
    colours = colours or Colours(cols)
    left = 12 + max([text_width(r) for r in rows] or [40.0])
    cell = max(48.0, min(110.0, (width - left - 20) / max(len(cols), 1)))
    longest = max([text_width(c) for c in cols] or [40.0])
    # Column heads slant at 30 degrees: their height and their run to the right need room.
    top = 34 + longest * 0.5 + 8
    right = max(20.0, longest * 0.87 - cell / 2 + 8)
    width = int(max(width, left + cell * len(cols) + right))
    height = int(top + 28 * len(rows) + 10)
    out = [
        f'<svg class="chart wide" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="4" y="16" class="ctitle">{escape(title)}</text>',
    ]
    for j, c in enumerate(cols):
        cx = left + cell * j + cell / 2
        out.append(f'<rect x="{_t(cx - 5)}" y="{_t(top - 6)}" width="10" height="4" fill="{colours(c)}"/>')
        out.append(
            f'<text x="{_t(cx)}" y="{_t(top - 10)}" class="axis" text-anchor="start" '
            f'transform="rotate(-30 {_t(cx)} {_t(top - 10)})">{escape(c)}</text>'
        )
    for i, r in enumerate(rows):
        ry = top + 28 * i
        out.append(f'<text x="{_t(left - 6)}" y="{_t(ry + 18)}" class="axis" text-anchor="end">{escape(r)}</text>')
        for j, c in enumerate(cols):
            v = value(r, c)
            shade = 0.08 + 0.92 * v if v else 0.0
            fill = f"rgba(37,99,235,{shade:.2f})" if v else "#f3f4f6"
            out.append(
                f'<rect x="{_t(left + cell * j + 1)}" y="{_t(ry + 1)}" width="{_t(cell - 2)}" height="26" '
                f'fill="{fill}"><title>{escape(note(r, c))}</title></rect>'
            )
            if v:
                tc = "#fff" if v > 0.5 else "#111"
                out.append(
                    f'<text x="{_t(left + cell * j + cell / 2)}" y="{_t(ry + 18)}" class="cell" fill="{tc}" '
                    f'text-anchor="middle">{"<1" if v < 0.01 else f"{100 * v:.0f}"}%</text>'
                )
    out.append("</svg>")
    return Markup("".join(out))


def flows(
    title: str, matrix: dict[str, dict[str, int]], *, colours: Colours | None = None, width: int = PAGE
) -> Markup:
    """Review flows across the page: author organisations on the left, reviewer organisations on the
    right, each flow in its author organisation's colour (grey inside one organisation)."""
    authors = sorted(matrix)
    reviewers = sorted({r for row in matrix.values() for r in row})
    colours = colours or Colours([*authors, *reviewers])
    rows = max(len(authors), len(reviewers), 1)
    height = 50 + 40 * rows
    total = max((n for row in matrix.values() for n in row.values()), default=1)
    lx = 12 + max([text_width(a) for a in [*authors, "author org"]])
    rx = width - 12 - max([text_width(r) for r in [*reviewers, "reviewer org"]])

    def ay(i: int) -> float:
        return 50 + 40 * i + 10

    out = [
        f'<svg class="chart wide" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="4" y="16" class="ctitle">{escape(title)}</text>',
        f'<text x="{_t(lx)}" y="36" class="axis" text-anchor="end">author org</text>',
        f'<text x="{_t(rx)}" y="36" class="axis">reviewer org</text>',
    ]
    for i, a in enumerate(authors):
        for r, n in sorted(matrix[a].items()):
            j = reviewers.index(r)
            y1, y2 = ay(i), ay(j)
            sw = 1 + 14 * n / total
            stroke = colours(a) if r != a else SAME_ORG
            mid = (lx + rx) / 2
            out.append(
                f'<path d="M{_t(lx + 6)},{_t(y1)} C{_t(mid)},{_t(y1)} {_t(mid)},{_t(y2)} {_t(rx - 6)},{_t(y2)}" '
                f'fill="none" stroke="{stroke}" stroke-opacity="0.6" stroke-width="{_t(sw)}">'
                f"<title>{escape(a)} → {escape(r)}: {n} changes</title></path>"
            )
    for i, a in enumerate(authors):
        out.append(f'<text x="{_t(lx)}" y="{_t(ay(i) + 4)}" class="axis" text-anchor="end">{escape(a)}</text>')
    for j, r in enumerate(reviewers):
        out.append(f'<text x="{_t(rx)}" y="{_t(ay(j) + 4)}" class="axis">{escape(r)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
