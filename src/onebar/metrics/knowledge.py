"""Knowledge risk: degree of authorship (DOA) and truck factor after Avelino et al. (ICPC 2016).

Follows the reference tool (aserg-ufmg/Truck-Factor) as it is implemented:

    DOA = 3.293 + 1.098·FA + 0.164·DL − 0.321·ln(1 + AC)

FA is 1 for the file's first adder and for a different developer who adds it again later (the
tool's "secondary author"); DL counts the developer's modifications; AC counts everyone else's.
A developer authors a file when DOA / max DOA > 0.75 and (DOA ≥ 3.293 or FA). The truck factor
greedily removes the author of most files until fewer than half of the files keep an author.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from onebar.metrics.jsonable import Jsonable
from onebar.metrics.model import UNKNOWN_ORG, Contributor

NORMALIZED = 0.75
ABSOLUTE = 3.293
COVERAGE = 0.5
PRUNE_SHARE = 0.1

# One change of a file: (author, status), status 'A' added, 'M' modified, 'D' deleted, 'T' type change.
Touch = tuple[str, str]


# What DOA needs of one developer's changes to one file: (added it at some point, modifications).
Counts = tuple[bool, int]


def counts(touches: Iterable[Touch]) -> dict[str, Counts]:
    """Per developer, whether they added the file and how often they modified it.

    The first adder and anyone who adds the file again later (the tool's secondary author) get FA;
    modifications (M, and T type changes) are deliveries; deletions add no authorship: the reference
    tool drops them from its log. The order of the changes does not matter.
    """
    out: dict[str, Counts] = {}
    for author, status in touches:
        if status == "D":
            continue
        added, mods = out.get(author, (False, 0))
        out[author] = (True, mods) if status == "A" else (added, mods + 1)
    return out


def doa_scores(touches: Iterable[Touch]) -> dict[str, float]:
    """Each developer's DOA on one file, from its changes."""
    return scores_of(counts(touches))


def scores_of(per_dev: Mapping[str, Counts]) -> dict[str, float]:
    total = sum(mods for _, mods in per_dev.values())
    return {
        dev: 3.293 + 1.098 * added + 0.164 * dl - 0.321 * math.log(1 + total - dl)
        for dev, (added, dl) in per_dev.items()
    }


def file_authors(touches: Iterable[Touch]) -> frozenset[str]:
    """The authors of one file under the DOA thresholds."""
    return authors_of(counts(touches))


def authors_of(per_dev: Mapping[str, Counts]) -> frozenset[str]:
    """The authors of one file from each developer's (added, modifications)."""
    scores = scores_of(per_dev)
    if not scores:
        return frozenset()
    best = max(scores.values())
    return frozenset(
        dev for dev, doa in scores.items() if doa / best > NORMALIZED and (doa >= ABSOLUTE or per_dev[dev][0])
    )


def alive_files(changes: Iterable[tuple[str, str]]) -> set[str]:
    """Paths present after replaying (path, status) changes in history order."""
    alive: set[str] = set()
    for path, status in changes:
        if status == "D":
            alive.discard(path)
        else:
            alive.add(path)
    return alive


@dataclass(frozen=True)
class TruckFactor:
    value: int
    people: tuple[str, ...]  # in the order the greedy algorithm removed them
    files: int
    orphans_at_start: int  # files with no author even before anyone leaves


def truck_factor(authors: Mapping[str, frozenset[str]], *, prune: bool = False) -> TruckFactor:
    """Greedy truck factor: remove the author of most files while at least half keep an author.

    Ties go to the alphabetically first person so that results are reproducible. With `prune`,
    people with fewer than 10% of the top author's files are dropped from the set afterwards (the
    tool's 2018 variant; the ICPC 2016 paper has no pruning).
    """
    total = len(authors)
    if total == 0:
        return TruckFactor(0, (), 0, 0)
    by_person: dict[str, set[str]] = {}
    remaining = {f: len(a) for f, a in authors.items()}
    for f, people in authors.items():
        for p in people:
            by_person.setdefault(p, set()).add(f)
    covered = sum(1 for n in remaining.values() if n)
    orphans = total - covered
    counts = {p: len(fs) for p, fs in by_person.items()}
    removed: list[str] = []
    while by_person and covered / total >= COVERAGE:
        top = min(by_person, key=lambda p: (-len(by_person[p]), p))
        removed.append(top)
        for f in by_person.pop(top):
            remaining[f] -= 1
            if remaining[f] == 0:
                covered -= 1
    if prune and removed:
        top_count = counts[removed[0]]
        removed = [p for p in removed if counts[p] >= PRUNE_SHARE * top_count]
    return TruckFactor(len(removed), tuple(removed), total, orphans)


def files_lost(authors: Mapping[str, frozenset[str]], leaving: set[str]) -> list[str]:
    """Files that had an author and have none once `leaving` go."""
    return sorted(f for f, people in authors.items() if people and people <= leaving)


def sole_owners(authors: Mapping[str, frozenset[str]], group_of: Callable[[str], str]) -> dict[str, list[str]]:
    """Files each group would lose alone: those whose authors all belong to that one group.

    One pass over the files answers "what if group G leaves?" for every group at once.
    """
    out: dict[str, list[str]] = {}
    for f, people in authors.items():
        groups = {group_of(p) for p in people}
        if len(groups) == 1:
            out.setdefault(groups.pop(), []).append(f)
    for files in out.values():
        files.sort()
    return out


def group(
    authors: Mapping[str, frozenset[str]], component_of: Callable[[str], str | None]
) -> dict[str, dict[str, frozenset[str]]]:
    """Split file authorship by component (files in no component are left out)."""
    out: dict[str, dict[str, frozenset[str]]] = {}
    for f, people in authors.items():
        comp = component_of(f)
        if comp is not None:
            out.setdefault(comp, {})[f] = people
    return out


def loss_share(authors: dict[str, frozenset[str]], leaving: set[str]) -> tuple[int, float | None]:
    """(files lost, share of all files lost); share None when there are no files."""
    lost = len(files_lost(authors, leaving))
    return lost, (lost / len(authors) if authors else None)


MODEL = "doa-avelino-2016"
TOP_AUTHORS = 15


@dataclass(frozen=True, slots=True)
class PersonRef(Jsonable):
    """A person as the report names them: key, display name, organisation."""

    person: str
    name: str
    org: str


@dataclass(frozen=True, slots=True)
class TopAuthor(Jsonable):
    person: str
    name: str
    org: str
    files: int  # files this person authors


@dataclass(frozen=True, slots=True)
class ComponentKnowledge(Jsonable):
    files: int
    truck_factor: int
    truck_factor_people: tuple[PersonRef, ...]
    orgs: tuple[str, ...]
    files_by_org: Mapping[str, int]
    single_org: bool  # only one organisation authors its files
    orphan_files: int


@dataclass(frozen=True, slots=True)
class Knowledge(Jsonable):
    """Knowledge risk at the end of the window: truck factor overall and per component."""

    model: str
    files: int
    orphan_files: int
    truck_factor: int | None
    truck_factor_people: tuple[PersonRef, ...]
    top_authors: tuple[TopAuthor, ...]
    files_by_org: Mapping[str, int]
    components: Mapping[str, ComponentKnowledge]
    single_org_components: tuple[str, ...]
    reasons: Mapping[str, str]


def section(
    authors: Mapping[str, frozenset[str]],
    component: Mapping[str, str],
    people: Mapping[str, Contributor],
    *,
    components_defined: bool,
) -> Knowledge:
    """The knowledge section from each scored file's authors and each file's component."""
    tf = truck_factor(authors)

    def ref(p: str) -> PersonRef:
        who = people.get(p)
        return PersonRef(p, who.label if who else p, who.org if who else UNKNOWN_ORG)

    def org_of(p: str) -> str:
        who = people.get(p)
        return who.org if who else UNKNOWN_ORG

    comps: dict[str, ComponentKnowledge] = {}
    for cid, cauthors in sorted(group(authors, component.get).items()):
        ctf = truck_factor(cauthors)
        per_org = files_by_org(cauthors, org_of)
        comps[cid] = ComponentKnowledge(
            files=len(cauthors),
            truck_factor=ctf.value,
            truck_factor_people=tuple(ref(p) for p in ctf.people),
            orgs=tuple(sorted(per_org)),
            files_by_org=per_org,
            single_org=len(per_org) == 1,
            orphan_files=ctf.orphans_at_start,
        )
    reasons: dict[str, str] = {}
    if not authors:
        reasons["truck_factor"] = "no file with a known history at the end of the window"
    if not components_defined:
        reasons["components"] = "the charter defines no components"
    by_author: dict[str, int] = {}
    for file_people in authors.values():
        for p in file_people:
            by_author[p] = by_author.get(p, 0) + 1
    top = sorted(by_author.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_AUTHORS]
    return Knowledge(
        model=MODEL,
        files=len(authors),
        orphan_files=tf.orphans_at_start,
        truck_factor=tf.value if authors else None,
        truck_factor_people=tuple(ref(p) for p in tf.people),
        top_authors=tuple(TopAuthor(r.person, r.name, r.org, n) for r, n in ((ref(p), n) for p, n in top)),
        files_by_org=files_by_org(authors, org_of),
        components=comps,
        single_org_components=tuple(c for c, v in comps.items() if v.single_org),
        reasons=reasons,
    )


def files_by_org(authors: Mapping[str, frozenset[str]], org_of: Callable[[str], str]) -> dict[str, int]:
    """How many files each organisation authors (a file with two authors of one organisation counts once)."""
    out: dict[str, int] = {}
    for file_people in authors.values():
        for o in {org_of(p) for p in file_people}:
            out[o] = out.get(o, 0) + 1
    return dict(sorted(out.items()))
