"""Drafting a charter from history: people merged through .mailmap and obvious aliases,
organisations from e-mail domains, bots and AI co-authors as their own kinds, components from the tree.

`draft_from_identities` is pure; `draft_charter` gathers its inputs from git (read-only).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from onebar.charter.done_draft import draft_done
from onebar.charter.identity import kind_by_pattern
from onebar.charter.model import Charter, Component, Organisation, Person
from onebar.git import git

# Addresses that say nothing about an employer: their owners are drafted as individual contractors.
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "qq.com",
        "163.com",
        "126.com",
        "fastmail.com",
        "fastmail.fm",
        "hey.com",
        "zoho.com",
        "users.noreply.github.com",
        "users.sourceforge.net",
        "localhost",
        "localhost.localdomain",
        "example.com",
    }
)
GENERIC_NAMES = frozenset({"root", "admin", "unknown", "user", "ubuntu", "git", "github", "none", "nobody"})
INDEPENDENT = "independent"

Identity = tuple[str, str, int]  # name, e-mail, commits


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "someone"


def _norm_name(name: str) -> str:
    return " ".join(_slug(name).split("-"))


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _org_id(domain: str) -> str:
    """acme.com -> acme; eng.globex.co.uk -> globex: the label left of the (rough) public suffix."""
    labels = [p for p in domain.split(".") if p]
    if len(labels) > 1:
        labels.pop()  # the top-level domain
    while len(labels) > 1 and labels[-1] in {"co", "com", "org", "net", "ac", "gov", "edu"}:
        labels.pop()
    return _slug(labels[-1]) if labels else _slug(domain)


# Offsets that are not whole hours belong to few zones; name the most populous one.
_HALF_HOUR_ZONES = {
    330: "Asia/Kolkata",
    345: "Asia/Kathmandu",
    270: "Asia/Kabul",
    210: "Asia/Tehran",
    390: "Asia/Yangon",
    570: "Australia/Darwin",
    630: "Australia/Adelaide",
    -210: "America/St_Johns",
    -150: "America/St_Johns",
}


def _zone_for(offset_minutes: int) -> str:
    """An IANA zone with that offset (Etc/GMT signs are inverted by POSIX convention)."""
    if offset_minutes == 0:
        return "UTC"
    if offset_minutes % 60:
        return _HALF_HOUR_ZONES.get(offset_minutes, "UTC")
    hours = offset_minutes // 60
    return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


def merge_aliases(idents: Iterable[Identity]) -> list[list[Identity]]:
    """Group identities of one person: same e-mail, or the same normalised (non-generic) name."""
    items = list(idents)
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by: dict[str, int] = {}
    for i, (name, email, _) in enumerate(items):
        keys = [f"e:{email.lower()}"]
        norm = _norm_name(name)
        if norm and norm not in GENERIC_NAMES and " " in norm:  # a single word is too weak a signal
            keys.append(f"n:{norm}")
        for key in keys:
            if key in first_by:
                parent[find(i)] = find(first_by[key])
            else:
                first_by[key] = i
    groups: dict[int, list[Identity]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[find(i)].append(item)
    return sorted(groups.values(), key=lambda g: -sum(c for _, _, c in g))


def draft_from_identities(
    idents: Iterable[Identity],
    internal_domains: Iterable[str] = (),
    *,
    offsets: dict[str, Counter[int]] | None = None,
    name: str = "",
) -> Charter:
    """A charter whose people and organisations are inferred from (name, e-mail, commits) identities.

    Without `internal_domains`, the company domain with the most commits is taken as the home one.
    """
    groups = merge_aliases(idents)
    internal = {d.lower().lstrip("@") for d in internal_domains}
    if not internal:
        domain_commits: Counter[str] = Counter()
        for group in groups:
            for n, e, c in group:
                if kind_by_pattern(n, e) is None and _domain(e) not in PUBLIC_DOMAINS and "." in _domain(e):
                    domain_commits[_domain(e)] += c
        if domain_commits:
            internal = {domain_commits.most_common(1)[0][0]}

    orgs: dict[str, dict[str, Any]] = {}
    people: dict[str, Person] = {}
    commits_of: Counter[str] = Counter()
    for group in groups:
        top_name, _, _ = max(group, key=lambda i: i[2])
        emails = sorted({e.lower() for _, e, _ in group if "@" in e})  # git accepts anything; the charter won't
        kind = next((k for n, e, _ in group if (k := kind_by_pattern(n, e))), None)
        if kind == "bot":
            oid, okind, domain = "bots", "bot", None
        elif kind == "agent":
            oid, okind, domain = "ai-agents", "agent", None
        else:
            by_domain: Counter[str] = Counter()
            for _, e, c in group:
                by_domain[_domain(e)] += c
            company = [d for d, _ in by_domain.most_common() if d not in PUBLIC_DOMAINS and "." in d]
            domain = company[0] if company else None
            if domain is None:
                oid, okind = INDEPENDENT, "contractor"
            elif domain in internal or any(domain.endswith("." + d) for d in internal):
                oid, okind = _org_id(next(iter(sorted(internal)))), "internal"
            else:
                oid, okind = _org_id(domain), "partner"
        org = orgs.setdefault(oid, {"kind": okind, "domains": set()})
        if domain and okind in ("internal", "partner"):
            org["domains"].add(domain)
        pid = base = _slug(top_name)
        suffix = 2
        while pid in people:
            pid, suffix = f"{base}-{suffix}", suffix + 1
        offset = Counter[int]()
        for e in emails:
            offset.update((offsets or {}).get(e, Counter()))
        # Built from values made here (lower-cased addresses, zones from our own table): skip
        # re-validation, which would dominate inference for histories with thousands of people.
        people[pid] = Person.model_construct(
            name=top_name,
            org=oid,
            emails=emails,
            timezone=_zone_for(offset.most_common(1)[0][0]) if offset else "UTC",
        )
        commits_of[pid] = sum(c for _, _, c in group)

    organisations: dict[str, Organisation] = {}
    for oid, org in orgs.items():
        members = [p for p, person in people.items() if person.org == oid]
        lead = max(members, key=lambda p: commits_of[p]) if org["kind"] in ("internal", "partner") else None
        organisations[oid] = Organisation(
            kind=org["kind"],
            name="Individual contractors" if oid == INDEPENDENT else None,
            domains=sorted(org["domains"]),
            lead=lead,
        )
    charter = Charter(organisations=organisations, people=people)
    charter.project.name = name
    return charter


def _component_folders(paths: list[str], limit: int = 12) -> list[str]:
    """The folders that make sensible components: top-level folders, descending through `src/`,
    Python packages and single-child folders to where the tree branches."""
    children: dict[str, set[str]] = defaultdict(set)
    files_under: Counter[str] = Counter()
    has_init: set[str] = set()
    for p in paths:
        parts = p.split("/")
        if parts[0].startswith(".") or len(parts) < 2:
            continue
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            files_under[folder] += 1
            if depth < len(parts) - 1:
                children[folder].add("/".join(parts[: depth + 1]))
        if parts[-1] == "__init__.py":
            has_init.add("/".join(parts[:-1]))
    folders = sorted({p.split("/")[0] for p in paths if "/" in p and not p.startswith(".")})
    for _ in range(3):
        expanded: list[str] = []
        for f in folders:
            kids = children.get(f, set())
            splittable = f.split("/")[-1] == "src" or f in has_init or len(kids) == 1
            expanded.extend(sorted(kids) if kids and splittable and f.count("/") < 3 else [f])
        folders = expanded
    return sorted(folders, key=lambda f: -files_under[f])[:limit]


def draft_components(
    paths: list[str], authors_by_dir: dict[str, Counter[str]], people: set[str]
) -> dict[str, Component]:
    """Components from the tree; Accountable and Responsible are the folder's most frequent recent authors."""
    components: dict[str, Component] = {}
    for folder in _component_folders(paths):
        votes = authors_by_dir.get(folder, Counter())
        ranked = [p for p, _ in votes.most_common() if p in people][:3]
        if not ranked:
            continue
        cid = base = _slug(folder.removeprefix("src/").split("/")[-1])
        n = 2
        while cid in components:
            cid, n = f"{base}-{n}", n + 1
        components[cid] = Component(paths=[f"{folder}/**"], accountable=ranked[0], responsible=ranked[1:])
    return components


