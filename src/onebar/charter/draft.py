"""Drafting a charter from history: who is who, which organisations stand behind them, the components.

People are identities merged through .mailmap and obvious aliases. Robots (bots and AI agents) are
recognised by the robot table only. Organisations come from e-mail domains where a company plausibly
stands behind one (docs/charter.md, "What onebar init infers"): never free-mail, disposable or forge
addresses nor host names; a domain of one person only when it looks like that person's firm or they
commit regularly from it. The home organisation is the people who carry the project.

`draft_from_identities` is pure; `draft_charter` gathers its inputs from git (read-only).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onebar.charter.domains import company_domain, is_vanity, looks_like_firm, org_id, registrable, slug
from onebar.charter.done_draft import draft_done
from onebar.charter.layout import draft_components
from onebar.charter.model import Charter, Organisation, Person
from onebar.charter.robots import kind_of
from onebar.charter.zones import draft_zone, fixed_zone
from onebar.git import decode_text, git

GENERIC_NAMES = frozenset({"root", "admin", "unknown", "user", "ubuntu", "git", "github", "none", "nobody"})
INDEPENDENT = "independent"
BOTS, AGENTS = "bots", "ai-agents"
REGULAR = 10  # commits from a one-person domain that make it an organisation without a business name
CARRIER_SHARE = 1 / 3  # of the top author's commits: one of the people who carry the project
CARRIER_MERGES = 10  # merges of a person: they hold the project's merge rights
HOME_SHARE = 0.5  # of the carriers' commits from one company: the project is that company's

Identity = tuple[str, str, int]  # name, e-mail, commits
Samples = Counter[tuple[int, int]]  # (UTC offset in minutes, day number) -> commits


def _norm_name(name: str) -> str:
    return " ".join(slug(name).split("-"))


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower() if "@" in email else ""


def merge_aliases(idents: Iterable[Identity]) -> list[list[Identity]]:
    """Group identities of one person: same e-mail, or the same normalised (non-generic) full name."""
    items = list(idents)
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by: dict[str, int] = {}
    for i, (name, email, _) in enumerate(items):
        keys = [f"e:{email.lower()}"] if "@" in email else []  # an empty e-mail is no one's
        norm = _norm_name(name)
        if norm and norm not in GENERIC_NAMES and " " in norm:  # a single word is too weak a signal
            keys.append(f"n:{norm}")
        if not keys:
            keys.append(f"i:{name}")
        for key in keys:
            if key in first_by:
                parent[find(i)] = find(first_by[key])
            else:
                first_by[key] = i
    groups: dict[int, list[Identity]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[find(i)].append(item)
    return sorted(groups.values(), key=lambda g: -sum(c for _, _, c in g))


@dataclass
class _Someone:
    """One person (or robot) being drafted."""

    name: str
    emails: list[str]
    names: list[str]
    commits: int
    merges: int
    kind: str | None  # bot, agent, or None for a human
    company: str | None = None  # registrable domain of the company behind their address
    org: str = INDEPENDENT
    samples: Samples = field(default_factory=Counter)


def draft_from_identities(
    idents: Iterable[Identity],
    internal_domains: Iterable[str] = (),
    *,
    samples: Mapping[str, Samples] | None = None,
    merges: Mapping[str, int] | None = None,
    org_domains: Iterable[str] = (),
    name: str = "",
) -> Charter:
    """A charter whose people and organisations are inferred from (name, e-mail, commits) identities.

    `samples` holds each e-mail's commit offsets by day (for time zones), `merges` the merges each
    e-mail authored; `internal_domains` names the home organisation's domains and `org_domains`
    domains that are organisations whatever their size. Without `internal_domains` the home
    organisation is the company most of the project's carriers work for, else the carriers themselves.
    """
    samples = samples or {}
    merges = merges or {}
    internal = {registrable(d.lower().lstrip("@")) or d.lower().lstrip("@") for d in internal_domains}
    forced = {registrable(d.lower().lstrip("@")) or d.lower().lstrip("@") for d in org_domains} | internal
    people = [_someone(group, samples, merges) for group in merge_aliases(idents)]
    humans = [p for p in people if p.kind is None]

    members: dict[str, list[_Someone]] = defaultdict(list)  # org id -> people whose company it is
    for p in humans:
        if p.company:
            members[org_id(p.company)].append(p)
    eligible = {oid for oid, ps in members.items() if _is_organisation(ps, forced)}

    home, home_kind_domains = _home(humans, members, eligible, internal, name)
    for p in people:
        if p.kind == "bot":
            p.org = BOTS
        elif p.kind == "agent":
            p.org = AGENTS
        elif p.org == home.id:
            continue
        elif p.company and org_id(p.company) in eligible:
            p.org = org_id(p.company)
    return _charter(people, home, home_kind_domains, members, name)


def _someone(group: list[Identity], samples: Mapping[str, Samples], merges: Mapping[str, int]) -> _Someone:
    top_name = max(group, key=lambda i: i[2])[0]
    emails = sorted({e.lower() for _, e, _ in group if "@" in e})  # git accepts anything; the charter won't
    kind = next((k for n, e, _ in group if (k := kind_of(n, e))), None)
    p = _Someone(
        name=top_name,
        emails=emails,
        names=sorted({n for n, _, _ in group}),
        commits=sum(c for _, _, c in group),
        merges=sum(merges.get(e, 0) for e in emails),
        kind=kind,
    )
    by_company: Counter[str] = Counter()
    for _, e, c in group:
        company = company_domain(_domain(e)) if "@" in e else None
        if company:
            by_company[company] += c + 1  # an address seen only as committer or in a trailer still counts
    p.company = by_company.most_common(1)[0][0] if by_company else None
    for e in emails:
        p.samples.update(samples.get(e, Counter()))
    return p


def _is_organisation(ps: list[_Someone], forced: set[str]) -> bool:
    """A company plausibly stands behind the domain (docs/charter.md, the one-person rule)."""
    if any(p.company in forced for p in ps) or len(ps) >= 2:
        return True
    p = ps[0]
    assert p.company is not None
    if looks_like_firm(p.company):
        return True  # their own firm: "waldmann-edv.de"
    if is_vanity(p.company, p.names, p.emails):
        return False  # a personal domain: "kennethreitz.org" is Kenneth Reitz himself
    return p.commits >= REGULAR


@dataclass
class _Home:
    id: str
    name: str | None


def _home(
    humans: list[_Someone],
    members: dict[str, list[_Someone]],
    eligible: set[str],
    internal: set[str],
    project: str,
) -> tuple[_Home, list[str]]:
    """The home organisation and its domains; marks its members' `org`."""
    if internal:
        oid = org_id(sorted(internal)[0])
        for p in humans:
            if p.company in internal:
                p.org = oid
        eligible.discard(oid)
        return _Home(oid, None), sorted(internal)
    carriers = _carriers(humans)
    by_company: Counter[str] = Counter()
    for p in carriers:
        # Only a company with colleagues in the project can be its home; a firm of one is its owner.
        if p.company and org_id(p.company) in eligible and len(members[org_id(p.company)]) >= 2:
            by_company[org_id(p.company)] += p.commits
    total = sum(p.commits for p in carriers)
    if by_company and total:
        oid, n = by_company.most_common(1)[0]
        if n >= HOME_SHARE * total:
            for p in members[oid]:
                p.org = oid
            eligible.discard(oid)
            return _Home(oid, None), sorted({p.company for p in members[oid] if p.company})
    oid = slug(project) if project else "maintainers"
    if oid in members or oid in (INDEPENDENT, BOTS, AGENTS):
        oid += "-maintainers"
    for p in carriers:
        # A carrier stays with a company that has colleagues in the project; a firm of one is just them.
        company = org_id(p.company) if p.company else None
        if company is None or company not in eligible or len(members[company]) < 2:
            p.org = oid
    for company in list(eligible):
        if all(p.org == oid for p in members[company]):
            eligible.discard(company)
    return _Home(oid, f"{project} maintainers" if project else "Maintainers"), []


