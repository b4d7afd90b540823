"""Who knows which files: the report's authorship, in the plain shape onboarding and off-boarding need.

The report computes each file's authors (the degree-of-authorship model, docs/metrics.md); this
module keeps that answer with each file's component and each author's organisation, and ranks the
people who know a component best.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from onebar.metrics.offboarding import Authorship
from onebar.report.model import Report

HUMAN = "human"


@dataclass(frozen=True)
class Knowledge:
    """file -> its authors; file -> its component; person key -> (organisation, label, kind)."""

    authors: Mapping[str, frozenset[str]]
    component: Mapping[str, str]
    org: Mapping[str, str]
    label: Mapping[str, str] = field(default_factory=dict)
    kind: Mapping[str, str] = field(default_factory=dict)

    def files_of(self, component: str) -> list[str]:
        return sorted(f for f, c in self.component.items() if c == component and f in self.authors)

    def experts(self, component: str) -> list[tuple[str, int]]:
        """(person, files of the component they author), most first; humans only."""
        count: dict[str, int] = {}
        for f in self.files_of(component):
            for p in self.authors[f]:
                if self.kind.get(p, HUMAN) == HUMAN:
                    count[p] = count.get(p, 0) + 1
        return sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))


def from_authorship(authorship: Authorship) -> Knowledge:
    """The knowledge of a built report (`report_for(...).authorship`): its authors and who they are."""
    people = authorship.people
    return Knowledge(
        authors=authorship.authors,
        component=authorship.component,
        org={k: w.org for k, w in people.items()},
        label={k: w.label for k, w in people.items()},
        kind={k: w.kind for k, w in people.items()},
    )


def from_report(report: Report) -> Knowledge:
    return from_authorship(report.authorship)
