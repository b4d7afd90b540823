"""Flow metrics from code-host data: pure functions over hand-built changes."""

from __future__ import annotations

from onebar.metrics.flow import (
    Change,
    HostDeployment,
    HostIncident,
    Review,
    Who,
    agent_change,
    agents,
    backlog,
    failures,
    lead_time,
    review_matrix,
    stages,
)
from onebar.metrics.model import Window

H = 3600
T = 1_700_000_000
W = Window(T, T + 1000 * H)
VENDOR = Who("vera", "vendor", "human")
LEAD = Who("ines", "acme", "human")
PEER = Who("victor", "vendor", "human")
BOT = Who("dependabot[bot]", "(unknown)", "bot")
AGENT = Who("copilot-swe-agent", "(unknown)", "agent")


def change(n: int, author: Who = VENDOR, **kw) -> Change:
    base = {"opened_at": T + 10 * H, "first_commit_at": T + 8 * H, "merged_at": T + 30 * H}
    base.update(kw)
    return Change(number=n, title=f"change {n}", author=author, **base)


def test_stages_exclude_draft_time_and_ignore_bot_reviews() -> None:
    c = change(
        1,
        ready_at=T + 14 * H,
        draft_seconds=4 * H,
        deployed_at=T + 40 * H,
        reviews=[Review(BOT, "approved", T + 11 * H), Review(LEAD, "approved", T + 20 * H)],
    )
    assert stages(c) == {"coding": 2.0, "pickup": 6.0, "review": 10.0, "deploy": 10.0}
    lt = lead_time([c], W).to_json()
    assert lt["overall"]["total"]["median"] == 28.0  # 32 h from first commit to production, less 4 h in draft
    assert lt["by_org"]["vendor"]["pickup"]["median"] == 6.0


def test_a_change_only_a_bot_or_agent_reviewed_is_unreviewed() -> None:
    c = change(2, reviews=[Review(BOT, "approved", T + 12 * H), Review(AGENT, "approved", T + 12 * H)])
    lt = lead_time([c], W).to_json()
    assert lt["overall"]["unreviewed"] == 1 and lt["overall"]["pickup"]["median"] is None
    m = review_matrix([c], W).to_json()
    assert m["matrix"] == {"vendor": {}} and m["by_org"]["vendor"]["approved"] == 0


def test_review_matrix_pairs_latency_share_and_rework() -> None:
    a = change(
        1,
        reviews=[
            Review(LEAD, "changes_requested", T + 12 * H),
            Review(LEAD, "approved", T + 16 * H),
        ],
    )
    b = change(2, reviews=[Review(PEER, "approved", T + 14 * H)])
    c = change(3, LEAD, reviews=[Review(VENDOR, "approved", T + 11 * H), Review(VENDOR, "dismissed", T + 12 * H)])
    m = review_matrix([a, b, c], W).to_json()
    assert m["matrix"] == {"acme": {}, "vendor": {"acme": 1, "vendor": 1}}
    assert m["by_org"]["vendor"]["approved_by_other_org_share"] == 0.5
    assert m["by_org"]["vendor"]["rework_cycles"] == 1 and m["by_org"]["vendor"]["reworked"] == 1
    pair = next(p for p in m["latency"] if p["author_org"] == "vendor" and p["reviewer_org"] == "acme")
    assert pair["median_hours"] == 2.0
    assert m["approved_by_other_org_share"] == round(1 / 3, 4)


def test_failures_attribute_to_the_causing_change_organisation() -> None:
    a, b = change(1), change(2, LEAD)
    deps = [
        HostDeployment("d1", T + 40 * H, False, (1, 2)),
        HostDeployment("d2", T + 50 * H, True, (3,)),
        HostDeployment("d3", T + 53 * H, False, ()),
    ]
    c = change(3)
    incs = [HostIncident(9, T + 41 * H, T + 43 * H, cause_change=2, cause_deployment=0)]
    f = failures([a, b, c], deps, incs, W).to_json()
    assert f["overall"]["failed_deployments"] == 2 and f["overall"]["change_failure_rate"] == round(2 / 3, 4)
    assert f["by_org"]["acme"]["failed_deployments"] == 1  # the incident names acme's change
    assert f["by_org"]["acme"]["time_to_restore_hours"]["median"] == 2.0
    # vendor: d1 shipped its change but the incident was acme's; d2 failed with only vendor's change
    assert f["by_org"]["vendor"]["deployments"] == 2 and f["by_org"]["vendor"]["failed_deployments"] == 1
    assert f["by_org"]["vendor"]["time_to_restore_hours"]["median"] == 3.0


def test_backlog_traces_issue_references_and_charter_keys() -> None:
    changes = [
        change(1, refs=[("#12", "issue")]),
        change(2, refs=[("#1", "issue")]),  # a pull request, not an issue
        change(3, refs=[("PAY-7", "key")]),
        change(4, refs=[("UTF-8", "key")]),  # not a key of the charter's tracker
        change(5, LEAD, refs=[]),
    ]
    b = backlog(changes, W, r"PAY-\d+", pulls={1, 2, 3, 4, 5}).to_json()
    assert b["by_org"]["vendor"] == {"changes": 4, "traced": 2, "traced_share": 0.5}
    assert [u["number"] for u in b["untraced"]] == [2, 4, 5]


def test_agent_changes_record_the_agent_starter_accountable_org_and_human_reviewer() -> None:
    by_agent = change(1, AGENT, assignees=[LEAD], reviews=[Review(LEAD, "approved", T + 12 * H)])
    a = agent_change(by_agent)
    assert a is not None and (a.agent, a.signal, a.accountable_org) == ("copilot-swe-agent", "author", "acme")
    assert a.human_reviewers == ()  # the human who started it approving its work is no second pair of eyes
    co = change(
        2, VENDOR, coauthors=[Who("claude", "(unknown)", "agent")], reviews=[Review(LEAD, "approved", T + 12 * H)]
    )
    got = agent_change(co)
    assert got is not None and got.started_by == VENDOR and got.human_reviewers == (LEAD,)
    assert agent_change(change(3, labels=["backend"])) is None
    out = agents([by_agent, co], W).to_json()
    assert out["changes"] == 2 and out["human_reviewed"] == 1
