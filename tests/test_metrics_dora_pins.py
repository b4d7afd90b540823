"""DORA figures pinned by hand: tiers, per-organisation restore and trends, hotfixes, trend buckets.

Every expected number below is worked out in the comments from the history each test builds.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dora_fixtures import story
from onebar.metrics import delivery, dora
from onebar.metrics.model import Deployment, History, HistoryBuilder, Incident, Window

H = 3600
DAY = 86400
WEEK = 168 * H


def _judge(
    h: History,
    deps: list[Deployment],
    as_of: int,
    *,
    incidents: Sequence[Incident] = (),
    hotfixes: Collection[int] = (),
) -> tuple[dora.Linked, dora.Judged]:
    linked = dora.link(h, deps)
    return linked, dora.judge(h, linked, list(incidents), as_of, hotfixes)


# --- tiers ------------------------------------------------------------------------------------------


def test_each_key_gets_its_tier_and_the_figure_the_worst_measured_one() -> None:
    """Window 100 h = 0.595 weeks. Overall: 3 deployments -> 5.04 a week (high: >= 1, < 7); lead
    median 15 h (elite: < 24); 1 failed of 3 = 0.3333 (low: > 0.15); restore 30 h (2023: medium,
    < 168; 2024: low, not < 24). The figure's tier is the worst: low."""
    h, deps = story()
    linked, judged = _judge(h, deps, 100 * H)
    window = Window(0, 100 * H)
    overall = delivery.figures(h, linked, judged, window)
    assert overall.deployment_frequency_per_week == 5.04
    assert overall.tiers == delivery.KeyTiers("high", "elite", "low", "medium")
    assert overall.tier == "low"
    assert delivery.figures(h, linked, judged, window, year=2024).tiers.time_to_restore_hours == "low"
    # acme shipped in v1.0 and v1.1 (2 -> 3.36 a week, high), lead 20 h (elite), and caused no
    # failure (0.0, elite; nothing to restore: no tier). The worst measured key is high.
    acme = delivery.figures(h, linked, judged, window, org="acme")
    assert (acme.deployment_frequency_per_week, acme.change_failure_rate) == (3.36, 0.0)
    assert acme.tiers == delivery.KeyTiers("high", "elite", "elite", None)
    assert acme.tier == "high"
    assert acme.to_json()["tiers"] == {
        "deployment_frequency_per_week": "high",
        "lead_time_hours": "elite",
        "change_failure_rate": "elite",
        "time_to_restore_hours": None,
    }


def test_a_window_with_no_deployment_has_tiers_of_nothing_and_no_tier() -> None:
    h, deps = story()
    linked, judged = _judge(h, deps, 100 * H)
    f = delivery.figures(h, linked, judged, Window(0, 10 * H))
    # No deployment in [0, 10 h): frequency 0.0 is low, but the figure has no tier at all.
    assert f.deployments == 0
    assert f.tiers == delivery.KeyTiers("low", None, None, None)
    assert f.tier is None
    assert f.reasons["tier"] == "no deployments in the window"


# --- incidents, overall and per organisation -------------------------------------------------------


def test_time_to_restore_from_incidents_per_organisation() -> None:
    """Incidents: A 52-55 h, no ref -> v1.1 (latest before it; acme's c2); B 71-73 h, ref v1.2
    (partner's c3); C 21 h, open -> v1.0 (both organisations); D 60 h, resolved after as_of -> v1.1.
    Each organisation's restore counts the incidents of the deployments that shipped its changes."""
    h, deps = story()
    incidents = [
        Incident("A", 52 * H, 55 * H),
        Incident("B", 71 * H, 73 * H, "v1.2"),
        Incident("C", 21 * H, None),
        Incident("D", 60 * H, 150 * H),
    ]
    linked, judged = _judge(h, deps, 100 * H, incidents=incidents)
    assert [(i.title, d) for i, d in judged.incidents] == [("A", 1), ("B", 2), ("C", 0), ("D", 1)]
    assert judged.dep_failed == [True, True, True]
    window = Window(0, 100 * H)
    overall = delivery.figures(h, linked, judged, window)
    assert overall.time_to_restore_hours == delivery.Restore(2.5, 2, 2, "incidents")
    acme = delivery.figures(h, linked, judged, window, org="acme")
    assert acme.time_to_restore_hours == delivery.Restore(3.0, 1, 2, "incidents")  # A; C and D open
    assert (acme.failed_deployments, acme.deployments) == (2, 2)  # incidents name no change
    partner = delivery.figures(h, linked, judged, window, org="partner")
    assert partner.time_to_restore_hours == delivery.Restore(2.0, 1, 1, "incidents")  # B; C open
    assert (partner.failed_deployments, partner.deployments) == (2, 2)


