"""Milestones paid against outcomes: charter `[[milestones]]` judged met, not met or at risk on evidence.

evaluate(workspace, today=...) -> list[Result]     render_milestones(results, today, "md")
"""

from onebar.milestones.evidence import evaluate
from onebar.milestones.judge import Criterion, Result
from onebar.milestones.render import render_milestones

__all__ = ["Criterion", "Result", "evaluate", "render_milestones"]