def _carriers(humans: list[_Someone]) -> list[_Someone]:
    """The people who carry the project: the most prolific authors and those who merge others' work."""
    if not humans:
        return []
    top = max(p.commits for p in humans)
    return [p for p in humans if (top and p.commits >= CARRIER_SHARE * top) or p.merges >= CARRIER_MERGES]


def _charter(
    people: list[_Someone], home: _Home, home_domains: list[str], members: dict[str, list[_Someone]], project: str
) -> Charter:
    persons: dict[str, Person] = {}
    commits_of: Counter[str] = Counter()
    orgs: dict[str, dict[str, Any]] = {}
    for p in people:
        if p.org == home.id:
            kind, domains = "internal", home_domains
        elif p.org == BOTS:
            kind, domains = "bot", []
        elif p.org == AGENTS:
            kind, domains = "agent", []
        elif p.org == INDEPENDENT:
            kind, domains = "contractor", []
        else:
            kind = "partner"
            domains = sorted({q.company for q in members[p.org] if q.company})
        orgs.setdefault(p.org, {"kind": kind, "domains": domains})
        pid = base = slug(p.name) if slug(p.name) != "someone" or not p.emails else slug(p.emails[0].split("@")[0])
        n = 2
        while pid in persons:
            pid, n = f"{base}-{n}", n + 1
        # Built from values made here (lower-cased addresses, zones from our own table): skip
        # re-validation, which would dominate inference for histories with thousands of people.
        persons[pid] = Person.model_construct(
            name=p.name, org=p.org, emails=p.emails, timezone=draft_zone(p.samples) if p.samples else fixed_zone(0)
        )
        commits_of[pid] = p.commits * 1000 + p.merges
    organisations: dict[str, Organisation] = {}
    for oid in sorted(orgs, key=lambda o: (o != home.id, orgs[o]["kind"] in ("bot", "agent", "contractor"), o)):
        org = orgs[oid]
        staff = [pid for pid, person in persons.items() if person.org == oid]
        lead = max(staff, key=lambda pid: commits_of[pid]) if org["kind"] in ("internal", "partner") else None
        label = {INDEPENDENT: "Individual contributors", BOTS: "Automation", AGENTS: "AI coding agents"}.get(oid)
        organisations[oid] = Organisation(
            kind=org["kind"], name=home.name if oid == home.id else label, domains=org["domains"], lead=lead
        )
    charter = Charter(organisations=organisations, people=persons)
    charter.project.name = project
    return charter