def test_incidents_go_to_the_deployment_at_or_before_their_start() -> None:
    h, deps = story()  # deployments at 20, 50 and 70 h
    incidents = [
        Incident("later", 100 * H, None),  # started at as_of: not known yet
        Incident("at v1.1", 50 * H, 51 * H),  # started the second v1.1 shipped: v1.1's
        Incident("after v1.0", 20 * H + 1, 21 * H),
        Incident("before any", 19 * H, 20 * H),  # no deployment yet: attributed to none
        Incident("unknown ref", 71 * H, 72 * H, "v9"),  # an unknown name: the latest before it
        Incident("named", 72 * H, 73 * H, "v1.0"),  # a known name wins over time
    ]
    _linked, judged = _judge(h, deps, 100 * H, incidents=incidents)
    assert [(i.title, d) for i, d in judged.incidents] == [
        ("at v1.1", 1),
        ("after v1.0", 0),
        ("before any", -1),
        ("unknown ref", 2),
        ("named", 0),
    ]


def test_an_incident_before_every_deployment_fails_none() -> None:
    h, deps = story()
    _, judged = _judge(h, deps, 100 * H, incidents=[Incident("early", 5 * H, 6 * H)])
    assert judged.incidents[0][1] == -1
    assert judged.dep_failed == [True, False, False]  # v1.0 only, from the fix of c1
    assert judged.by_incident == [False, False, False]


def test_the_latest_deployment_of_a_reused_name_is_the_one_named() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=2 * H)
    deps = [Deployment("app", c0, H), Deployment("app", c1, 3 * H)]
    _, judged = _judge(b.build(), deps, 10 * H, incidents=[Incident("i", 4 * H, 5 * H, "app")])
    assert judged.incidents[0][1] == 1
    assert judged.dep_failed == [False, True]


# --- hotfixes ---------------------------------------------------------------------------------------


def test_hotfixes_fail_the_deployment_before_them_in_their_own_environment() -> None:
    """stg-1 (staging, 1 h) and v1 (production, 2 h) both deploy c0; a staging hotfix follows at
    3 h, then v2 in production at 6 h. The hotfix fails stg-1 (restored in 2 h), not v1: the
    deployment before a hotfix is the one before it in the same environment."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H // 2)
    deps = [
        Deployment("stg-1", c0, H, environment="staging"),
        Deployment("v1", c0, 2 * H),
        Deployment("stg-1.0.1", c1, 3 * H, environment="staging", hotfix=True),
        Deployment("v2", c1, 6 * H),
    ]
    _, judged = _judge(b.build(), deps, 10 * H)
    assert judged.dep_failed == [True, False, False, False]
    assert judged.dep_restore_hours == [2.0, None, None, None]
    assert judged.dep_rework == [False, False, True, False]
    assert judged.unnamed == [[2.0], [], [], []]


def test_a_production_hotfix_skips_the_staging_deployments_between() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H)
    c2 = b.add("c2", (c1,), author="a", org="x", at=2 * H)
    deps = [
        Deployment("v1", c0, H),
        Deployment("stg-2", c1, 3 * H, environment="staging"),
        Deployment("v1.0.1", c2, 5 * H, hotfix=True),
    ]
    _, judged = _judge(b.build(), deps, 10 * H)
    assert judged.dep_failed == [True, False, False]
    assert judged.dep_restore_hours == [4.0, None, None]


def test_a_hotfix_shipped_through_a_merge_marks_the_deployment_of_the_branch_tip() -> None:
    """v1 deploys c0 (1 h). A hotfix branch h1 off c0 is tagged v1.0.1 (4 h); the merge M of the
    branch into the mainline (after m1) says hotfix and ships in v2 (6 h). The hotfix deployment is
    v1.0.1, which first shipped the branch's tip: v1 failed and was restored in 3 h; v2 is not rework."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    m1 = b.add("m1", (c0,), author="a", org="x", at=2 * H)
    h1 = b.add("h1", (c0,), author="b", org="y", at=3 * H)
    merge = b.add("M", (m1, h1), author="a", org="x", at=5 * H)
    deps = [Deployment("v1", c0, H), Deployment("v1.0.1", h1, 4 * H), Deployment("v2", merge, 6 * H)]
    linked, judged = _judge(b.build(), deps, 10 * H, hotfixes={merge})
    assert [list(s) for s in linked.shipped] == [[c0], [h1], [m1]]
    assert judged.dep_failed == [True, False, False]
    assert judged.dep_restore_hours == [3.0, None, None]
    assert judged.dep_rework == [False, True, False]
    assert judged.rework_changes == set()  # a merge is no change


def test_a_hotfix_commit_marks_its_deployment_and_is_rework() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    hot = b.add("hot", (c0,), author="a", org="x", at=2 * H)
    c2 = b.add("c2", (hot,), author="a", org="x", at=4 * H)
    deps = [Deployment("v1", c0, H), Deployment("v2", hot, 3 * H), Deployment("v3", c2, 5 * H)]
    _, judged = _judge(b.build(), deps, 10 * H, hotfixes={hot})
    assert judged.rework_changes == {hot}
    assert judged.dep_rework == [False, True, False]
    assert judged.dep_failed == [True, False, False]
    assert judged.dep_restore_hours == [2.0, None, None]


