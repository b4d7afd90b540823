"""The visibility policy: what a lead or a member may see of a report, pure functions over its JSON.

One rule, applied everywhere a person or an organisation appears (docs/service.md, "Who sees what"):

- admin and auditor see everything;
- a **lead** of organisation O sees O's people by name, every organisation's aggregates (DORA,
  review, knowledge per organisation), and the components O is R/A/C/I on; another
  organisation's people are never named: they appear as a hidden entry that keeps only their
  organisation, so counts and truck factors still add up;
- a **member** of O sees their own person, O's aggregates and the repository's overall figures, and
  only the components O shares (is R/A/C/I on); other organisations' figures are left out;
- ci reads no report (the access matrix refuses it before this module is reached).

`Scope` is what the policy needs to know about the charter (people's organisations, each
component's RACI organisations); the service stores it beside each materialised report.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from onebar.auth.roles import Principal, Role
from onebar.charter.model import Charter

HIDDEN_NAME = "(hidden)"


@dataclass(frozen=True)
class Scope:
    """Charter facts the policy reads: person -> organisation, component -> organisations on its RACI."""

    people: dict[str, str] = field(default_factory=dict)
    components: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of_charter(cls, charter: Charter) -> Scope:
        people = {pid: p.org for pid, p in charter.people.items()}
        comps: dict[str, list[str]] = {}
        for cid, c in charter.components.items():
            ids = [c.accountable, *c.responsible, *c.consulted, *c.informed]
            comps[cid] = sorted({people[p] for p in ids if p in people})
        return cls(people, comps)

    def to_json(self) -> dict[str, Any]:
        return {"people": self.people, "components": self.components}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scope:
        return cls(dict(data.get("people", {})), {k: list(v) for k, v in data.get("components", {}).items()})


def key_of(principal: Principal) -> str:
    """Callers with one key see exactly the same filtered report (a cache key)."""
    if principal.sees_everything:
        return "all"
    return f"{principal.role}:{principal.org or ''}:{principal.person or '' if principal.role is Role.MEMBER else ''}"


def sees_person(principal: Principal, person: str | None, org: str | None) -> bool:
    """May this caller see this person's name and personal figures?"""
    if principal.sees_everything:
        return True
    if principal.role is Role.LEAD:
        return org is not None and org == principal.org
    if principal.role is Role.MEMBER:
        return person is not None and person == principal.person
    return False


def sees_org(principal: Principal, org: str) -> bool:
    """May this caller see this organisation's aggregates?"""
    if principal.sees_everything or principal.role is Role.LEAD:
        return True
    return principal.role is Role.MEMBER and org == principal.org


def sees_component(principal: Principal, orgs_on_raci: list[str]) -> bool:
    if principal.sees_everything or principal.role is Role.LEAD:
        return True
    return principal.role is Role.MEMBER and principal.org in orgs_on_raci


def person_entry(principal: Principal, entry: dict[str, Any]) -> dict[str, Any]:
    """A {"person", "name", "org", ...} entry, or its hidden form keeping only the organisation."""
    if sees_person(principal, entry.get("person"), entry.get("org")):
        return entry
    return {**entry, "person": "", "name": HIDDEN_NAME}


def filter_report(data: dict[str, Any], principal: Principal, scope: Scope) -> dict[str, Any]:
    """The report JSON as this caller may see it (a new dict; the input is not changed)."""
    if principal.sees_everything:
        return data
    out = copy.deepcopy(data)
    p = principal
    out["visibility"] = {"role": p.role.value, "org": p.org, "person": p.person, "filtered": True}

    dora = out["dora"]
    dora["by_org"] = {o: v for o, v in dora["by_org"].items() if sees_org(p, o)}
    dora["trend"]["by_org"] = {o: v for o, v in dora["trend"]["by_org"].items() if sees_org(p, o)}
    for d in dora["deployments"]:
        d["changes_by_org"] = {o: n for o, n in d["changes_by_org"].items() if sees_org(p, o)}

    review = out["review"]
    if p.role is Role.MEMBER:
        review["matrix"] = {
            a: {r: n for r, n in row.items() if a == p.org or r == p.org}
            for a, row in review["matrix"].items()
            if a == p.org or p.org in row
        }
        review["by_org"] = {o: v for o, v in review["by_org"].items() if sees_org(p, o)}

    know = out["knowledge"]
    know["truck_factor_people"] = [person_entry(p, e) for e in know["truck_factor_people"]]
    know["top_authors"] = [e for e in know["top_authors"] if sees_person(p, e.get("person"), e.get("org"))]
    know["files_by_org"] = {o: n for o, n in know["files_by_org"].items() if sees_org(p, o)}
    comps = {}
    for cid, c in know["components"].items():
        if not sees_component(p, scope.components.get(cid, [])):
            continue
        c["truck_factor_people"] = [person_entry(p, e) for e in c["truck_factor_people"]]
        c["files_by_org"] = {o: n for o, n in c["files_by_org"].items() if sees_org(p, o)}
        comps[cid] = c
    know["components"] = comps
    know["single_org_components"] = [c for c in know["single_org_components"] if c in comps]

    off = out["offboarding"]
    by_org = {}
    for org, v in off["by_org"].items():
        if not sees_org(p, org):
            continue
        v["people"] = [pid for pid in v["people"] if sees_person(p, pid, scope.people.get(pid, org))]
        v["components"] = {c: x for c, x in v["components"].items() if c in comps}
        by_org[org] = v
    off["by_org"] = by_org
    off["by_person"] = {pid: v for pid, v in off["by_person"].items() if sees_person(p, pid, v.get("org"))}
    lost = off["already_lost"]
    lost["people"] = [pid for pid in lost["people"] if sees_person(p, pid, scope.people.get(pid))]
    lost["components"] = {c: x for c, x in lost["components"].items() if c in comps}

    contrib = out["contributors"]
    contrib["unknown"] = []  # people outside every organisation: only admin and auditor see them
    contrib["outside_contract"] = [
        r for r in contrib["outside_contract"] if sees_person(p, r.get("person"), r.get("org"))
    ]
    return out


