"""The delivery report: load from the store, compute the metrics, render text, JSON, Markdown or HTML.

report_for(workspace, since=, until=, tiers=) -> Report     the one entry point of every face
Report.to_json() -> dict                                   the JSON contract (docs/report.schema.json)
render(report, format) -> str                              (onebar.report.render)
"""

from onebar.report.build import Report, build_report, report_for

__all__ = ["Report", "build_report", "report_for"]