def test_a_hotfix_committed_at_or_after_as_of_is_not_known_yet() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    hot = b.add("hot", (c0,), author="a", org="x", at=2 * H, committed_at=10 * H)
    deps = [Deployment("v1", c0, H), Deployment("v2", hot, 3 * H)]
    h = b.build()
    _, judged = _judge(h, deps, 10 * H, hotfixes={hot})
    assert judged.dep_failed == [False, False]
    assert judged.rework_changes == set()
    _, known = _judge(h, deps, 10 * H + 1, hotfixes={hot})
    assert known.dep_failed == [True, False]


def test_a_hotfix_deployment_after_as_of_fails_nothing_yet() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H)
    deps = [Deployment("v1", c0, H), Deployment("v1.0.1", c1, 10 * H, hotfix=True)]
    _, judged = _judge(b.build(), deps, 10 * H)
    assert judged.dep_failed == [False, False]
    assert judged.dep_rework == [False, False]


def test_a_failed_deployment_status_is_restored_by_the_next_live_deployment() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H)
    c2 = b.add("c2", (c1,), author="a", org="x", at=2 * H)
    deps = [
        Deployment("v1", c0, H, failed_at=2 * H),
        Deployment("v2", c1, 4 * H, failed_at=5 * H),  # the next one, v3, is after as_of
        Deployment("v3", c2, 20 * H),
        Deployment("v0", c0, 30 * H, failed_at=31 * H),  # after as_of: not live
    ]
    _, judged = _judge(b.build(), deps, 10 * H)
    assert judged.dep_failed == [True, True, False, False]
    assert judged.dep_restore_hours == [3.0, None, None, None]  # v2 is open: v3 is not known yet
    _, early = _judge(b.build(), deps, 5 * H)  # v2's failure status comes at 5 h, not before
    assert early.dep_failed == [True, False, False, False]


# --- fixes and restore ------------------------------------------------------------------------------


