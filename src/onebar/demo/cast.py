"""The demo's cast: organisations, how each one works (its `Style`), people, bots and AI agents.

The story the report should tell at a glance:

- **acme** (internal, New York, London, Los Angeles): small pull requests, squash-merged within
  hours, reviewed, deployed the same day, rarely failing: near elite.
- **vistula** (a vendor in Warsaw): big batches on long branches, merged by its own lead at the end
  of each two-week sprint, rarely reviewed, and failing often in production.
- **freelance** (Erik, an individual contractor on a personal address): the only one who ever
  touches the importer, and his contract ends a few weeks after the history does.
- **pampa** (a contractor agency in São Paulo): built the web front end, reviewed among itself; its
  contract ended at 70% of the history, and João commits once more after it.
- **agents** (Devin and Copilot): pull requests that an acme engineer requests, reviews and merges;
  Claude and Copilot also appear as `Co-authored-by:`.
- **bots**: dependabot, renovate, github-actions and GitHub's web-flow committer.

Contract windows are fractions of the history's span, so a 300-commit and a 1,000,000-commit demo
tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
class Style:
    """How an organisation works: the shape of its changes, who reviews them and how often they fail."""

    commits: tuple[int, int]  # commits per pull request
    files: tuple[int, int]  # files a pull request edits
    squash: float  # share of pull requests squash-merged (else a merge commit keeps the branch)
    review: float  # share of merged pull requests that carry a Reviewed-by
    cross: float  # of the reviewers, the share from another organisation
    own_merge: bool  # merged by its own people (else by the internal team)
    fail: float  # share of merged changes that later fail in production (reverted or fixed)
    restore: tuple[int, int]  # commits (about an hour each) until a failure is reverted or fixed
    direct: float = 0.0  # share of changes pushed straight to main
    sprint_days: int = 0  # merges only at the end of each sprint of this many days (0: when ready)
    max_open: int = 3  # pull requests open at once, so no organisation holds every branch slot
    revert: float = 0.5  # share of failures reverted (else fixed forward with a Fixes: trailer)
    own_fix: bool = True  # its own people revert or fix its failures (else the internal team cleans up)


STYLES: dict[str, Style] = {
    "acme": Style((1, 2), (1, 2), 0.85, 0.9, 0.25, True, 0.02, (1, 3), direct=0.1, max_open=10),
    "vistula": Style(
        (12, 30), (4, 7), 0.0, 0.08, 0.0, True, 0.45, (40, 160), sprint_days=14, max_open=6, revert=0.7, own_fix=False
    ),
    "freelance": Style((2, 5), (1, 3), 0.2, 0.5, 1.0, False, 0.05, (5, 20)),
    "pampa": Style((2, 4), (1, 3), 0.4, 0.7, 0.1, True, 0.1, (10, 40)),
    "agents": Style((1, 3), (1, 3), 1.0, 1.0, 1.0, False, 0.04, (1, 4)),
}


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
    areas: tuple[str, ...] = ()  # components this person works on
    github: str | None = None
    contract: tuple[float, float] | None = None  # (start, end) as fractions of the history span
    signoff: bool = False  # adds Signed-off-by (DCO) to own commits
    ai_rate: float = 0.0  # share of own commits with an AI co-author
    conventional: bool = False  # writes "feat(area): ..." subjects
    can_merge: bool = False
    in_charter: bool = True
    aliases: tuple[str, ...] = field(default=())  # other e-mails this person sometimes commits with
    listed: tuple[str, ...] = field(default=())  # e-mails only seen in trailers (the charter lists them too)

    @property
    def human(self) -> bool:
        return self.org not in ("agents", "bots")

    @property
    def style(self) -> Style:
        return STYLES.get(self.org, STYLES["acme"])


ORGS: tuple[Org, ...] = (
    Org("acme", "internal", "Acme Shop", ("acme.example",), "maria"),
    Org("vistula", "partner", "Vistula Software", ("vistula-soft.example",), "lukasz"),
    Org("pampa", "contractor", "Pampa Digital", ("pampa.example",), "joao"),
    Org("freelance", "contractor", "Independent contractors", (), None),
    Org("agents", "agent", "AI coding agents", (), None),
    Org("bots", "bot", "Automation", (), None),
)

NY, LDN, LA = "America/New_York", "Europe/London", "America/Los_Angeles"
WAW, SAO, STO = "Europe/Warsaw", "America/Sao_Paulo", "Europe/Stockholm"


def _acme(pid: str, name: str, tz: str, hours: tuple[int, int], areas: tuple[str, ...], **kw: object) -> Member:
    return Member(pid, name, f"{name.lower().replace(' ', '.')}@acme.example", "acme", tz, hours, areas=areas, **kw)  # type: ignore[arg-type]


PEOPLE: tuple[Member, ...] = (
    # Internal: owns the core, the API and search, reviews and merges most pull requests.
    _acme("maria", "Maria Gonzalez", NY, (9, 17), ("core", "api"), github="mgonzalez", can_merge=True, ai_rate=0.1),
    _acme("tom", "Tom Becker", NY, (8, 16), ("api", "infra"), github="tbecker", can_merge=True, ai_rate=0.2),
    _acme("priya", "Priya Raman", NY, (10, 18), ("search", "core"), github="praman", can_merge=True, ai_rate=0.3),
    _acme("sam", "Sam Oneill", LDN, (9, 17), ("infra", "docs"), github="soneill", can_merge=True),
    _acme("li", "Li Wei", NY, (9, 17), ("billing", "search"), github="liwei", can_merge=True, ai_rate=0.15),
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
    _acme("nora", "Nora Lindqvist", NY, (9, 17), ("docs", "search"), github="nlindqvist", weight=0.6),
    # A vendor in Warsaw: big batches on billing, merged by its lead at the end of each sprint.
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
        conventional=True,
    ),
    Member(
        "agnieszka",
        "Agnieszka Wójcik",
        "agnieszka.wojcik@vistula-soft.example",
        "vistula",
        WAW,
        (9, 17),
        areas=("billing",),
        github="awojcik",
        signoff=True,
        conventional=True,
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
        conventional=True,
    ),
    # A contractor agency in São Paulo that built the web front end; its contract ended at 70%.
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
        ai_rate=0.2,
        contract=(0.0, 0.7),
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
        ai_rate=0.2,
        contract=(0.0, 0.7),
    ),
    # An individual contractor on a personal address: the only one who knows the importer.
    Member(
        "erik",
        "Erik Johansson",
        "erik.johansson.dev@gmail.com",
        "freelance",
        STO,
        (8, 16),
        areas=("importer",),
        github="ejohansson",
        contract=(0.05, 1.08),
        weight=1.2,
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
        weight=0.15,
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
        weight=0.12,
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
        weight=0.1,
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
        weight=0.05,
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
        weight=0.08,
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
    "api": (("src/shop/api/**", "tests/api/**"), "tom", ("maria", "alex")),
    "billing": (("src/shop/billing/**", "tests/billing/**"), "li", ("lukasz", "agnieszka", "piotr")),
    "search": (("src/shop/search/**", "tests/search/**"), "priya", ("li", "nora")),
    "importer": (("src/shop/importer/**", "tests/importer/**"), "maria", ("erik",)),
    "web": (("web/**",), "alex", ("joao", "camila")),
    "infra": ((".github/**", "infra/**", "requirements.txt", "pyproject.toml"), "sam", ("tom",)),
    "docs": (("docs/**", "README.md", "CHANGELOG.md"), "nora", ("sam",)),
    "vendor": (("vendor/**",), "tom", ()),
}
ARCHITECTURE = ("core", "api")
TAG_PATTERN = r"^v\d+\.\d+\.\d+$"
HOTFIX_PATTERN = "(?i)hotfix"


def contract_dates(member: Member, start_ts: int, end_ts: int) -> tuple[int, int] | None:
    """The contract window in Unix seconds, or None for an open-ended engagement."""
    if member.contract is None:
        return None
    span = end_ts - start_ts
    return start_ts + int(span * member.contract[0]), start_ts + int(span * member.contract[1])


def mailmap() -> str:
    """A .mailmap folding each person's aliases into their main address."""
    lines = ["# Canonical identities (see gitmailmap(5))."]
    for p in PEOPLE:
        lines += [f"{p.name} <{p.email}> <{alias}>" for alias in p.aliases]
    return "\n".join(lines) + "\n"
