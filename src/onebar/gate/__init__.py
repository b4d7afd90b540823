"""The gate: one change judged against the charter's definition of done, the same for every author.

    evaluate(GateRequest) -> Verdict      (onebar.gate.judge)
    render(verdict, format) -> str        (onebar.gate.render)

Rules (onebar.gate.rules) are pure functions over plain data (onebar.gate.model); git, evidence files
and the charter are read at the edge (onebar.gate.git, .evidence, .deps, .reviews).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onebar.gate.judge import GateRequest, evaluate
    from onebar.gate.model import RuleResult, Verdict

__all__ = ["GateRequest", "RuleResult", "Verdict", "evaluate"]

_EXPORTS = {
    "GateRequest": "onebar.gate.judge",
    "evaluate": "onebar.gate.judge",
    "RuleResult": "onebar.gate.model",
    "Verdict": "onebar.gate.model",
}


def __getattr__(name: str) -> Any:
    """Load the gate's machinery on first use, so that naming its output formats (the CLI) stays cheap."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