def test_restore_counts_from_the_first_live_deployment_of_any_fixer() -> None:
    """c1 ships in v1 (2 h); two commits fix it: f1 ships in v3 (9 h), f2 in v2 (5 h). Restored by
    the earliest: 3 h. Seen at as_of 6 h, only v2 is live; at 4 h no fixer has shipped: open."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="b", org="y", at=H)
    f2 = b.add("f2", (c1,), author="a", org="x", at=3 * H)
    f1 = b.add("f1", (f2,), author="a", org="x", at=3 * H + 1)
    b.fixes[f1] = (c1,)
    b.fixes[f2] = (c1,)
    deps = [Deployment("v1", c1, 2 * H), Deployment("v2", f2, 5 * H), Deployment("v3", f1, 9 * H)]
    h = b.build()
    _, judged = _judge(h, deps, 20 * H)
    assert judged.fixers == {c1: [f2, f1]}
    assert judged.change_restore_hours == {c1: 3.0}
    assert judged.dep_restore_hours == [3.0, None, None]
    assert judged.caused_by[0] == {h.org_code("y"): [3.0]}
    assert judged.rework_changes == {f1, f2}
    assert judged.dep_rework == [False, True, True]  # both ship only fixes
    _, open_ = _judge(h, deps, 4 * H)
    assert open_.change_restore_hours == {c1: None}
    assert open_.dep_failed == [True, False, False]
    assert open_.dep_restore_hours == [None, None, None]


def test_a_change_that_fixes_itself_or_a_merge_is_no_failure() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H)
    b.fixes[c1] = (c1,)  # names itself
    h = b.build()
    _, judged = _judge(h, [Deployment("v1", c0, H // 2), Deployment("v2", c1, 2 * H)], 10 * H)
    assert judged.fixers == {}
    assert judged.dep_failed == [False, False]


def test_an_unshipped_change_has_no_restore_and_fails_no_deployment() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    side = b.add("side", (c0,), author="a", org="x", at=H)  # never deployed
    fix = b.add("fix", (c0,), author="a", org="x", at=2 * H)
    b.fixes[fix] = (side,)
    _, judged = _judge(b.build(), [Deployment("v1", c0, H // 2), Deployment("v2", fix, 3 * H)], 10 * H)
    assert judged.fixers == {side: [fix]}
    assert judged.change_restore_hours == {}
    assert judged.dep_failed == [False, False]
    assert judged.dep_rework == [False, True]


def test_failed_for_reads_the_organisations_own_failures_and_the_unnamed_ones() -> None:
    j = dora.Judged(
        as_of=0,
        fixers={},
        dep_failed=[True, True, True, False],
        dep_rework=[False] * 4,
        dep_restore_hours=[None] * 4,
        change_restore_hours={},
        rework_changes=set(),
        caused_by=[{0: [5.0, None, 2.0]}, {}, {1: [None]}, {}],
        unnamed=[[], [7.0, None], [4.0], []],
        by_incident=[False, False, False, True],
    )
    assert j.failed_for(0, 0) == (True, 2.0)
    assert j.failed_for(0, 1) == (False, None)
    assert j.failed_for(1, 0) == (True, 7.0)  # a cause named by nobody: everyone
    assert j.failed_for(2, 1) == (True, 4.0)
    assert j.failed_for(2, 0) == (True, 4.0)
    assert j.failed_for(3, 0) == (True, None)  # an incident: everyone, restore from the incident
    empty = dora.Judged(0, {}, [False], [False], [None], {}, set(), [], [], [[]], [False])
    assert empty.failed_for(0, 0) == (False, None)


# --- trends -----------------------------------------------------------------------------------------


def _four_weeks() -> tuple[History, dora.Linked, dora.Judged, Window]:
    """x ships in weeks 0 and 2; y in weeks 1, 2 and 3. Lead times: x 9 h, 9 h; y 9, 8, 39 h."""
    b = HistoryBuilder()
    cx0 = b.add("cx0", author="x", org="x", at=H)
    cy1 = b.add("cy1", (cx0,), author="y", org="y", at=WEEK + H)
    cx2 = b.add("cx2", (cy1,), author="x", org="x", at=2 * WEEK + H)
    cy2 = b.add("cy2", (cx2,), author="y", org="y", at=2 * WEEK + 2 * H)
    cy3 = b.add("cy3", (cy2,), author="y", org="y", at=3 * WEEK + H)
    deps = [
        Deployment("d0", cx0, 10 * H),
        Deployment("d1", cy1, WEEK + 10 * H),
        Deployment("d2", cy2, 2 * WEEK + 10 * H),
        Deployment("d3", cy3, 3 * WEEK + 40 * H),
    ]
    h = b.build()
    window = Window(0, 4 * WEEK)
    linked = dora.link(h, deps)
    return h, linked, dora.judge(h, linked, [], window.until), window


def test_trend_per_organisation_by_hand() -> None:
    h, linked, judged, window = _four_weeks()
    x = delivery.trend(h, linked, judged, window, org="x")
    assert [(p.since, p.until) for p in x.series] == [(w * WEEK, (w + 1) * WEEK) for w in range(4)]
    assert [p.deployments for p in x.series] == [1, 0, 1, 0]
    assert [p.deployment_frequency_per_week for p in x.series] == [1.0, 0.0, 1.0, 0.0]
    assert [p.lead_time_hours for p in x.series] == [9.0, None, 9.0, None]
    assert [p.change_failure_rate for p in x.series] == [0.0, None, 0.0, None]
    assert x.direction == delivery.Direction("steady", "steady", "steady")  # 0.5 a week in each half
    y = delivery.trend(h, linked, judged, window, org="y")
    assert [p.deployments for p in y.series] == [0, 1, 1, 1]
    assert [p.lead_time_hours for p in y.series] == [None, 9.0, 8.0, 39.0]
    # Halves: 1 deployment in two weeks, then 2 (0.5 -> 1.0 a week: improving); lead 9 h, then the
    # median of 8 and 39, 23.5 h (worsening); no failure in either half (steady).
    assert y.direction == delivery.Direction("improving", "worsening", "steady")
    overall = delivery.trend(h, linked, judged, window)
    assert [p.deployments for p in overall.series] == [1, 1, 1, 1]
    assert [p.lead_time_hours for p in overall.series] == [9.0, 9.0, 8.5, 39.0]


def test_the_section_has_trends_for_the_first_organisations_only() -> None:
    h, linked, judged, window = _four_weeks()
    section = delivery.section(h, linked, judged, window, ["y", "x"], trend_orgs=1, incidents_recorded=False)
    assert list(section.trend.by_org) == ["y"]
    assert section.trend.by_org["y"] == delivery.trend(h, linked, judged, window, org="y")
    assert section.trend.overall == delivery.trend(h, linked, judged, window)
    assert set(section.by_org) == {"x", "y"}
    assert [d.changes_by_org for d in section.deployments] == [{"x": 1}, {"y": 1}, {"x": 1, "y": 1}, {"y": 1}]
    assert section.time_to_restore_source == "git"


@pytest.mark.parametrize(
    ("days", "step_days", "count"),
    [
        (7, 7, 1),
        (120, 7, 18),  # weeks up to 120 days: 17 whole weeks and one of 1 day
        (120 + 1 / DAY, 30, 5),  # one second more: months
        (1100, 30, 37),
        (1100 + 1 / DAY, 91, 13),  # one second more: quarters
    ],
)
def test_trend_buckets_switch_from_weeks_to_months_to_quarters(days: float, step_days: int, count: int) -> None:
    window = Window(1000, 1000 + round(days * DAY))
    got = delivery.buckets(window)
    assert len(got) == count
    assert got[0].until - got[0].since == step_days * DAY


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 2000 * DAY))
def test_trend_buckets_tile_the_window(since: int, length: int) -> None:
    got = delivery.buckets(Window(since, since + length))
    assert got[0].since == since and got[-1].until == since + length
    assert all(a.until == b.since for a, b in itertools.pairwise(got))
    step = {b.until - b.since for b in got[:-1]} or {got[0].until - got[0].since}
    assert len(step) == 1 and got[-1].until - got[-1].since <= step.pop()


@pytest.mark.parametrize(
    ("a", "b", "sign", "want"),
    [
        (10.0, 11.0, 1, "steady"),  # 1.0 <= 10% of 11
        (11.0, 10.0, 1, "steady"),
        (10.0, 11.2, 1, "improving"),  # 1.2 > 1.12
        (10.0, 11.2, -1, "worsening"),
        (11.2, 10.0, -1, "improving"),
        (0.0, 0.0, 1, "steady"),
        (0.0, 0.001, 1, "improving"),
        (None, 1.0, 1, None),
        (1.0, None, -1, None),
    ],
)
def test_the_steady_band_is_ten_percent_of_the_larger(a: float | None, b: float | None, sign: int, want: str) -> None:
    assert delivery._direction(a, b, sign) == want


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.sampled_from([1, -1]))
def test_direction_is_steady_within_the_band_and_otherwise_follows_the_sign(a: float, b: float, sign: int) -> None:
    got = delivery._direction(a, b, sign)
    assert got == delivery._direction(b, a, -sign)  # swapping the halves and the sign says the same
    if abs(b - a) <= 0.1 * max(abs(a), abs(b), 1e-9):
        assert got == "steady"
    else:
        assert got == ("improving" if (b > a) == (sign > 0) else "worsening")


# --- what a reverted merge brought in ----------------------------------------------------------------------


def test_a_merge_brings_in_its_branch_through_an_octopus_and_not_the_deployment_around_it() -> None:
    """m0 ships in v0. A branch of b1, b2 and b3 is joined by an octopus merge, which the merge O
    brings into the mainline (after m1); `tip` follows O and is what v1 deploys. O brought in b1-b3
    and the octopus; not m1 (its first parent), not m0 (shipped before), not tip (after it)."""
    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    b1 = b.add("b1", (m0,), author="b", org="y", at=H)
    b2 = b.add("b2", (m0,), author="b", org="y", at=H + 1)
    b3 = b.add("b3", (m0,), author="b", org="y", at=H + 2)
    octopus = b.add("oct", (b1, b2, b3), author="b", org="y", at=2 * H)
    m1 = b.add("m1", (m0,), author="a", org="x", at=2 * H)
    merge = b.add("O", (m1, octopus), author="a", org="x", at=3 * H)
    tip = b.add("tip", (merge,), author="a", org="x", at=4 * H)
    h = b.build()
    linked = dora.link(h, [Deployment("v0", m0, H // 2), Deployment("v1", tip, 5 * H)])
    assert dora.merged_changes(h, linked, merge) == [b1, b2, b3, octopus]
    assert dora.merged_changes(h, linked, octopus) == [b2, b3]


def test_a_merge_never_deployed_brought_in_nothing_that_shipped() -> None:
    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    side = b.add("side", (m0,), author="b", org="y", at=H)
    m1 = b.add("m1", (m0,), author="a", org="x", at=2 * H)
    merge = b.add("M", (m1, side), author="a", org="x", at=3 * H)
    rv = b.add("rv", (merge,), author="a", org="x", at=4 * H, reverts=merge)
    h = b.build()
    linked = dora.link(h, [Deployment("v0", m0, H // 2)])
    assert dora.merged_changes(h, linked, merge) == []
    judged = dora.judge(h, linked, [], 10 * H)
    assert judged.fixers == {} and judged.rework_changes == set()
    assert rv == len(h) - 1


def test_an_incident_naming_a_deployment_when_there_is_none() -> None:
    b = HistoryBuilder()
    b.add("c0", author="a", org="x", at=0)
    h = b.build()
    _, judged = _judge(h, [], 10 * H, incidents=[Incident("i", H, 2 * H, "v1")])
    assert [d for _, d in judged.incidents] == [-1]
    assert judged.dep_failed == []


def test_reverting_a_merge_fails_the_changes_behind_an_octopus_not_the_octopus() -> None:
    """As above, and rv reverts O and ships in v2 (8 h): b1-b3 failed (the octopus is a merge, no
    change); v1 failed and was restored in 3 h; rv is rework and so is v2, which ships only rv."""
    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    b1 = b.add("b1", (m0,), author="b", org="y", at=H)
    b2 = b.add("b2", (m0,), author="b", org="y", at=H + 1)
    b3 = b.add("b3", (m0,), author="b", org="y", at=H + 2)
    octopus = b.add("oct", (b1, b2, b3), author="b", org="y", at=2 * H)
    m1 = b.add("m1", (m0,), author="a", org="x", at=2 * H)
    merge = b.add("O", (m1, octopus), author="a", org="x", at=3 * H)
    rv = b.add("rv", (merge,), author="a", org="x", at=6 * H, reverts=merge)
    h = b.build()
    deps = [Deployment("v0", m0, H // 2), Deployment("v1", merge, 5 * H), Deployment("v2", rv, 8 * H)]
    _, judged = _judge(h, deps, 10 * H)
    assert judged.fixers == {b1: [rv], b2: [rv], b3: [rv]}
    assert judged.dep_failed == [False, True, False]
    assert judged.dep_restore_hours == [None, 3.0, None]
    assert judged.rework_changes == {rv}
    assert judged.dep_rework == [False, False, True]


def test_a_merge_that_fixes_is_no_rework_change_and_the_first_commits_fix_is() -> None:
    """c1 (index 1) fixes c0; the merge M of a side branch also says `Fixes: c0`. c0 failed in v1 and
    was restored by v2 (c1 and M); the rework changes are c1 alone: a merge is no change."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=2 * H)
    side = b.add("side", (c0,), author="b", org="y", at=2 * H)
    merge = b.add("M", (c1, side), author="a", org="x", at=3 * H)
    b.fixes[c1] = (c0,)
    b.fixes[merge] = (c0,)
    _, judged = _judge(b.build(), [Deployment("v1", c0, H), Deployment("v2", merge, 4 * H)], 10 * H)
    assert judged.fixers == {c0: [c1, merge]}
    assert judged.rework_changes == {c1}
    assert judged.dep_failed == [True, False]
    assert judged.dep_restore_hours == [3.0, None]
    assert judged.dep_rework == [False, False]  # v2 also ships `side`, which is no rework


