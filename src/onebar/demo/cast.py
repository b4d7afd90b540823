"""The demo's cast: organisations, people, bots and AI agents, and the charter that describes them.

Contract windows are fractions of the history's span so that a 300-commit and a 1,000,000-commit demo
both show a partner joining late and a contractor leaving halfway through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

WEEKDAYS = (0, 1, 2, 3, 4)  # Monday..Friday, as datetime.weekday()
ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Org:
    id: str
    kind: str
    name: str
    domains: tuple[str, ...] = ()
    lead: str | None = None


@dataclass(frozen=True)
class Member:
    """One identity that authors, commits, reviews or co-authors changes."""

    id: str
    name: str
    email: str
    org: str
    timezone: str = "UTC"
    hours: tuple[int, int] = (9, 17)  # local working hours [start, end)
    days: tuple[int, ...] = WEEKDAYS
    weight: float = 1.0  # relative activity while online; 0 = never picked at random
    areas: tuple[str, ...] = ()  # components this person mostly works on
    github: str | None = None
    contract: tuple[float, float] | None = None  # (start, end) as fractions of the history span
    signoff: bool = False  # adds Signed-off-by (DCO) to own commits
    ai_rate: float = 0.0  # share of own commits with an AI co-author
    conventional: bool = False  # writes "feat(area): ..." subjects
    can_merge: bool = False
    cross_review: float = 0.5  # chance a reviewer of this person's change comes from another organisation
    in_charter: bool = True
    aliases: tuple[str, ...] = field(default=())  # other e-mails this person sometimes commits with
    listed: tuple[str, ...] = field(default=())  # e-mails only seen in trailers (the charter lists them too)

    @property
    def human(self) -> bool:
        return self.org not in ("agents", "bots")


ORGS: tuple[Org, ...] = (
    Org("acme", "internal", "Acme Shop", ("acme.example",), "maria"),
    Org("vistula", "partner", "Vistula Software", ("vistula-soft.example",), "lukasz"),
    Org("indigo", "partner", "Indigo Labs", ("indigo-labs.example",), "arjun"),
    Org("pampa", "contractor", "Pampa Digital", ("pampa.example",), "joao"),
    Org("freelance", "contractor", "Independent contractors", (), None),
    Org("agents", "agent", "AI coding agents", (), None),
    Org("bots", "bot", "Automation", (), None),
)

NY, LDN, LA = "America/New_York", "Europe/London", "America/Los_Angeles"
WAW, KOL, SAO, STO = "Europe/Warsaw", "Asia/Kolkata", "America/Sao_Paulo", "Europe/Stockholm"

PEOPLE: tuple[Member, ...] = (
    # Internal: owns the core and the API, merges most pull requests.
    Member(
        "maria",
        "Maria González",
        "maria.gonzalez@acme.example",
        "acme",
        NY,
        (9, 17),
        areas=("core", "api"),
        github="mgonzalez",
        can_merge=True,
        ai_rate=0.1,
        cross_review=0.4,
    ),
    Member(
        "tom",
        "Tom Becker",
        "tom.becker@acme.example",
        "acme",
        NY,
        (8, 16),
        areas=("api", "infra"),
        github="tbecker",
        can_merge=True,
        ai_rate=0.2,
    ),
    Member(
        "priya",
        "Priya Raman",
        "priya.raman@acme.example",
        "acme",
        NY,
        (10, 18),
        areas=("core", "web"),
        github="praman",
        can_merge=True,
        ai_rate=0.3,
    ),
    Member(
        "sam",
        "Sam O'Neill",
        "sam.oneill@acme.example",
        "acme",
        LDN,
        (9, 17),
        areas=("infra", "docs"),
        github="soneill",
        can_merge=True,
    ),
    Member(
        "li",
        "Li Wei",
        "li.wei@acme.example",
        "acme",
        NY,
        (9, 17),
        areas=("billing", "core"),
        github="liwei",
        can_merge=True,
        ai_rate=0.15,
    ),
    Member(
        "alex",
        "Alex Kim",
        "alex.kim@acme.example",
        "acme",
        LA,
        (9, 17),
        areas=("web", "api"),
        github="alexkim",
        can_merge=True,
        ai_rate=0.4,
        aliases=("akim@acme.example",),
    ),
    Member(
        "nora",
        "Nora Lindqvist",
        "nora.lindqvist@acme.example",
        "acme",
        NY,
        (9, 17),
        areas=("docs", "api"),
        github="nlindqvist",
        weight=0.6,
    ),
    # A partner in Warsaw that signs off every commit (DCO) and owns billing.
    Member(
        "lukasz",
        "Łukasz Nowak",
        "lukasz.nowak@vistula-soft.example",
        "vistula",
        WAW,
        (8, 16),
        areas=("billing",),
        github="lnowak",
        signoff=True,
        can_merge=True,
        cross_review=0.7,
    ),
    Member(
        "agnieszka",
        "Agnieszka Wójcik",
        "agnieszka.wojcik@vistula-soft.example",
        "vistula",
        WAW,
        (9, 17),
        areas=("billing", "api"),
        github="awojcik",
        signoff=True,
        cross_review=0.6,
    ),
    Member(
        "piotr",
        "Piotr Zieliński",
        "piotr.zielinski@vistula-soft.example",
        "vistula",
        WAW,
        (9, 17),
        areas=("billing",),
        github="pzielinski",
        signoff=True,
        cross_review=0.6,
    ),
    # A partner in Kolkata that joins a quarter of the way in, writes conventional commits with AI help.
    Member(
        "arjun",
        "Arjun Mehta",
        "arjun.mehta@indigo-labs.example",
        "indigo",
        KOL,
        (10, 18),
        areas=("search",),
        github="arjunm",
        contract=(0.25, 1.0),
        conventional=True,
        ai_rate=0.5,
        can_merge=True,
        cross_review=0.3,
    ),
    Member(
        "divya",
        "Divya Iyer",
        "divya.iyer@indigo-labs.example",
        "indigo",
        KOL,
        (10, 18),
        areas=("search",),
        github="divyai",
        contract=(0.25, 1.0),
        conventional=True,
        ai_rate=0.5,
        cross_review=0.3,
    ),
    Member(
        "rahul",
        "Rahul Sharma",
        "rahul.sharma@indigo-labs.example",
        "indigo",
        KOL,
        (11, 19),
        areas=("search", "api"),
        github="rsharma",
        contract=(0.3, 1.0),
        conventional=True,
        ai_rate=0.6,
        cross_review=0.3,
    ),
    # A contractor agency in São Paulo doing the web front end, rarely reviewed by anyone else.
    Member(
        "joao",
        "João Silva",
        "joao.silva@pampa.example",
        "pampa",
        SAO,
        (9, 18),
        areas=("web",),
        github="jsilva",
        can_merge=True,
        cross_review=0.15,
        ai_rate=0.2,
    ),
    Member(
        "camila",
        "Camila Rocha",
        "camila.rocha@pampa.example",
        "pampa",
        SAO,
        (9, 18),
        areas=("web",),
        github="crocha",
        cross_review=0.15,
        ai_rate=0.2,
    ),
    # An individual contractor on a personal address who wrote the importer, then left.
    Member(
        "erik",
        "Erik Johansson",
        "erik.johansson.dev@gmail.com",
        "freelance",
        STO,
        (8, 16),
        areas=("importer",),
        github="ejohansson",
        contract=(0.1, 0.55),
        weight=1.3,
        cross_review=0.2,
    ),
    # AI agents that open pull requests themselves, around the clock.
    Member(
        "devin",
        "Devin AI",
        "158243242+devin-ai-integration[bot]@users.noreply.github.com",
        "agents",
        "UTC",
        (0, 24),
        ALL_DAYS,
        weight=0.12,
        areas=("api", "core", "docs"),
        github="devin-ai-integration",
    ),
    Member(
        "copilot",
        "Copilot",
        "198982749+Copilot@users.noreply.github.com",
        "agents",
        "UTC",
        (0, 24),
        ALL_DAYS,
        weight=0.1,
        areas=("web", "search", "api"),
        github="Copilot",
        listed=("175728472+Copilot@users.noreply.github.com",),
    ),
    Member("claude", "Claude", "noreply@anthropic.com", "agents", "UTC", (0, 24), ALL_DAYS, weight=0.0),
    # Bots: dependency updates around the clock; release commits; GitHub's web-flow committer.
    Member(
        "dependabot",
        "dependabot[bot]",
        "49699333+dependabot[bot]@users.noreply.github.com",
        "bots",
        "UTC",
        (0, 24),
        ALL_DAYS,
        weight=0.12,
        github="dependabot[bot]",
    ),
    Member(
        "renovate",
        "renovate[bot]",
        "29139614+renovate[bot]@users.noreply.github.com",
        "bots",
        "UTC",
        (0, 24),
        ALL_DAYS,
        weight=0.06,
        github="renovate[bot]",
    ),
    Member(
        "github-actions",
        "github-actions[bot]",
        "41898282+github-actions[bot]@users.noreply.github.com",
        "bots",
        "UTC",
        (0, 24),
        ALL_DAYS,
        weight=0.0,
        github="github-actions[bot]",
    ),
    Member("web-flow", "GitHub", "noreply@github.com", "bots", "UTC", (0, 24), ALL_DAYS, weight=0.0),
    # A drive-by contributor the charter does not know: `onebar` must report, not drop, them.
    Member(
        "kim",
        "Kim Tran",
        "kimtran@users.noreply.github.com",
        "",
        "Australia/Sydney",
        (19, 23),
        ALL_DAYS,
        weight=0.1,
        areas=("docs",),
        in_charter=False,
    ),
)

BY_ID: dict[str, Member] = {p.id: p for p in PEOPLE}
COPILOT_COAUTHOR = "Copilot <175728472+Copilot@users.noreply.github.com>"
CLAUDE_COAUTHOR = "Claude <noreply@anthropic.com>"
DEPENDABOT_SIGNOFF = "dependabot[bot] <support@github.com>"

# Component -> (path globs, accountable, responsible). Tests live with their component.
COMPONENTS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "core": (("src/shop/core/**", "tests/core/**"), "maria", ("priya", "li")),
    "api": (("src/shop/api/**", "tests/api/**"), "tom", ("maria", "alex", "agnieszka")),
    "billing": (("src/shop/billing/**", "tests/billing/**"), "li", ("lukasz", "agnieszka", "piotr")),
    "search": (("src/shop/search/**", "tests/search/**"), "priya", ("arjun", "divya", "rahul")),
    "importer": (("src/shop/importer/**", "tests/importer/**"), "maria", ("erik",)),
    "web": (("web/**",), "alex", ("joao", "camila")),
    "infra": ((".github/**", "infra/**", "requirements.txt", "pyproject.toml"), "sam", ("tom",)),
    "docs": (("docs/**", "README.md", "CHANGELOG.md"), "nora", ("sam",)),
    "vendor": (("vendor/**",), "tom", ()),
}
ARCHITECTURE = ("core", "api")
TAG_PATTERN = r"^v\d+\.\d+\.\d+$"
HOTFIX_PATTERN = "(?i)hotfix"


def _q(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _qs(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def contract_dates(member: Member, start_ts: int, end_ts: int) -> tuple[int, int] | None:
    """The contract window in Unix seconds, or None for an open-ended engagement."""
    if member.contract is None:
        return None
    span = end_ts - start_ts
    return start_ts + int(span * member.contract[0]), start_ts + int(span * member.contract[1])


def render_charter(start_ts: int, end_ts: int) -> str:
    """The demo's onebar.toml, written by hand so no TOML writer is needed; valid for parse_charter."""
    out = [
        "# onebar charter of the demo repository (generated by `onebar demo`).",
        "version = 1",
        "",
        "[project]",
        'name = "acme-shop"',
        'default_branch = "main"',
    ]
    for org in ORGS:
        out += ["", f"[organisations.{org.id}]", f"kind = {_q(org.kind)}", f"name = {_q(org.name)}"]
        out.append(f"domains = {_qs(org.domains)}")
        if org.lead:
            out.append(f"lead = {_q(org.lead)}")
    for p in PEOPLE:
        if not p.in_charter:
            continue
        out += ["", f"[people.{_q(p.id)}]", f"name = {_q(p.name)}", f"org = {_q(p.org)}"]
        out.append(f"emails = {_qs([p.email, *p.aliases, *p.listed])}")
        if p.github:
            out.append(f"github = {_q(p.github)}")
        out.append(f"timezone = {_q(p.timezone)}")
        end = "24:00" if p.hours[1] == 24 else f"{p.hours[1]:02d}:00"
        out.append(f'hours = "{p.hours[0]:02d}:00-{end}"')
        out.append(f"days = {_qs([DAY_NAMES[d] for d in p.days])}")
        window = contract_dates(p, start_ts, end_ts)
        if window:
            first, last = (datetime.fromtimestamp(t, UTC).date() for t in window)
            out.append(f"contract_start = {first.isoformat()}")
            if p.contract and p.contract[1] < 1.0:
                out.append(f"contract_end = {last.isoformat()}")
    for cid, (paths, accountable, responsible) in COMPONENTS.items():
        out += ["", f"[components.{cid}]", f"paths = {_qs(paths)}", f"accountable = {_q(accountable)}"]
        out.append(f"responsible = {_qs(responsible)}")
        if cid in ARCHITECTURE:
            out.append("architecture = true")
    out += [
        "",
        "[delivery]",
        "# Release tags v1.2.3; pre-releases such as v2.0.0-rc1 are not deployments.",
        f"tag_pattern = {_q(TAG_PATTERN)}",
        f"hotfix_pattern = {_q(HOTFIX_PATTERN)}",
        "",
        "[overlap]",
        "min_hours = 3",
        "",
    ]
    return "\n".join(out)


def mailmap() -> str:
    """A .mailmap folding each person's aliases into their main address."""
    lines = ["# Canonical identities (see gitmailmap(5))."]
    for p in PEOPLE:
        lines += [f"{p.name} <{p.email}> <{alias}>" for alias in p.aliases]
    return "\n".join(lines) + "\n"
