"""Renderers of the typed report: one module per output format, each declared once here.

    render(report, "text" | "json" | "md" | "html") -> str

The CLI offers exactly `FORMATS`; a new format is one module and one line in `RENDERERS`.
Renderer modules load only when used, so importing this package costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onebar.report.model import Report

# format -> "module:function" taking a Report and returning the text.
RENDERERS = {
    "text": "onebar.report.render.text:to_text",
    "json": "onebar.report.render:to_json",
    "md": "onebar.report.render.markdown:to_markdown",
    "html": "onebar.report.render.html:to_html",
}
FORMATS = tuple(RENDERERS)


def render(report: Report, fmt: str) -> str:
    """The report in one of `FORMATS`."""
    module, name = RENDERERS[fmt].split(":")
    text: str = getattr(importlib.import_module(module), name)(report)
    return text


def to_json(report: Report) -> str:
    """The JSON contract (docs/report.schema.json), indented, keys in the contract's order."""
    from onebar.report.render.encode import dumps  # json.dumps(indent=2, ensure_ascii=False), faster

    return dumps(report.to_json()) + "\n"
