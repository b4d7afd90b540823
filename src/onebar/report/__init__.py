"""The delivery report: load from the store, compute the metrics, render text, JSON, Markdown or HTML.

    report_for(workspace, since=, until=, tiers=) -> Report     the one entry point of every face
    Report.to_json() -> dict                                   the JSON contract (docs/report.schema.json)
    Report.offboard(who) -> Departure                          one person's or organisation's departure
    render(report, format) -> str                              (onebar.report.render)

Names load on first use, so importing `onebar.report.render` for its FORMATS costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onebar.report.build import build_report, overlap_for, report_for
    from onebar.report.model import Report

__all__ = ["Report", "build_report", "overlap_for", "report_for"]


def __getattr__(name: str) -> Any:
    if name == "Report":
        from onebar.report.model import Report

        return Report
    if name in ("build_report", "overlap_for", "report_for"):
        from onebar.report import build

        return getattr(build, name)
    raise AttributeError(name)