_ADDRESS = re.compile(r"\s*(.*?)\s*<([^>]*)>")
_TRAILER_KEYS = ("co-authored-by", "reviewed-by", "acked-by", "tested-by")
_TZ = re.compile(r"[+-]\d{4}$")


def read_identities(root: Path) -> tuple[list[Identity], dict[str, Samples], dict[str, int]]:
    """Every identity the ingest will see: authors and committers of every commit (merges too),
    and the people named in Co-authored-by / Reviewed-by / Acked-by / Tested-by trailers."""
    fmt = "%x1e%P%x1f%aN%x1f%aE%x1f%at%x1f%ai%x1f%cN%x1f%cE%x1f%e%x1f%(trailers:only,unfold)"
    log = git(root, "log", "--all", f"--format={fmt}", check=False)
    commits: Counter[tuple[str, str]] = Counter()
    seen: dict[tuple[str, str], None] = {}
    samples: dict[str, Samples] = defaultdict(Counter)
    merged: Counter[str] = Counter()
    for raw in log.split(b"\x1e")[1:]:
        fields = raw.split(b"\x1f")
        if len(fields) < 9:
            continue
        enc = fields[7].decode("ascii", "replace")
        parents, an, ae, at, ai, cn, ce, _, trailers = (decode_text(f, enc) for f in fields[:9])
        author, committer = (an, ae.strip().lower()), (cn, ce.strip().lower())
        seen.setdefault(author)
        seen.setdefault(committer)
        if len(parents.split()) > 1:
            merged[author[1]] += 1
        else:
            commits[author] += 1
        tz = ai.strip()[-5:]
        if _TZ.match(tz) and at.strip().isdigit() and "@" in author[1]:
            off = (-1 if tz[0] == "-" else 1) * (int(tz[1:3]) * 60 + int(tz[3:]))
            samples[author[1]][(off, int(at) // 86400)] += 1
        for line in trailers.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() in _TRAILER_KEYS and (m := _ADDRESS.match(value)):
                seen.setdefault((m.group(1), m.group(2).strip().lower()))
    idents = [(n, e, commits.get((n, e), 0)) for n, e in seen]
    return idents, dict(samples), dict(merged)


def draft_charter(root: Path, internal_domains: Iterable[str] = (), org_domains: Iterable[str] = ()) -> Charter:
    """Draft a charter for the repository at `root` from its history and tree."""
    idents, samples, merges = read_identities(root)
    charter = draft_from_identities(
        idents, internal_domains, samples=samples, merges=merges, org_domains=org_domains, name=root.name
    )
    paths = git(root, "ls-files", "-z", check=False).decode("utf-8", "replace").split("\0")
    paths = [p for p in paths if p]
    if not paths:  # a bare repository: the tree of HEAD
        raw = git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD", check=False)
        paths = [p for p in raw.decode("utf-8", "replace").split("\0") if p]
    email_to_person = {e: pid for pid, person in charter.people.items() for e in person.emails}
    humans = {pid for pid, p in charter.people.items() if charter.organisations[p.org].kind not in ("bot", "agent")}
    recent = git(root, "log", "-n", "5000", "--no-merges", "--format=%x1e%aE", "--name-only", check=False)
    authors_by_dir: dict[str, Counter[str]] = defaultdict(Counter)
    for rec in recent.decode("utf-8", "replace").split("\x1e")[1:]:
        lines = rec.strip().splitlines()
        pid = email_to_person.get(lines[0].lower()) if lines else None
        if pid:
            for path in lines[1:]:
                parts = path.split("/")
                for depth in range(1, len(parts)):
                    authors_by_dir["/".join(parts[:depth])][pid] += 1
    charter.components = draft_components(paths, authors_by_dir, humans)
    charter.done = draft_done(paths)
    return charter


def charter_to_toml(charter: Charter, header: str = "") -> str:
    """The charter as TOML, leaving out values equal to their defaults except the ones people edit."""
    import tomli_w

    data = charter.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    # Every rule of the definition of done is written out, so the bar a team adopts is on the page.
    data["done"] = charter.done.model_dump(mode="json", exclude_none=True)
    for pid, person in charter.people.items():
        entry = data.setdefault("people", {}).setdefault(pid, {})
        entry["timezone"] = person.timezone
        entry["hours"] = person.hours
    ordered: dict[str, Any] = {
        k: data[k]
        for k in (
            "version",
            "project",
            "organisations",
            "people",
            "robots",
            "components",
            "done",
            "delivery",
            "overlap",
        )
        if k in data
    }
    return header + tomli_w.dumps(ordered)
