"""The gate: one change judged against the charter's definition of done, the same for every author.

    evaluate(GateRequest) -> Verdict      (onebar.gate.evaluate)
    render(verdict, format) -> str        (onebar.gate.render)

Rules (onebar.gate.rules) are pure functions over plain data (onebar.gate.model); git, evidence files
and the charter are read at the edge (onebar.gate.git, .evidence, .deps, .reviews).
"""

from onebar.gate.evaluate import GateRequest, evaluate
from onebar.gate.model import RuleResult, Verdict

__all__ = ["GateRequest", "RuleResult", "Verdict", "evaluate"]
