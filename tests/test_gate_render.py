"""The gate's machine formats, beyond their schemas: what code-scanning tools key on."""

from __future__ import annotations

import json

from onebar.gate.model import RuleResult, Verdict, Violation
from onebar.gate.render import render


def _sarif_results(*violations: Violation) -> list[dict]:
    rule = RuleResult(
        "secrets", "No secrets in added lines", "fail", "2 possible secret(s)", "rotate", violations=violations
    )
    verdict = Verdict("b" * 40, "h" * 40, "enforce", (rule,))
    return json.loads(render(verdict, "sarif"))["runs"][0]["results"]


def test_sarif_fingerprints_tell_places_apart_and_stay_stable() -> None:
    same_file = [
        Violation("possible secret: AWS Access Key", "src/conf.py", 3),
        Violation("possible secret: AWS Access Key", "src/conf.py", 9),
    ]
    first = [r["partialFingerprints"] for r in _sarif_results(*same_file)]
    assert first[0] != first[1]  # one rule, one file, two lines: two alerts
    assert [r["partialFingerprints"] for r in _sarif_results(*same_file)] == first  # the same on every run
    other_file = _sarif_results(Violation("possible secret: AWS Access Key", "src/other.py", 3))
    assert other_file[0]["partialFingerprints"] != first[0]
    regions = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in _sarif_results(*same_file)]
    assert regions == [3, 9]