def filter_people(people: list[dict[str, Any]], principal: Principal) -> list[dict[str, Any]]:
    """Charter people ({"id", "org", ...}) this caller may see."""
    return [x for x in people if sees_person(principal, x.get("id"), x.get("org"))]


def filter_summary(summary: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """A repository's DORA summary ({"overall", "by_org"}) as this caller may see it."""
    if principal.sees_everything:
        return summary
    return {**summary, "by_org": {o: v for o, v in summary.get("by_org", {}).items() if sees_org(principal, o)}}


def gate_run_entry(principal: Principal, run: dict[str, Any]) -> dict[str, Any] | None:
    """A gate run as this caller may see it: None when hidden, the author hidden when not theirs to see."""
    org = run.get("org")
    if not principal.sees_everything and not (org is not None and sees_org(principal, org)):
        return None
    if sees_person(principal, run.get("person"), org):
        return run
    out = {**run, "person": None}
    verdict = out.get("verdict")
    if isinstance(verdict, dict) and isinstance(verdict.get("author"), dict):
        author = verdict["author"]
        verdict = {**verdict, "author": {**author, "login": None, "email": None, "name": None, "person": None}}
        out["verdict"] = verdict
    return out


def only_org(data: dict[str, Any], org: str) -> dict[str, Any]:
    """The report narrowed to one organisation (the `org` parameter): per-organisation sections keep only it."""
    out = copy.deepcopy(data)
    dora = out["dora"]
    dora["by_org"] = {o: v for o, v in dora["by_org"].items() if o == org}
    dora["trend"]["by_org"] = {o: v for o, v in dora["trend"]["by_org"].items() if o == org}
    out["review"]["by_org"] = {o: v for o, v in out["review"]["by_org"].items() if o == org}
    out["knowledge"]["files_by_org"] = {o: n for o, n in out["knowledge"]["files_by_org"].items() if o == org}
    out["offboarding"]["by_org"] = {o: v for o, v in out["offboarding"]["by_org"].items() if o == org}
    out["organisations"] = {o: v for o, v in out["organisations"].items() if o == org}
    out.setdefault("visibility", {})["org_filter"] = org
    return out


def hidden_names(principal: Principal, people: dict[str, dict[str, Any]]) -> list[str]:
    """Every way of naming a charter person this caller may not see (id, name, e-mails, login), longest first.

    `people` is the charter's people as plain data (id -> {"name", "org", "emails", "github"}).
    """
    if principal.sees_everything:
        return []
    out: set[str] = set()
    for pid, p in people.items():
        if sees_person(principal, pid, p.get("org")):
            continue
        out.update(x for x in (pid, p.get("name"), p.get("github"), *p.get("emails", [])) if x and len(x) > 2)
    return sorted(out, key=len, reverse=True)


def scrub(value: Any, names: list[str]) -> Any:
    """`value` (JSON-like) with every string naming a hidden person replaced by HIDDEN_NAME.

    For free text a person wrote about others (a gate verdict's findings name reviewers)."""
    if not names:
        return value
    if isinstance(value, str):
        for n in names:
            if n in value:
                value = value.replace(n, HIDDEN_NAME)
        return value
    if isinstance(value, list):
        return [scrub(v, names) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, names) for k, v in value.items()}
    return value
