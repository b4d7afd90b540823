"""DORA keys over hand-built histories with answers computed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dora_fixtures import story
from onebar.metrics import delivery, dora
from onebar.metrics.model import Deployment, History, HistoryBuilder, Incident, Window, quantile
from onebar.metrics.tiers import overall_tier, tier_of

H = 3600


def _figures(h: History, deps: list[Deployment], org: str | None = None, **kw: object) -> delivery.Figures:
    window = Window(0, 100 * H)
    linked = dora.link(h, deps)
    judged = dora.judge(h, linked, list(kw.get("incidents", [])), window.until)  # type: ignore[arg-type]
    return delivery.figures(h, linked, judged, window, org=org)


def test_overall_keys_by_hand() -> None:
    h, deps = story()
    f = _figures(h, deps)
    assert f.deployments == 3
    assert f.lead_time_hours == delivery.LeadTime(15.0, 20.0, 4)
    assert f.failed_deployments == 1
    assert f.change_failure_rate == pytest.approx(1 / 3, abs=1e-4)
    assert f.time_to_restore_hours.median == 30.0  # v1.0 at 20h, its fix shipped in v1.1 at 50h
    assert f.time_to_restore_hours.source == "git"
    assert f.deployment_rework_rate == pytest.approx(1 / 3, abs=1e-4)  # v1.1 ships only the fix
    assert f.median_interval_hours == 25.0


def test_each_change_counts_for_its_own_authors_org() -> None:
    h, deps = story()
    partner = _figures(h, deps, org="partner")
    assert partner.deployments == 2  # v1.0 and v1.2 ship partner changes
    assert partner.change_failure_rate == 0.5  # c1 was fixed, c3 was not
    assert partner.lead_time_hours.median == 10.0
    assert partner.time_to_restore_hours.median == 30.0
    acme = _figures(h, deps, org="acme")
    assert acme.deployments == 2
    assert acme.change_failure_rate == 0.0
    assert acme.lead_time_hours.median == 20.0


def test_change_belongs_to_earliest_deployment_even_on_a_release_branch() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    r1 = b.add("r1", (c0,), author="a", org="x", at=1 * H)  # release-branch commit
    m1 = b.add("m1", (c0,), author="b", org="y", at=2 * H)  # mainline
    m2 = b.add("m2", (m1, r1), author="b", org="y", at=5 * H)  # merge back
    h = b.build()
    linked = dora.link(h, [Deployment("v2.0", m2, 6 * H), Deployment("v1.0.1", r1, 3 * H)])
    names = [d.name for d in linked.deployments]
    assert names == ["v1.0.1", "v2.0"]
    assert linked.deployment_of[c0] == 0
    assert linked.deployment_of[r1] == 0
    assert linked.deployment_of[m1] == 1
    assert sorted(linked.shipped[1]) == [m1]  # the merge itself is not a change


def test_cherry_pick_counts_once_with_its_earliest_copy() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    fix = b.add("fix", (c0,), author="a", org="x", at=1 * H, patch_id=100)
    pick = b.add("pick", (c0,), author="a", org="x", at=1 * H, committed_at=2 * H, patch_id=100)
    h = b.build()
    linked = dora.link(h, [Deployment("v1.0.1", pick, 3 * H), Deployment("v1.1", fix, 10 * H)])
    assert linked.change_of[pick] == fix
    assert linked.change_deployment[fix] == 0
    shipped = [c for d in linked.shipped for c in d]
    assert shipped.count(fix) == 1
    assert pick not in shipped


def test_revert_shipped_with_its_change_is_no_failure() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H, reverts=c0)
    h = b.build()
    f = _figures(h, [Deployment("v1", c1, 2 * H)])
    assert f.change_failure_rate == 0.0
    assert f.time_to_restore_hours.median is None
    assert "time_to_restore_hours" in f.reasons


def test_hotfix_deployment_fails_the_one_before() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=2 * H)
    h = b.build()
    linked = dora.link(h, [Deployment("v1", c0, H), Deployment("v1.0.1", c1, 5 * H)])
    judged = dora.judge(h, linked, [], 10 * H, hotfixes={c1})
    assert judged.dep_failed == [True, False]
    assert judged.dep_restore_hours[0] == 4.0
    assert judged.dep_rework == [False, True]


def test_a_hotfix_naming_its_cause_charges_only_that_organisation() -> None:
    """v1 ships x's c1 and y's c2; the hotfix of v1 says `Fixes: c2`, so v1 failed because of y alone.
    Without the trailer the cause is unknown and both organisations that shipped in v1 carry it."""
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=H)
    c2 = b.add("c2", (c1,), author="b", org="y", at=2 * H)
    fix = b.add("fix", (c2,), author="a", org="x", at=4 * H)
    b.fixes[fix] = (c2,)
    h = b.build()
    deps = [Deployment("v1", c2, 3 * H), Deployment("v1.0.1", fix, 6 * H)]
    linked = dora.link(h, deps)
    judged = dora.judge(h, linked, [], 10 * H, hotfixes={fix})
    assert judged.dep_failed == [True, False]
    x, y = h.org_code("x"), h.org_code("y")
    assert judged.failed_for(0, y) == (True, 3.0)
    assert judged.failed_for(0, x) == (False, None)
    b.fixes.clear()
    unnamed = dora.judge(b.build(), linked, [], 10 * H, hotfixes={fix})
    assert unnamed.failed_for(0, x) == (True, 3.0) and unnamed.failed_for(0, y) == (True, 3.0)


def test_incidents_give_time_to_restore_and_fail_their_deployment() -> None:
    h, deps = story()
    incidents = [Incident("outage", 71 * H, 73 * H, "v1.2"), Incident("slow", 75 * H, None)]
    f = _figures(h, deps, incidents=incidents)
    assert f.time_to_restore_hours == delivery.Restore(2.0, 1, 1, "incidents")
    assert f.failed_deployments == 2  # v1.0 (fixed) and v1.2 (both incidents)


def test_no_deployments_is_null_with_reasons_not_zero() -> None:
    b = HistoryBuilder()
    b.add("c0", author="a", org="x", at=0)
    h = b.build()
    f = _figures(h, [])
    assert f.deployment_frequency_per_week is None
    assert f.lead_time_hours.median is None
    assert f.change_failure_rate is None
    assert f.tier is None
    assert {"deployment_frequency_per_week", "lead_time_hours", "change_failure_rate", "tier"} <= set(f.reasons)


def test_fix_not_yet_deployed_leaves_failure_open() -> None:
    b = HistoryBuilder()
    c0 = b.add("c0", author="a", org="x", at=0)
    c1 = b.add("c1", (c0,), author="a", org="x", at=2 * H, reverts=c0)
    h = b.build()
    f = _figures(h, [Deployment("v1", c0, H)])
    assert f.change_failure_rate == 1.0
    assert f.time_to_restore_hours.open == 1
    assert f.time_to_restore_hours.median is None
    assert h.committed_at[c1] > 0


def test_trend_buckets_and_direction() -> None:
    b = HistoryBuilder()
    prev: tuple[int, ...] = ()
    deps = []
    for week in range(8):  # deploys get faster: lead time shrinks from 70h to 0h
        c = b.add(f"c{week}", prev, author="a", org="x", at=week * 168 * H)
        prev = (c,)
        deps.append(Deployment(f"v{week}", c, week * 168 * H + (70 - 10 * week) * H))
    window = Window(0, 8 * 168 * H)
    h = b.build()
    linked = dora.link(h, deps)
    judged = dora.judge(h, linked, [], window.until)
    t = delivery.trend(h, linked, judged, window)
    assert len(t.series) == 8
    assert t.direction.lead_time_hours == "improving"
    assert t.direction.deployment_frequency_per_week == "steady"


def test_tiers_as_data_2023_and_2024() -> None:
    assert tier_of("lead_time_hours", 23.9) == "elite"
    assert tier_of("lead_time_hours", 24) == "high"
    assert tier_of("deployment_frequency_per_week", 0.5) == "medium"
    assert tier_of("change_failure_rate", 0.15, 2023) == "medium"
    assert tier_of("change_failure_rate", 0.15, 2024) == "high"  # 2024's high/medium inversion
    assert tier_of("time_to_restore_hours", 48, 2023) == "medium"
    assert tier_of("time_to_restore_hours", 48, 2024) == "low"
    assert overall_tier(["elite", "medium", None]) == "medium"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40), st.floats(0, 1))
def test_quantile_within_range_and_monotone(values: list[float], q: float) -> None:
    v = quantile(values, q)
    assert v is not None
    assert min(values) <= v <= max(values)
    assert quantile(values, 0.5) <= quantile(values, 0.9)  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 1000)), max_size=12), st.integers(1, 30))
def test_every_commit_belongs_to_at_most_the_earliest_deployment_reaching_it(
    tags: list[tuple[int, int]], n: int
) -> None:
    b = HistoryBuilder()
    for i in range(n):  # a chain with a side branch every third commit
        parents = (i - 1,) if i else ()
        if i >= 3 and i % 3 == 0:
            parents = (i - 1, i - 3)
        b.add(f"c{i}", parents, author="a", org="x", at=i)
    deps = [Deployment(f"t{k}", c % n, at) for k, (c, at) in enumerate(tags)]
    h = b.build()
    linked = dora.link(h, deps)

    def reach(c: int) -> set[int]:
        seen, stack = set(), [c]
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                stack.extend(h.parents(x))
        return seen

    for c in range(n):
        containing = [d for d, dep in enumerate(linked.deployments) if c in reach(dep.commit)]
        assert linked.deployment_of[c] == (containing[0] if containing else -1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["x", "y", "z"]), st.integers(-1, 40)), min_size=1, max_size=40),
    st.lists(st.integers(0, 39), max_size=8),
)
def test_per_org_figures_add_up_to_the_whole(commits: list[tuple[str, int]], tags: list[int]) -> None:
    b = HistoryBuilder()
    for i, (org, revert) in enumerate(commits):
        b.add(f"c{i}", (i - 1,) if i else (), author=org, org=org, at=i * H, reverts=revert if 0 <= revert < i else -1)
    n = len(commits)
    deps = [Deployment(f"v{k}", c % n, (c % n) * H + H // 2) for k, c in enumerate(tags)]
    window = Window(0, (n + 1) * H)
    h = b.build()
    linked = dora.link(h, deps)
    judged = dora.judge(h, linked, [], window.until)
    overall = delivery.figures(h, linked, judged, window)
    orgs = [delivery.figures(h, linked, judged, window, org=o) for o in ("x", "y", "z")]
    assert sum(f.changes for f in orgs) == overall.changes
    assert all(f.deployments <= overall.deployments for f in orgs)
    for f in [overall, *orgs]:
        for rate in (f.change_failure_rate, f.deployment_rework_rate):
            assert rate is None or 0 <= rate <= 1
            if rate is None:
                assert f.reasons


def test_reverting_a_merge_fails_the_changes_it_brought_in() -> None:
    b = HistoryBuilder()
    m0 = b.add("m0", author="a", org="x", at=0)
    m1 = b.add("m1", (m0,), author="a", org="x", at=H)  # mainline, same release
    b1 = b.add("b1", (m0,), author="b", org="y", at=2 * H)
    b2 = b.add("b2", (b1,), author="b", org="y", at=3 * H)
    pr = b.add("pr", (m1, b2), author="a", org="x", at=4 * H)
    rv = b.add("rv", (pr,), author="a", org="x", at=6 * H, reverts=pr)
    h = b.build()
    linked = dora.link(h, [Deployment("v1", pr, 5 * H), Deployment("v2", rv, 7 * H)])
    assert dora.merged_changes(h, linked, pr) == [b1, b2]
    judged = dora.judge(h, linked, [], 10 * H)
    assert set(judged.fixers) == {b1, b2}
    assert judged.dep_failed == [True, False]
    assert judged.dep_restore_hours[0] == 2.0
    y = delivery.figures(h, linked, judged, Window(0, 10 * H), org="y")
    assert y.change_failure_rate == 1.0
    assert m1 not in judged.fixers


def test_change_failure_rate_is_one_definition_in_every_row() -> None:
    """v1 ships x's and y's changes; only x's change is reverted: v1 failed because of x, not y.
    v2 ships y's changes and is followed by a hotfix, whose cause git does not name: it fails for y
    (and would for anyone who shipped in it). Every row is failed deployments / deployments."""
    b = HistoryBuilder()
    x1 = b.add("x1", author="x", org="x", at=0)
    y1 = b.add("y1", (x1,), author="y", org="y", at=H)
    y2 = b.add("y2", (y1,), author="y", org="y", at=2 * H)
    rv = b.add("rv", (y2,), author="y", org="y", at=10 * H, reverts=x1)
    y3 = b.add("y3", (rv,), author="y", org="y", at=11 * H)
    hot = b.add("hot", (y3,), author="y", org="y", at=20 * H)
    h = b.build()
    deps = [Deployment("v1", y2, 5 * H), Deployment("v2", y3, 12 * H), Deployment("v2.0.1", hot, 30 * H, hotfix=True)]
    linked = dora.link(h, deps)
    judged = dora.judge(h, linked, [], 40 * H)
    window = Window(0, 40 * H)
    overall = delivery.figures(h, linked, judged, window)
    x = delivery.figures(h, linked, judged, window, org="x")
    y = delivery.figures(h, linked, judged, window, org="y")
    assert (overall.failed_deployments, overall.deployments, overall.change_failure_rate) == (2, 3, 0.6667)
    assert (x.failed_deployments, x.deployments, x.change_failure_rate) == (1, 1, 1.0)
    # y shipped in v1 (not its fault), v2 (hotfixed: unnamed cause, counts) and v2.0.1.
    assert (y.failed_deployments, y.deployments, y.change_failure_rate) == (1, 3, 0.3333)
    # Restore measured on each row's own failures: x's v1 until v2 shipped the revert (7 h);
    # y's v2 until the hotfix (18 h); overall both.
    assert x.time_to_restore_hours.median == 7.0
    assert y.time_to_restore_hours.median == 18.0
    assert overall.time_to_restore_hours.median == 12.5
    # The per-change share is its own figure: 1 of x's 1 change, 0 of y's 5.
    assert (x.failed_changes, x.failed_change_share) == (1, 1.0)
    assert (y.failed_changes, y.failed_change_share) == (0, 0.0)
    assert (overall.failed_changes, overall.changes) == (1, 6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=4, max_size=30), st.data())
def test_merge_reverts_read_from_the_head_facts_equal_the_walk(
    shape: list[tuple[int, bool]], data: st.DataObject
) -> None:
    """A merge's changes found through the head facts (who brought each commit in) are the walk's."""
    from onebar.metrics.review import merged_by

    b = HistoryBuilder()
    main = b.add("m0", author="a", org="x", at=0)
    branch: int | None = None
    merges: list[int] = []
    for i, (back, merge) in enumerate(shape, 1):
        if merge and branch is not None:
            main = b.add(f"M{i}", (main, branch), author="a", org="x", at=i * H)
            merges.append(main)
            branch = None
        elif back % 2:
            branch = b.add(f"b{i}", (branch if branch is not None else main,), author="b", org="y", at=i * H)
        else:
            main = b.add(f"m{i}", (main,), author="a", org="x", at=i * H)
    reverted = data.draw(st.lists(st.sampled_from(merges), max_size=3)) if merges else []
    for k, m in enumerate(reverted):
        main = b.add(f"r{k}", (main,), author="a", org="x", at=(len(shape) + 1 + k) * H, reverts=m)
    h = b.build()
    deps = [
        Deployment(f"v{k}", c, (c + 1) * H + 1)
        for k, c in enumerate(data.draw(st.lists(st.sampled_from(range(len(h))), max_size=4)))
    ]
    walked = dora.judge(h, dora.link(h, deps), [], 10**9)
    h.merged_by, h.merged_by_head = merged_by(h, main), main
    read = dora.judge(h, dora.link(h, deps), [], 10**9)
    assert read.fixers == walked.fixers
    assert read.dep_failed == walked.dep_failed
