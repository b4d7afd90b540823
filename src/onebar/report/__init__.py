"""The delivery report: load from the store, compute the metrics, render text, JSON, Markdown or HTML."""

from onebar.report.build import Report, build_report

__all__ = ["Report", "build_report"]
