"""Renderers of a Verdict: text (rich), Markdown (PR comment), JSON (versioned), SARIF 2.1.0, JUnit XML."""

from __future__ import annotations

import io
from collections.abc import Callable

from onebar.errors import UsageError
from onebar.gate.model import Verdict
from onebar.gate.render.formats import render_json, render_junit, render_markdown, render_sarif, to_dict
from onebar.gate.render.text import print_text

FORMATS = ("text", "md", "json", "sarif", "junit")


def render_text(verdict: Verdict) -> str:
    from rich.console import Console

    buf = io.StringIO()
    print_text(verdict, Console(file=buf, width=110, no_color=True, highlight=False, soft_wrap=True))
    return buf.getvalue()


_RENDERERS: dict[str, Callable[[Verdict], str]] = {
    "text": render_text,
    "md": render_markdown,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
}


def render(verdict: Verdict, fmt: str) -> str:
    """The verdict as text in one of FORMATS."""
    try:
        return _RENDERERS[fmt](verdict)
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}") from None


__all__ = ["FORMATS", "print_text", "render", "to_dict"]
