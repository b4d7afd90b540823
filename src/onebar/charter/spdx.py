"""SPDX licence expressions, parsed by `license-expression` against the SPDX licence list.

The charter validates its `[done.licenses]` entries here when it is read; the gate's licence rule
(`onebar.gate.licenses`) evaluates dependencies' expressions with the same licensing object.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def licensing() -> Any:
    """The SPDX licensing object (loading the licence list takes ~50 ms, so it is built once)."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def expression_problems(expressions: list[str]) -> list[str]:
    """What is wrong with each expression that is not valid SPDX (empty when all are)."""
    problems = []
    for entry in expressions:
        info = licensing().validate(entry)
        if info.errors:
            problems.append(f"{entry!r}: {'; '.join(info.errors)}")
    return problems
