"""The report on real git repositories built in tmp_path, with answers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import BASE_TIME, GitRepo
from onebar.charter import Charter, parse_charter
from onebar.errors import NotFoundError, UsageError
from onebar.mining.ingest import ingest_repository
from onebar.report.build import build_report
from onebar.report.model import Report
from onebar.store import Store

DAY = 86400
ALICE = ("Alice Example", "alice@acme.test")
BOB = ("Bob Agency", "bob@agency.test")
EVE = ("Eve Outsider", "eve@else.test")


def day(n: float) -> int:
    return BASE_TIME + int(n * DAY)


def iso_day(n: float) -> str:
    return datetime.fromtimestamp(day(n), UTC).date().isoformat()


CHARTER = f"""
[organisations.acme]
kind = "internal"
domains = ["acme.test"]

[organisations.agency]
kind = "partner"
domains = ["agency.test"]

[people.alice]
name = "Alice Example"
org = "acme"
emails = ["alice@acme.test"]
timezone = "Europe/Berlin"

[people.bob]
name = "Bob Agency"
org = "agency"
emails = ["bob@agency.test"]
timezone = "America/New_York"
contract_end = {iso_day(5)}

[components.core]
paths = ["src/core/**"]
accountable = "alice"

[components.ui]
paths = ["src/ui/**"]
accountable = "bob"
"""


def story(repo: GitRepo) -> dict[str, str]:
    """c1 alice, c2 bob (reviewed by alice) -> v1.0; c3 alice fixes c2 -> v1.1; c4 eve, c5 bob -> v1.2."""
    s: dict[str, str] = {}
    s["c1"] = repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    s["c2"] = repo.commit(
        "Add ui\n\nReviewed-by: Alice Example <alice@acme.test>", {"src/ui/b.py": "b\n"}, author=BOB, at=day(2)
    )
    repo.tag("v1.0", message="release", at=day(3))
    s["c3"] = repo.commit(f"Fix ui crash\n\nFixes: {s['c2'][:12]}", {"src/core/a.py": "a2\n"}, author=ALICE, at=day(4))
    repo.tag("v1.1", message="release", at=day(6))
    s["c4"] = repo.commit("Docs", {"docs/x.md": "x\n"}, author=EVE, at=day(7))
    s["c5"] = repo.commit("Polish ui", {"src/ui/b.py": "b2\n"}, author=BOB, at=day(8))
    repo.tag("v1.2", message="release", at=day(10))
    return s


def build(repo: GitRepo, store: Store, charter: Charter, **kw: object) -> Report:
    summary = ingest_repository(repo.path, store, charter=charter)
    kw.setdefault("since", "all")
    kw.setdefault("until", iso_day(20))
    return build_report(store, summary.repo_id, charter, **kw)  # type: ignore[arg-type]


@pytest.fixture
def charter() -> Charter:
    return parse_charter(CHARTER)


def test_dora_overall_and_per_org_by_hand(repo: GitRepo, store: Store, charter: Charter) -> None:
    story(repo)
    d = build(repo, store, charter).to_json()["dora"]
    o = d["overall"]
    assert o["deployments"] == 3
    assert o["changes"] == 5
    # lead times in days: c1 2, c2 1, c3 2, c4 3, c5 2 -> median 2 d, p90 2.6 d
    assert o["lead_time_hours"] == {"median": 48.0, "p90": 62.4, "changes": 5}
    assert o["failed_deployments"] == 1  # v1.0: c2 was fixed by c3, shipped in v1.1
    assert o["change_failure_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert o["time_to_restore_hours"]["median"] == 72.0  # v1.0 (day 3) -> v1.1 (day 6)
    assert o["deployment_rework_rate"] == pytest.approx(1 / 3, abs=1e-4)  # v1.1 ships only the fix
    agency = d["by_org"]["agency"]
    assert (agency["deployments"], agency["changes"], agency["change_failure_rate"]) == (2, 2, 0.5)
    assert agency["lead_time_hours"]["median"] == 36.0
    assert agency["time_to_restore_hours"]["median"] == 72.0
    acme = d["by_org"]["acme"]
    assert (acme["deployments"], acme["change_failure_rate"]) == (2, 0.0)
    assert d["by_org"]["(unknown)"]["changes"] == 1
    assert [x["name"] for x in d["deployments"]] == ["v1.0", "v1.1", "v1.2"]
    assert d["deployments"][0]["changes_by_org"] == {"acme": 1, "agency": 1}
    assert o["tier"] == "low"  # 3 deployments in ~3 weeks: under once a week... and the worst key wins


def test_review_knowledge_offboarding_contributors(repo: GitRepo, store: Store, charter: Charter) -> None:
    story(repo)
    r = build(repo, store, charter)
    review = r.to_json()["review"]
    assert review["changes"] == 5
    assert review["cross_org_share"] == 0.2  # only c2, reviewed by acme
    assert review["matrix"]["agency"] == {"acme": 1}

    k = r.to_json()["knowledge"]
    assert k["files"] == 3
    assert k["truck_factor"] == 2
    assert [p["person"] for p in k["truck_factor_people"]] == ["alice", "bob"]
    assert k["components"]["core"]["orgs"] == ["acme"]
    assert k["components"]["ui"]["truck_factor"] == 1
    assert k["single_org_components"] == ["core", "ui"]

    off = r.to_json()["offboarding"]
    assert off["by_org"]["agency"]["files_lost"] == 1
    assert off["by_org"]["agency"]["files_lost_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert off["by_org"]["agency"]["components"] == {"ui": {"files_lost": 1, "files_lost_share": 1.0}}
    assert off["by_person"]["bob"]["ended"] is True
    assert off["by_person"]["bob"]["files"] == ["src/ui/b.py"]
    assert r.offboard("alice@acme.test").loss.files == ("src/core/a.py",)
    with pytest.raises(NotFoundError):
        r.offboard("nobody")

    c = r.to_json()["contributors"]
    assert [u["identity"] for u in c["unknown"]] == ["Eve Outsider <eve@else.test>"]
    assert [(x["person"], x["commits"]) for x in c["outside_contract"]] == [("bob", 1)]  # c5, after day 5

    assert r.to_json()["overlap"]["pairs"] == []  # bob's contract ended on day 5: agency has nobody left
    assert "pairs" in r.to_json()["overlap"]["reasons"]
    pair = build(repo, store, charter, until=iso_day(4)).to_json()["overlap"]["pairs"][0]
    assert pair["orgs"] == ["acme", "agency"]
    assert pair["daily_window_hours"] == 2.0  # Berlin 08-16 UTC and New York 14-22 UTC in November
    assert pair["meets_minimum"] is False


def test_window_and_tiers(repo: GitRepo, store: Store, charter: Charter) -> None:
    story(repo)
    r = build(repo, store, charter, since=iso_day(5), until=iso_day(9), tiers=2024)
    assert r.to_json()["tiers"]["year"] == 2024
    assert r.to_json()["dora"]["overall"]["deployments"] == 1  # v1.1 only (day 6)
    assert r.to_json()["window"]["since"].startswith(iso_day(5))
    default = build(repo, store, charter, since=None, until=None)
    assert default.to_json()["window"]["days"] == 90.0  # ends just after v1.2, the history's last event
    assert default.to_json()["dora"]["overall"]["deployments"] == 3
    with pytest.raises(UsageError) as bad:
        build(repo, store, charter, since="yesterday")
    assert bad.value.field == "since"
    with pytest.raises(UsageError) as bad:
        build(repo, store, charter, since=iso_day(9), until=iso_day(5))
    assert bad.value.field == "since"
    with pytest.raises(UsageError) as bad:
        build(repo, store, charter, tiers=2019)
    assert bad.value.field == "tiers"


def test_no_deployments_gives_nulls_with_reasons(repo: GitRepo, store: Store, charter: Charter) -> None:
    repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    o = build(repo, store, charter).to_json()["dora"]["overall"]
    assert o["deployments"] == 0
    assert o["deployment_frequency_per_week"] is None
    assert o["lead_time_hours"]["median"] is None
    assert o["change_failure_rate"] is None
    assert o["tier"] is None
    assert "no tag matches" in o["reasons"]["deployment_frequency_per_week"]


def test_release_branch_cherry_pick_and_revert(repo: GitRepo, store: Store, charter: Charter) -> None:
    """A fix cherry-picked onto a release branch ships with the release tag, once; a revert fails v2.0."""
    repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    repo.tag("v1.0", message="release", at=day(1.5))
    repo.git("branch", "release-1.0")
    fix = repo.commit("Fix overflow", {"src/core/a.py": "a fixed\n"}, author=BOB, at=day(2))
    repo.git("checkout", "-q", "release-1.0")
    repo.git(
        "cherry-pick",
        "-x",
        fix,
        env={
            "GIT_COMMITTER_NAME": "Alice Example",
            "GIT_COMMITTER_EMAIL": "alice@acme.test",
            "GIT_COMMITTER_DATE": f"@{day(3)} +0000",
        },
    )
    repo.tag("v1.0.1", message="patch", at=day(3.5))
    repo.git("checkout", "-q", "main")
    bad = repo.commit("Risky change", {"src/ui/b.py": "b\n"}, author=BOB, at=day(4))
    repo.tag("v2.0", message="release", at=day(5))
    repo.commit(f'Revert "Risky change"\n\nThis reverts commit {bad}.', {"src/ui/b.py": None}, author=ALICE, at=day(6))
    repo.tag("v2.1", message="release", at=day(7))
    d = build(repo, store, charter).to_json()["dora"]
    deps = {x["name"]: x for x in d["deployments"]}
    assert deps["v1.0.1"]["changes"] == 1  # the cherry-pick: the fix ships here first
    assert deps["v2.0"]["changes"] == 1  # the original fix is not counted again, only "Risky change"
    assert deps["v2.0"]["failed"] is True
    assert deps["v2.0"]["restore_hours"] == 48.0
    assert deps["v2.1"]["rework"] is True
    assert d["overall"]["changes"] == 4
    # The fix counts once, for bob: lead time day 2 -> day 3.5 = 36 h
    assert d["by_org"]["agency"]["changes"] == 2
    assert d["by_org"]["agency"]["change_failure_rate"] == 0.5


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_fixes_trailer_names_a_commit_only_when_it_starts_with_a_sha(tail: str) -> None:
    from onebar.mining.facts import FIXES_SHA as _SHA

    assert _SHA.match("1a2b3c4d5e6f (" + tail) is not None
    assert _SHA.match("#1234567 " + tail) is None
    assert _SHA.match("https://example.test/issues/1234567" + tail) is None


def test_parse_address() -> None:
    from onebar.report.identity import parse_address

    assert parse_address('"Eve O." <eve@else.test>') == ("Eve O.", "eve@else.test")
    assert parse_address("eve@else.test") == ("eve@else.test", "eve@else.test")
    assert parse_address("Just A Name") == ("Just A Name", "")


def test_merge_by_another_org_is_a_review_and_no_change(repo: GitRepo, store: Store, charter: Charter) -> None:
    repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("Add ui", {"src/ui/b.py": "b\n"}, author=BOB, at=day(2))
    repo.commit("More ui", {"src/ui/c.py": "c\n"}, author=BOB, at=day(3))
    repo.git("checkout", "-q", "main")
    repo.clock = day(4)
    repo.merge("feature", "Merge branch 'feature'", author=ALICE)
    repo.tag("v1.0", message="release", at=day(5))
    r = build(repo, store, charter).to_json()
    assert r["review"]["changes"] == 3  # the merge is not a change
    assert r["review"]["matrix"]["agency"] == {"acme": 2}  # both of bob's commits, merged by alice
    assert r["review"]["signals"]["merge"] == 2
    assert r["dora"]["overall"]["changes"] == 3
    assert r["dora"]["by_org"]["agency"]["lead_time_hours"]["median"] == 60.0  # days 2 and 3 -> day 5


def test_knowledge_already_lost_with_ended_contracts(repo: GitRepo, store: Store, charter: Charter) -> None:
    story(repo)
    a = build(repo, store, charter).to_json()["offboarding"]["already_lost"]
    assert a["people"] == ["bob"]  # contract ended on day 5
    assert a["files"] == ["src/ui/b.py"]


def test_gerrit_history_shows_no_robot_review(repo: GitRepo, store: Store, charter: Charter) -> None:
    """Gerrit merges (authored by Zuul, committed by Gerrit Code Review) review nothing; a change
    Gerrit fast-forwarded carries only its Change-Id: both are review unknown, not unreviewed."""
    zuul, gerrit = ("Zuul", "zuul@review.opendev.org"), ("Gerrit Code Review", "review@openstack.org")
    base = repo.commit("Add core", {"src/core/a.py": "a\n"}, author=ALICE, at=day(1))
    repo.git("checkout", "-q", "-b", "change")
    repo.commit("Add ui\n\nChange-Id: I0123456789abcdef", {"src/ui/b.py": "b\n"}, author=BOB, at=day(2))
    repo.git("checkout", "-q", "main")
    repo.commit("Core two", {"src/core/c.py": "c\n"}, author=ALICE, at=day(2.5))
    repo.clock = day(3)
    when = f"@{day(3)} +0000"
    env = {
        "GIT_AUTHOR_NAME": zuul[0],
        "GIT_AUTHOR_EMAIL": zuul[1],
        "GIT_COMMITTER_NAME": gerrit[0],
        "GIT_COMMITTER_EMAIL": gerrit[1],
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }
    repo.git("merge", "-q", "--no-ff", "-m", 'Merge "Add ui"', "change", env=env)
    repo.commit("Fast-forwarded\n\nChange-Id: Ifedcba9876543210", {"src/ui/d.py": "d\n"}, author=BOB, at=day(4))
    review = build(repo, store, charter).to_json()["review"]
    assert base
    assert review["changes"] == 4
    assert review["review_unknown"] == 2  # bob's two changes: Gerrit merged one, fast-forwarded the other
    assert review["by_org"]["agency"]["review_unknown"] == 2
    assert review["by_org"]["acme"]["unreviewed"] == 2  # alice pushed her own to main
    assert review["matrix"]["agency"] == {}  # Gerrit and Zuul reviewed nothing
    assert review["cross_org_share"] == 0.0 and "review_unknown" in review["notes"]
