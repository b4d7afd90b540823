"""Renderers of a Verdict, one per output format: the one table of the gate's formats.

`FORMATS` names them in order; the CLI's `--format` and `--write` choices and the service read it.
Each renderer imports what it needs when called, so naming the formats costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from onebar.errors import UsageError
from onebar.files import replace_text

if TYPE_CHECKING:
    from rich.console import Console

    from onebar.gate.model import Verdict


def render_text(verdict: Verdict) -> str:
    """The terminal table without colour, as CI logs and `--write text:FILE` want it."""
    import io

    from rich.console import Console

    buf = io.StringIO()
    print_text(verdict, Console(file=buf, width=110, no_color=True, highlight=False, soft_wrap=True, markup=False))
    return buf.getvalue()


def print_text(verdict: Verdict, console: Console) -> None:
    """The verdict on a rich console (a terminal gets colour)."""
    from onebar.gate.render.text import print_text as show

    show(verdict, console)


def _markdown(verdict: Verdict) -> str:
    from onebar.gate.render.formats import render_markdown

    return render_markdown(verdict)


def _json(verdict: Verdict) -> str:
    from onebar.gate.render.formats import render_json

    return render_json(verdict)


def _sarif(verdict: Verdict) -> str:
    from onebar.gate.render.formats import render_sarif

    return render_sarif(verdict)


def _junit(verdict: Verdict) -> str:
    from onebar.gate.render.formats import render_junit

    return render_junit(verdict)


FORMATS: dict[str, Callable[[Verdict], str]] = {
    "text": render_text,  # a table for people (rich)
    "md": _markdown,  # one pull-request comment
    "json": _json,  # docs/gate.schema.json
    "sarif": _sarif,  # SARIF 2.1.0 for code scanning
    "junit": _junit,  # JUnit XML: one test case per rule
}


def render(verdict: Verdict, fmt: str) -> str:
    """The verdict as text in one of FORMATS."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", field="format") from None
    return renderer(verdict)


def write_renderings(verdict: Verdict, targets: Sequence[tuple[str, Path]]) -> None:
    """Write the verdict in each (format, file) pair; every rendering is made before any file is
    written, and each file is replaced whole (a temporary file, then a rename)."""
    rendered = [(render(verdict, fmt), target) for fmt, target in targets]
    for text, target in rendered:
        replace_text(target, text, field="writes")


__all__ = ["FORMATS", "print_text", "render", "write_renderings"]
