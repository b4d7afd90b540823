"""One backlog: the share of each organisation's merged changes traced to an issue of the shared
tracker (host issue references, tracker keys by the charter's pattern), and the untraced ones."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from onebar.metrics.flow.changes import (
    NONE_MERGED,
    Change,
    merged_in,
)
from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import Window


@dataclass(frozen=True, slots=True)
class OrgTrace(Jsonable):
    changes: int
    traced: int
    traced_share: float


@dataclass(frozen=True, slots=True)
class Untraced(Jsonable):
    number: int
    title: str
    author: str  # person id, or the host login
    org: str


@dataclass(frozen=True, slots=True)
class Backlog(Jsonable):
    """How much of each organisation's merged work is traced to the shared tracker."""

    changes: int
    traced_share: float | None
    by_org: Mapping[str, OrgTrace]
    untraced: tuple[Untraced, ...]
    key_pattern: str
    reasons: Mapping[str, str]


def backlog(changes: list[Change], window: Window, key_pattern: str, pulls: set[int] | None = None) -> Backlog:
    """One backlog: the share of each organisation's merged changes traced to an issue of the shared tracker.

    Traced: a host issue reference that is not another pull/merge request, or a tracker key that
    matches the charter's pattern. The untraced changes are listed.
    """
    key_re = re.compile(key_pattern)
    pulls = pulls or set()
    merged = merged_in(changes, window)
    counts: dict[str, list[int]] = {}
    untraced: list[Untraced] = []
    for c in merged:
        traced = any(
            (kind == "issue" and not (ref.startswith("#") and int(ref[1:]) in pulls))
            or (kind == "key" and key_re.fullmatch(ref))
            for ref, kind in c.refs
        )
        s = counts.setdefault(c.author.org, [0, 0])
        s[0] += 1
        if traced:
            s[1] += 1
        else:
            untraced.append(Untraced(c.number, c.title, c.author.key, c.author.org))
    total = len(merged)
    traced_total = sum(s[1] for s in counts.values())
    return Backlog(
        changes=total,
        traced_share=round(traced_total / total, 4) if total else None,
        by_org={o: OrgTrace(n, t, round(t / n, 4)) for o, (n, t) in sorted(counts.items())},
        untraced=tuple(sorted(untraced, key=lambda u: u.number)),
        key_pattern=key_pattern,
        reasons={} if total else {"traced_share": NONE_MERGED},
    )
