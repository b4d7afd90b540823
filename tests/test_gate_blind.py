"""Author-blindness: the same change gets the same verdict whoever wrote it, and whatever their organisation.

Only the rules that declare they read the author may differ, each only through the one comparison it
exists for: reviews.cross_org (is there an approver of another organisation than the author's?) and
agents.human_review (did an agent write it, and then did a human of an accountable organisation approve it?).
"""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gate_fixtures import CHARTER, change, charter, fc, review
from helpers import GitRepo, run_cli
from onebar.gate.model import AdrRecord, Authorship, Coverage, Evidence, FileCoverage, Finding, Participant
from onebar.gate.rules import RULES, run_rules

C = charter()
READERS = {r.id for r in RULES if r.reads_author}  # the rules declared to read the author
PEOPLE = sorted(C.people)
PATHS = [
    "src/app/x.py",
    "src/app/storage/db.py",
    "tests/test_x.py",
    "docs/a.md",
    "README.md",
    "onebar.toml",
    "docs/adr/0001-x.md",
    "lib/y.go",
]
LINES = ["def run(x):", "x = 1", "import os", "password = 'hunter2hunter2'", "", "class Public:", "return x"]


@st.composite
def changes(draw: st.DrawFn) -> tuple:
    paths = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=6, unique=True))
    files = []
    for p in paths:
        nums = draw(st.lists(st.integers(1, 40), max_size=5, unique=True))
        files.append(fc(p, {n: draw(st.sampled_from(LINES)) for n in nums}, draw(st.sampled_from(["A", "M", "D"]))))
    reviewers = draw(st.lists(st.sampled_from(PEOPLE), max_size=4, unique=True))
    states = [draw(st.sampled_from(["approved", "changes_requested", "commented"])) for _ in reviewers]
    reviews = tuple(review(C, p, s) for p, s in zip(reviewers, states, strict=True)) if draw(st.booleans()) else None
    cov = None
    if draw(st.booleans()):
        cov = Coverage("c", tuple(FileCoverage(p, {n: draw(st.integers(0, 2)) for n in range(1, 41)}) for p in paths))
    finds = None
    if draw(st.booleans()):
        finds = tuple(
            Finding("ruff", "F1", draw(st.sampled_from(["note", "warning", "error"])), "m", p, draw(st.integers(1, 40)))
            for p in paths
        )
    adrs = tuple(
        AdrRecord(
            "docs/adr/0001-x.md",
            1,
            "x",
            draw(st.sampled_from(["accepted", "proposed"])),
            (),
            tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=3))),
        )
        for _ in range(draw(st.integers(0, 1)))
    )
    return change(*files), Evidence(cov, finds, None, reviews, adrs)


def who(person: str | None) -> Authorship:
    if person is None:
        ident = Participant(email="someone@elsewhere.test")
    else:
        p = C.people[person]
        ident = Participant(
            login=p.github,
            email=p.emails[0],
            name=p.name,
            person=person,
            org=p.org,
            org_kind=C.organisations[p.org].kind,
        )
    return Authorship(ident, (ident,))


authors = st.sampled_from([*PEOPLE, None])


@settings(max_examples=120, deadline=None)
@given(changes(), authors, authors)
def test_only_the_rules_declared_to_read_the_author_can_tell_authors_apart(
    case: tuple, a1: str | None, a2: str | None
) -> None:
    ch, ev = case
    r1 = {r.id: r for r in run_rules(ch, ev, C, who(a1))}
    r2 = {r.id: r for r in run_rules(ch, ev, C, who(a2))}
    assert {k: v for k, v in r1.items() if k not in READERS} == {k: v for k, v in r2.items() if k not in READERS}
    for author, results in ((a1, r1), (a2, r2)):
        # the cross-org rule is exactly "an approver, not an author, from another known organisation"
        if ev.reviews is None:
            expected = "not_evaluated"
        elif author is None:
            expected = "fail"
        else:
            org = C.people[author].org
            ok = any(
                r.state == "approved" and r.reviewer.person != author and r.reviewer.org != org for r in ev.reviews
            )
            expected = "pass" if ok else "fail"
        assert results["reviews.cross_org"].status == expected
        # the agent rule is exactly "not an agent's change, or approved by a human (not its author) of a
        # human organisation": it depends on whether an agent wrote it, never on which agent or human
        agent = author is not None and C.organisations[C.people[author].org].kind == "agent"
        if not agent:
            expected = "pass"
        elif ev.reviews is None:
            expected = "not_evaluated"
        else:
            ok = any(
                r.state == "approved"
                and r.reviewer.person not in (None, author)
                and C.organisations[str(r.reviewer.org)].kind not in ("agent", "bot")
                for r in ev.reviews
            )
            expected = "pass" if ok else "fail"
        assert results["agents.human_review"].status == expected