def draft_charter(root: Path, internal_domains: Iterable[str] = ()) -> Charter:
    """Draft a charter for the repository at `root` from its history and tree."""
    log = git(
        root,
        "log",
        "--all",
        "--no-merges",
        "--format=%x1e%aN%x1f%aE%x1f%ai%x1f%(trailers:key=Co-authored-by,valueonly)",
    )
    counts: Counter[tuple[str, str]] = Counter()
    offsets: dict[str, Counter[int]] = defaultdict(Counter)
    for rec in log.decode("utf-8", "replace").split("\x1e")[1:]:
        name, email, date, coauthors = [*rec.split("\x1f"), "", "", ""][:4]
        email = email.lower()
        counts[(name, email)] += 1
        tz = date.strip()[-5:]
        if re.fullmatch(r"[+-]\d{4}", tz):
            offsets[email][(-1 if tz[0] == "-" else 1) * (int(tz[1:3]) * 60 + int(tz[3:]))] += 1
        for line in coauthors.strip().splitlines():
            m = re.match(r"\s*(.*?)\s*<([^>]+)>", line)
            if m:
                counts[(m.group(1), m.group(2).lower())] += 1
    charter = draft_from_identities(
        [(n, e, c) for (n, e), c in counts.items()], internal_domains, offsets=offsets, name=root.name
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
                for depth in range(1, min(len(parts), 5)):
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
        for k in ("version", "project", "organisations", "people", "components", "done", "delivery", "overlap")
        if k in data
    }
    return header + tomli_w.dumps(ordered)
