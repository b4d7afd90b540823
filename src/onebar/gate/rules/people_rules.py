"""Rules about people: ADR sign-off, approvals, cross-organisation review, component owners.

Only `reviews.cross_org` is handed the author (it compares reviewers with them); the others are
author-blind by their signature.
"""

from __future__ import annotations

from onebar.charter import Charter
from onebar.gate.match import last_match, matches
from onebar.gate.model import AdrRecord, Authorship, Change, Evidence, Review, Violation
from onebar.gate.rules.base import Outcome, examples, not_given


def architecture_paths(charter: Charter) -> list[str]:
    s = charter.done.adr
    return [p for comp in charter.components.values() if comp.architecture for p in comp.paths] + list(s.paths)


def _people_orgs(charter: Charter, people: list[str]) -> set[str]:
    return {charter.people[p].org for p in people if p in charter.people}


def adr_architecture(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.adr
    arch = architecture_paths(charter)
    adr_dir = s.directory.rstrip("/") + "/"
    touched = [
        f.path
        for f in change.files
        if not f.path.startswith(adr_dir)
        and (matches(arch, f.path) or (f.old_path is not None and matches(arch, f.old_path)))
    ]
    if not arch:
        return Outcome("pass", "the charter names no architecture paths")
    if not touched:
        return Outcome("pass", "no change under architecture paths")
    changed = {f.path for f in change.files if not f.deleted}
    carried = [a for a in evidence.adrs if a.path in changed]
    saw = f"{len(touched)} architecture file(s) changed ({examples(touched)})"
    if not carried:
        return Outcome(
            "fail",
            f"{saw}; no ADR under {s.directory} in the change",
            "add one with `onebar adr new`, accept it and have the leads sign it",
            violations=tuple(Violation("architecture change without an ADR", p) for p in touched[:20]),
        )
    accepted = [a for a in carried if a.status == "accepted"]
    if not accepted:
        states = ", ".join(f"ADR-{a.number:04d} is {a.status}" for a in carried)
        return Outcome(
            "fail",
            f"{saw}; {states}",
            "accept the ADR: `onebar adr accept N`",
            violations=tuple(Violation(f"ADR status is {a.status}", a.path) for a in carried),
        )
    problems: list[Violation] = []
    for adr in accepted:
        missing, orgs = _missing_signoffs(adr, touched, charter)
        if not missing:
            return Outcome(
                "pass",
                f"{saw}; ADR-{adr.number:04d} accepted and signed by the "
                f"lead(s) of {', '.join(sorted(orgs)) or 'no organisation'}",
            )
        problems += [Violation(m, adr.path) for m in missing]
    return Outcome(
        "fail",
        f"{saw}; the ADR lacks sign-offs",
        "have each lead sign: `onebar adr sign N --person LEAD`",
        violations=tuple(problems),
    )


def _missing_signoffs(adr: AdrRecord, touched: list[str], charter: Charter) -> tuple[list[str], set[str]]:
    s = charter.done.adr
    if s.signoff == "all":
        orgs = set(charter.organisations)
    else:
        people: list[str] = list(adr.deciders)
        for comp in charter.components.values():
            if comp.architecture and any(matches(comp.paths, p) for p in touched):
                people += [comp.accountable, *comp.responsible, *comp.consulted]
        orgs = _people_orgs(charter, people)
    orgs = {o for o in orgs if o in charter.organisations and charter.organisations[o].kind not in s.exempt_kinds}
    missing: list[str] = []
    for org in sorted(orgs):
        lead = charter.organisations[org].lead
        if lead is None:
            missing.append(f"organisation {org!r} has no lead in the charter to sign off")
        elif lead not in adr.signoffs:
            missing.append(f"no sign-off from {lead} (lead of {org})")
    return missing, orgs


def _approvers(reviews: tuple[Review, ...]) -> dict[str, Review]:
    return {r.reviewer.person or r.reviewer.label: r for r in reviews if r.state == "approved"}


def reviews_approvals(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.reviews
    if evidence.reviews is None:
        return not_given("reviews file", "--reviews FILE")
    approvers = _approvers(evidence.reviews)
    blocking = [r.reviewer.label for r in evidence.reviews if r.state == "changes_requested"]
    saw = f"{len(approvers)} approval(s) ({s.min_approvals} needed)"
    if blocking:
        saw += f"; changes requested by {examples(blocking)}"
    if len(approvers) >= s.min_approvals and not blocking:
        return Outcome("pass", saw)
    fix = "resolve the requested changes" if blocking else f"get {s.min_approvals - len(approvers)} more approval(s)"
    return Outcome("fail", saw, fix)


def reviews_cross_org(change: Change, evidence: Evidence, charter: Charter, authorship: Authorship) -> Outcome:
    if not charter.done.reviews.cross_org:
        return Outcome("disabled", "cross_org = false in [done.reviews]")
    if evidence.reviews is None:
        return not_given("reviews file", "--reviews FILE")
    author_org = authorship.author.org
    if author_org is None:
        return Outcome(
            "fail",
            f"the author {authorship.author.label} is not in the charter",
            "add the author to [people] so their organisation is known",
        )
    writers = {i.person or i.label for i in (authorship.author, *authorship.commit_authors)}
    others = [
        key
        for key, r in _approvers(evidence.reviews).items()
        if key not in writers and r.reviewer.org is not None and r.reviewer.org != author_org
    ]
    if others:
        return Outcome("pass", f"approved by {examples(others)} of another organisation")
    return Outcome(
        "fail",
        "no approval from a person of another organisation than the author's",
        "ask a reviewer from another organisation in the charter to approve",
    )


def ownership(charter: Charter) -> list[tuple[str, str]]:
    """(pattern, component) pairs in charter order; the last match wins, as in CODEOWNERS."""
    return [(p, cid) for cid, comp in charter.components.items() for p in comp.paths]


def owners(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    table = ownership(charter)
    touched: dict[str, list[str]] = {}
    for f in change.files:
        for p in {f.path, f.old_path or f.path}:
            cid = last_match(table, p)
            if cid:
                touched.setdefault(cid, []).append(p)
    if not touched:
        return Outcome("pass", "no component's paths changed")
    if evidence.reviews is None:
        return not_given("reviews file", "--reviews FILE")
    approved = set(_approvers(evidence.reviews))
    missing: list[Violation] = []
    for cid, paths in sorted(touched.items()):
        comp = charter.components[cid]
        owners_ = [comp.accountable, *comp.responsible]
        if not approved.intersection(owners_):
            missing.append(Violation(f"component {cid} needs an approval from {examples(owners_)}", paths[0]))
    saw = f"{len(touched)} component(s) touched ({examples(sorted(touched))})"
    if not missing:
        return Outcome("pass", f"{saw}, each approved by an owner")
    return Outcome(
        "fail",
        f"{saw}; {len(missing)} without an owner's approval",
        "ask the component's Accountable or Responsible person to approve",
        violations=tuple(missing),
    )