KINDS = ["internal", "partner", "contractor", "agent"]


@settings(max_examples=60, deadline=None)
@given(changes(), authors, st.permutations(KINDS), st.permutations(KINDS))
def test_the_kind_of_organisation_never_matters(case: tuple, author: str | None, k1: list, k2: list) -> None:
    """Relabel every organisation's kind (internal, partner, contractor, agent): nothing changes."""
    ch, ev = case
    base = C.model_copy(deep=True)
    base.done.adr.exempt_kinds = []  # exemption from ADR signing is a property of the signer's org, not the author

    def with_kinds(kinds: list[str]):  # type: ignore[no-untyped-def]
        c = base.model_copy(deep=True)
        for org, kind in zip(sorted(c.organisations), kinds, strict=False):
            c.organisations[org] = replace_kind(c.organisations[org], kind)
        return c

    def replace_kind(org, kind):  # type: ignore[no-untyped-def]
        return org.model_copy(update={"kind": kind})

    auth = who(author)
    v1 = run_rules(ch, ev, with_kinds(k1), Authorship(replace(auth.author, org_kind=k1[0]), auth.commit_authors))
    v2 = run_rules(ch, ev, with_kinds(k2), Authorship(replace(auth.author, org_kind=k2[0]), auth.commit_authors))
    assert [r for r in v1 if r.id not in READERS] == [r for r in v2 if r.id not in READERS]


def test_same_git_change_by_three_organisations(repo: GitRepo) -> None:
    """End to end: one change committed by an employee, a partner and an AI agent gets one verdict; only
    agents.human_review asks the agent's change for its human approval (no reviews were given)."""
    repo.commit("start", {"onebar.toml": CHARTER, "src/app/calc.py": "def add(a, b):\n    return a + b\n"})
    verdicts = []
    for name, email in [
        ("Alice Example", "alice@acme.test"),
        ("Pat Partner", "pat@partner.test"),
        ("Robo Agent", "robo@agent.test"),
    ]:
        branch = email.split("@")[0]
        repo.git("checkout", "-q", "-b", branch, "main")
        repo.commit(
            "feature",
            {"src/app/calc.py": "def add(a, b):\n    return b + a\n\n\ndef sub(a, b):\n    return a - b\n"},
            author=(name, email),
            at=1_800_000_000,
        )
        result = run_cli("gate", str(repo.path), "--base", "main", "--format", "json")
        data = json.loads(result.stdout)
        agent_rule = next(r for r in data["rules"] if r["id"] == "agents.human_review")
        data["rules"] = [r for r in data["rules"] if r["id"] != "agents.human_review"]
        data["summary"][agent_rule["status"]] -= 1
        verdicts.append((result.exit_code, data.pop("author"), data, agent_rule["status"]))
    assert [v[1]["org"] for v in verdicts] == ["acme", "partner", "bots"]
    assert [v[3] for v in verdicts] == ["pass", "pass", "not_evaluated"]
    first = verdicts[0]
    for code, _, data, _ in verdicts[1:]:
        assert code == first[0]
        assert {k: v for k, v in data.items() if k != "head"} == {k: v for k, v in first[2].items() if k != "head"}
    assert first[0] == 1  # code without tests or docs fails, for all three alike