def test_a_copy_of_a_change_that_names_it_is_no_failure() -> None:
    """c1 ships in v1; its cherry-pick `pick` (same patch) names c1 (a trailer the copy carried over)
    and ships in v2. A change cannot fail itself: no failure."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H, patch_id=500)
    pick = b.add("pick", (c1,), author="a", org="x", at=H, committed_at=3 * H, patch_id=500)
    b.fixes[pick] = (c1,)
    _, judged = _judge(b.build(), [Deployment("v1", c1, 2 * H), Deployment("v2", pick, 4 * H)], 10 * H)
    assert judged.fixers == {}
    assert judged.dep_failed == [False, False]
    assert judged.rework_changes == set()


def test_an_incident_fails_the_first_deployment_too() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    _, judged = _judge(b.build(), [Deployment("v1", c0, H)], 10 * H, incidents=[Incident("i", 2 * H, 3 * H)])
    assert judged.incidents[0][1] == 0
    assert judged.dep_failed == [True] and judged.by_incident == [True]
    assert judged.failed_for(0, 0) == (True, None)


def test_every_fixed_change_gets_its_restore_even_after_an_unshipped_one() -> None:
    """fix1 fixes `side`, which never shipped; fix2, committed later, fixes c0 (v1, 1 h), and ships
    in v2 (4 h): c0 restored in 3 h. The unshipped change has no restore and fails nothing."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    side = b.add("side", (c0,), author="a", org="x", at=H)
    fix1 = b.add("fix1", (c0,), author="a", org="x", at=2 * H)
    fix2 = b.add("fix2", (fix1,), author="a", org="x", at=3 * H)
    b.fixes[fix1] = (side,)
    b.fixes[fix2] = (c0,)
    _, judged = _judge(b.build(), [Deployment("v1", c0, H), Deployment("v2", fix2, 4 * H)], 10 * H)
    assert list(judged.fixers) == [side, c0]
    assert judged.change_restore_hours == {c0: 3.0}
    assert judged.dep_failed == [True, False]
    assert judged.dep_restore_hours == [3.0, None]


