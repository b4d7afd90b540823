"""DORA performance tiers of a named report year, read from tiers.json (thresholds are data)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from typing import Any

from onebar.errors import UsageError

TIERS = ("elite", "high", "medium", "low")
KEYS = ("deployment_frequency_per_week", "lead_time_hours", "change_failure_rate", "time_to_restore_hours")
DEFAULT_YEAR = 2023


@cache
def _table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files("onebar.metrics").joinpath("tiers.json").read_text("utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def years() -> tuple[int, ...]:
    return tuple(sorted(int(y) for y in _table()))


def thresholds(year: int) -> dict[str, Any]:
    table = _table()
    if str(year) not in table:
        raise UsageError(f"no DORA tiers for {year}; known years: {', '.join(map(str, years()))}", field="tiers")
    return dict(table[str(year)])


def report_name(year: int) -> str:
    """The title of the DORA report whose thresholds `year` names (a UsageError for an unknown year)."""
    return str(thresholds(year)["report"])


def tier_of(key: str, value: float | None, year: int = DEFAULT_YEAR) -> str | None:
    """The first tier (best first) whose bound `value` meets; None when the value is unknown."""
    if value is None:
        return None
    for row in thresholds(year)[key]:
        if "lt" in row and not value < row["lt"]:
            continue
        if "le" in row and not value <= row["le"]:
            continue
        if "ge" in row and not value >= row["ge"]:
            continue
        return str(row["tier"])
    return "low"


def overall_tier(per_key: Iterable[str | None]) -> str | None:
    """The worst tier among the keys that could be measured: a team is elite only if every key is."""
    known = [t for t in per_key if t is not None]
    if not known:
        return None
    return max(known, key=TIERS.index)
