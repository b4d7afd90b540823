"""Who knows which files: the report's authorship, in the plain shape onboarding and off-boarding need.

The report computes each file's authors (the degree-of-authorship model, docs/metrics.md); this
module keeps that answer with each file's component and each author's organisation, and ranks the
people who know a component best.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pathspec

from onebar.charter.model import Charter

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


def components_of_files(charter: Charter, files: list[str]) -> dict[str, str]:
    """Each file's component: the first of the charter whose paths match (files in none are left out)."""
    specs = [(cid, pathspec.GitIgnoreSpec.from_lines(c.paths)) for cid, c in charter.components.items()]
    out: dict[str, str] = {}
    for f in files:
        cid = next((cid for cid, spec in specs if spec.match_file(f)), None)
        if cid is not None:
            out[f] = cid
    return out


def from_report(report: object, charter: Charter) -> Knowledge:
    """The knowledge of a built report (`onebar.report.report_for`): its authors and who they are."""
    authors: Mapping[str, frozenset[str]] = getattr(report, "authors", {})
    people: Mapping[str, object] = getattr(report, "people", {})
    return Knowledge(
        authors=authors,
        component=components_of_files(charter, sorted(authors)),
        org={k: str(getattr(w, "org", "")) for k, w in people.items()},
        label={k: str(getattr(w, "label", k)) for k, w in people.items()},
        kind={k: str(getattr(w, "kind", HUMAN)) for k, w in people.items()},
    )


def available(charter: Charter, person: str, today: date) -> bool:
    """A person who can still be asked: in the charter and not past their contract (or not in it at all)."""
    p = charter.people.get(person)
    return p is None or p.contract_end is None or p.contract_end >= today