def test_a_deployment_after_as_of_is_charged_nothing() -> None:
    """c1 ships in v2 at 20 h, after as_of (10 h); a fix of c1 committed at 5 h is known, but v2 is
    not live: it failed for nobody yet."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="b", org="y", at=H)
    fix = b.add("fix", (c0,), author="a", org="x", at=5 * H)
    b.fixes[fix] = (c1,)
    h = b.build()
    _, judged = _judge(h, [Deployment("v1", c0, H), Deployment("v2", c1, 20 * H)], 10 * H)
    assert judged.fixers == {c1: [fix]}
    assert judged.change_restore_hours == {c1: None}
    assert judged.caused_by == [{}, {}]
    assert judged.failed_for(1, h.org_code("y")) == (False, None)
    assert judged.dep_failed == [False, False]


def test_a_reverted_merge_read_from_the_head_facts_leaves_out_what_shipped_before() -> None:
    """b1 was tagged on its branch (vb, 2 h) before the merge M of b1 and b2 shipped in v1 (5 h); rv
    reverts M. M brought b1 into the mainline, but b1 had shipped already: only b2 failed, whether
    the merge's changes are walked or read from the head facts (who brought each commit in)."""
    from onebar.metrics.review import merged_by

    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    b1 = b.add("b1", (m0,), author="b", org="y", at=H)
    b2 = b.add("b2", (b1,), author="b", org="y", at=3 * H)
    m1 = b.add("m1", (m0,), author="a", org="x", at=3 * H)
    merge = b.add("M", (m1, b2), author="a", org="x", at=4 * H)
    rv = b.add("rv", (merge,), author="a", org="x", at=6 * H, reverts=merge)
    h = b.build()
    deps = [Deployment("vb", b1, 2 * H), Deployment("v1", merge, 5 * H), Deployment("v2", rv, 7 * H)]
    _, walked = _judge(h, deps, 10 * H)
    assert walked.fixers == {b2: [rv]}
    h.merged_by, h.merged_by_head = merged_by(h, rv), rv
    assert h.merged_by.tolist()[b1] == merge
    _, read = _judge(h, deps, 10 * H)
    assert read.fixers == {b2: [rv]}
    assert read.dep_failed == [False, True, False]


