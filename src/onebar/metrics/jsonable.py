"""From typed results to the JSON contract: one `to_json()` for every frozen dataclass of the report.

A result class subclasses `Jsonable` and declares its fields in the order the JSON contract lists
them; `to_json()` walks them. A field's metadata (`spec(...)`) renames it, turns Unix seconds into
ISO 8601 text, merges a nested result into its parent's object, leaves it out when it is None, or
keeps it out of the JSON altogether. Everything else maps as itself: nested results become
objects, mappings objects, tuples and lists arrays, dates ISO text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

_NAME, _TIME, _FLATTEN, _OMIT_NONE, _SKIP = "json_name", "json_time", "json_flatten", "json_omit_none", "json_skip"


def spec(
    *, name: str | None = None, time: bool = False, flatten: bool = False, omit_none: bool = False, skip: bool = False
) -> dict[str, Any]:
    """Metadata for `dataclasses.field(metadata=...)` saying how the field appears in JSON."""
    return {_NAME: name, _TIME: time, _FLATTEN: flatten, _OMIT_NONE: omit_none, _SKIP: skip}


TIME = spec(time=True)  # Unix seconds shown as ISO 8601 UTC text
FLATTEN = spec(flatten=True)  # the nested result's keys are the parent's, at this place
OMIT_NONE = spec(omit_none=True)  # absent rather than null
SKIP = spec(skip=True)  # kept on the object for the library's callers, never serialised


def iso(ts: int | None) -> str | None:
    """Unix seconds as ISO 8601 UTC text (`2024-05-01T12:00:00Z`); None stays None."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Plan = tuple[tuple[str, str, bool, bool, bool], ...]
_plans: dict[type, Plan] = {}


def _plan(cls: type) -> Plan:
    """(attribute, JSON key, time, flatten, omit_none) for each serialised field, in order."""
    found = _plans.get(cls)
    if found is None:
        found = _plans[cls] = _make_plan(cls)
    return found


def _make_plan(cls: type) -> Plan:
    out = []
    for f in dataclasses.fields(cls):
        m = f.metadata
        if m.get(_SKIP):
            continue
        out.append((f.name, m.get(_NAME) or f.name, bool(m.get(_TIME)), bool(m.get(_FLATTEN)), bool(m.get(_OMIT_NONE))))
    return tuple(out)


class Jsonable:
    """A typed result with one way to JSON; subclasses are frozen dataclasses."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        """This result as the plain data of the JSON contract."""
        out: dict[str, Any] = {}
        for attr, key, time, flatten, omit_none in _plan(self.__class__):
            value = getattr(self, attr)
            if value is None and omit_none:
                continue
            if flatten:
                out.update(value.to_json())
            elif time:
                out[key] = iso(value)
            else:
                out[key] = plain(value)
        return out


_AS_IS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """Any value of a result as JSON-ready data."""
    # The exact types first: a long history's report holds some 70,000 values, and asking each
    # whether it is a Mapping (an abstract class) costs more than the rest of the walk.
    t = type(value)
    if t in _AS_IS:
        return value
    if t is dict:
        return {k: plain(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [plain(v) for v in value]
    if isinstance(value, Jsonable):
        return value.to_json()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