# --- linking ----------------------------------------------------------------------------------------------------


def test_each_deployment_ships_its_changes_in_ascending_order() -> None:
    """Two branches grow in turn off one root: even commits on a, odd on b (100 each); a is deployed
    first. Each deployment's first-shipped changes come out ascending, however they interleave."""
    b = HistoryBuilder()
    root = b.add("root", author="a", org="x", at=0)
    tips = {0: root, 1: root}
    for i in range(1, 201):
        tips[i % 2] = b.add(f"c{i}", (tips[i % 2],), author="a", org="x", at=i)
    h = b.build()
    linked = dora.link(h, [Deployment("a", tips[0], 1000), Deployment("b", tips[1], 2000)])
    assert linked.shipped[0].tolist() == [root, *range(2, 201, 2)]
    assert linked.shipped[1].tolist() == list(range(1, 201, 2))


def test_a_deployment_of_an_unknown_commit_ships_nothing() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H)
    linked = dora.link(b.build(), [Deployment("lost", -1, H), Deployment("v1", c1, 2 * H)])
    assert linked.deployment_of.tolist() == [1, 1]
    assert [s.tolist() for s in linked.shipped] == [[], [c0, c1]]


def test_link_follows_every_parent_even_commit_zero_and_an_octopus() -> None:
    """Commit 0 is reached only as a merge's second parent, x3 only as an octopus's third."""
    b = HistoryBuilder()
    first = b.add("first", author="a", org="x", at=0)
    other = b.add("other", author="a", org="x", at=H)
    merge = b.add("M", (other, first), author="a", org="x", at=2 * H)
    x2 = b.add("x2", (other,), author="b", org="y", at=3 * H)
    x3 = b.add("x3", author="b", org="y", at=3 * H)
    octopus = b.add("oct", (merge, x2, x3), author="a", org="x", at=4 * H)
    linked = dora.link(b.build(), [Deployment("v1", merge, 3 * H), Deployment("v2", octopus, 5 * H)])
    assert linked.deployment_of.tolist() == [0, 0, 0, 1, 1, 1]
    assert [s.tolist() for s in linked.shipped] == [[first, other], [x2, x3]]


def test_a_change_ships_with_its_earliest_shipped_copy_even_if_another_copy_never_ships() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H, patch_id=77)
    pick = b.add("pick", (c0,), author="a", org="x", at=H, committed_at=2 * H, patch_id=77)  # never deployed
    linked = dora.link(b.build(), [Deployment("v1", c1, 3 * H)])
    assert linked.change_of.tolist() == [c0, c1, c1]
    assert linked.change_deployment.tolist() == [0, 0, -1]
    assert linked.deployment_of[pick] == -1
    assert [s.tolist() for s in linked.shipped] == [[c0, c1]]


def test_a_revert_shipped_with_its_change_in_a_later_deployment_is_no_failure() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=2 * H)
    rv = b.add("rv", (c1,), author="a", org="x", at=3 * H, reverts=c1)
    _, judged = _judge(b.build(), [Deployment("v1", c0, H), Deployment("v2", rv, 4 * H)], 10 * H)
    assert judged.fixers == {}
    assert judged.dep_failed == [False, False]


def test_every_deployment_after_as_of_is_charged_nothing() -> None:
    """As above with two deployments after as_of, each shipping a change fixed before as_of."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="b", org="y", at=H)
    c2 = b.add("c2", (c1,), author="b", org="y", at=2 * H)
    fix = b.add("fix", (c0,), author="a", org="x", at=5 * H)
    b.fixes[fix] = (c1, c2)
    h = b.build()
    deps = [Deployment("v1", c0, H), Deployment("v2", c1, 20 * H), Deployment("v3", c2, 30 * H)]
    _, judged = _judge(h, deps, 10 * H)
    assert judged.change_restore_hours == {c1: None, c2: None}
    assert judged.caused_by == [{}, {}, {}]
    assert judged.dep_failed == [False, False, False]


def test_a_reverted_merge_inside_a_branch_is_walked_with_the_head_facts_too() -> None:
    """s1 is merged into the feature branch by F; the feature is merged into the mainline by M; rv
    reverts F. F is not on the mainline (M brought it in), so the head facts do not list what F
    brought in: it is walked, and s1 failed."""
    from onebar.metrics.review import merged_by

    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    f1 = b.add("f1", (m0,), author="b", org="y", at=H)
    s1 = b.add("s1", (m0,), author="c", org="z", at=H)
    feature = b.add("F", (f1, s1), author="b", org="y", at=2 * H)
    m1 = b.add("m1", (m0,), author="a", org="x", at=2 * H)
    merge = b.add("M", (m1, feature), author="a", org="x", at=3 * H)
    rv = b.add("rv", (merge,), author="a", org="x", at=5 * H, reverts=feature)
    h = b.build()
    deps = [Deployment("v0", m0, H // 2), Deployment("v1", merge, 4 * H), Deployment("v2", rv, 6 * H)]
    _, walked = _judge(h, deps, 10 * H)
    assert walked.fixers == {s1: [rv]}
    h.merged_by, h.merged_by_head = merged_by(h, rv), rv
    assert h.merged_by.tolist()[feature] == merge
    _, read = _judge(h, deps, 10 * H)
    assert read.fixers == {s1: [rv]}


def test_a_merge_brings_in_every_parent_of_an_octopus_on_its_branch() -> None:
    """The octopus O3 joins P, Q and R, where R grew from Q: the walk meets Q twice and must go on
    to P. The outer merge brought in P, Q, R and O3."""
    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    p = b.add("P", (m0,), author="b", org="y", at=H)
    q = b.add("Q", (m0,), author="b", org="y", at=H)
    r = b.add("R", (q,), author="b", org="y", at=2 * H)
    o3 = b.add("O3", (p, q, r), author="b", org="y", at=3 * H)
    m1 = b.add("m1", (m0,), author="a", org="x", at=3 * H)
    outer = b.add("O", (m1, o3), author="a", org="x", at=4 * H)
    h = b.build()
    linked = dora.link(h, [Deployment("v0", m0, H // 2), Deployment("v1", outer, 5 * H)])
    assert dora.merged_changes(h, linked, outer) == [p, q, r, o3]


def test_the_shipped_table_by_hand() -> None:
    """story: v1.0 ships c0 (acme, authored 0 h) and c1 (partner, 10 h) at 20 h; v1.1 ships c2
    (acme, 30 h) at 50 h; v1.2 ships c3 (partner, 60 h) at 70 h. c1 was fixed."""
    h, deps = story()
    linked, judged = _judge(h, deps, 100 * H)
    shipped = dora.Shipped(h, linked, judged)
    acme, partner = h.org_code("acme"), h.org_code("partner")
    assert shipped.change.tolist() == [0, 1, 2, 3]
    assert shipped.deployment.tolist() == [0, 0, 1, 2]
    assert shipped.lead.tolist() == [20.0, 10.0, 20.0, 10.0]
    assert shipped.org.tolist() == [acme, partner, acme, partner]
    assert shipped.failed.tolist() == [False, True, False, False]
    assert shipped.span(0, 2) == slice(0, 3) and shipped.span(2, 3) == slice(3, 4)
    assert shipped.org_span(partner, 0, 3).tolist() == [1, 3]
    assert shipped.org_span(partner, 1, 2).tolist() == []
    assert shipped.org_span(99, 0, 3).tolist() == []
    assert shipped.orgs_of(0) == {"acme": 1, "partner": 1}
    assert shipped.orgs_of(1) == {"acme": 1}
    none = dora.Shipped(h, dora.link(h, []), dora.judge(h, dora.link(h, []), [], 100 * H))
    assert (none.change.tolist(), none.lead.tolist(), none.by_org) == ([], [], {})


def test_reverting_a_merge_whose_branch_had_all_shipped_fails_nothing() -> None:
    """b1, alone on its branch, was tagged (vb) before M merged it; reverting M reverts nothing that
    M shipped: no failure, walked or read from the head facts."""
    from onebar.metrics.review import merged_by

    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    b1 = b.add("b1", (m0,), author="b", org="y", at=H)
    m1 = b.add("m1", (m0,), author="a", org="x", at=3 * H)
    merge = b.add("M", (m1, b1), author="a", org="x", at=4 * H)
    rv = b.add("rv", (merge,), author="a", org="x", at=6 * H, reverts=merge)
    h = b.build()
    deps = [Deployment("vb", b1, 2 * H), Deployment("v1", merge, 5 * H), Deployment("v2", rv, 7 * H)]
    _, walked = _judge(h, deps, 10 * H)
    h.merged_by, h.merged_by_head = merged_by(h, rv), rv
    _, read = _judge(h, deps, 10 * H)
    assert walked.fixers == read.fixers == {}
    assert walked.dep_failed == read.dep_failed == [False, False, False]
