"""Cross-organisation review and contributor seams over hand-built histories."""

from __future__ import annotations

from datetime import date

from onebar.metrics.model import AGENT, BOT, UNKNOWN_ORG, Contributor, History, HistoryBuilder, Window
from onebar.metrics.review import introduced_by, review_matrix
from onebar.metrics.seams import Contract, contributors

W = Window(0, 1000)


def _merged_history() -> History:
    """m0 - m1 ------ M (merged by carol, other org)
    \\- b1 - b2 (bob, partner)"""
    b = HistoryBuilder()
    m0 = b.add("m0", author="alice", org="acme", at=1)
    m1 = b.add("m1", (m0,), author="alice", org="acme", at=2)
    b1 = b.add("b1", (m0,), author="bob", org="agency", at=3)
    b2 = b.add("b2", (b1,), author="bob", org="agency", at=4)
    b.add("M", (m1, b2), author="carol", org="acme", at=5)
    return b.build()


def test_commits_belong_to_the_merge_that_brought_them_in() -> None:
    h = _merged_history()
    owner = introduced_by(h, 4)
    assert owner == {0: 0, 1: 1, 2: 4, 3: 4, 4: 4}


def test_merge_by_another_org_and_trailers_count_as_review() -> None:
    h = _merged_history()
    h.reviewers[1] = (Contributor("dave", "agency", "human", "Dave"),)  # m1 reviewed by the agency
    out = review_matrix(h, W, head=4)
    assert out.changes == 4  # the merge itself is not a change
    assert out.matrix["agency"] == {"acme": 2}  # b1, b2 merged by carol
    assert out.matrix["acme"] == {"agency": 1}
    assert out.cross_org_share == 0.75
    assert out.by_org["acme"].unreviewed == 1
    assert out.signals.to_json() == {"trailer": 1, "committer": 0, "merge": 2}


def test_bots_and_unknown_reviewers_do_not_make_a_change_cross_reviewed() -> None:
    b = HistoryBuilder()
    b.add("c", author="alice", org="acme", at=1, committer="web-flow", committer_org=UNKNOWN_ORG, committer_kind=BOT)
    b.reviewers[0] = (Contributor("x@y", UNKNOWN_ORG, "unknown", "x@y"),)
    out = review_matrix(b.build(), W, head=0)
    assert out.cross_org_share == 0.0
    assert out.matrix["acme"] == {UNKNOWN_ORG: 1}


def test_contributor_seams() -> None:
    b = HistoryBuilder()
    b.add("a", author="eve@x", org=UNKNOWN_ORG, at=10, kind="unknown")
    b.add("b", author="bob", org="agency", at=86400 * 40)  # 1970-02-10, after bob's contract
    b.add("c", author="dependabot", org="bots", at=20, kind=BOT)
    c = b.add("d", author="alice", org="acme", at=30)
    b.coauthors[c] = (Contributor("claude", "agents", AGENT, "Claude"),)
    out = contributors(b.build(), Window(0, 86400 * 100), contracts={"bob": Contract(None, date(1970, 1, 31))})
    assert [u.identity for u in out.unknown] == ["eve@x"]
    assert [(x.person, x.commits) for x in out.outside_contract] == [("bob", 1)]
    assert out.by_kind == {"bot": 1, "human": 2, "unknown": 1}
    assert out.bots == ("dependabot",)
    assert out.agents == ("claude",)
    assert out.ai_coauthored_commits == 1


def _landed(how: str) -> History:
    """One change by bob (agency) reaching main through `how`: a robot merge, a web merge, a squash
    by the code host, or a merge by a person of his own organisation."""
    b = HistoryBuilder()
    m0 = b.add("m0", author="alice", org="acme", at=1)
    if how == "squash":  # the code host commits the squashed change on main for its author
        b.add("c", (m0,), author="bob", org="agency", at=2, committer="web-flow", committer_org="bots",
              committer_kind=BOT)  # fmt: skip
        return b.build()
    c = b.add("c", (m0,), author="bob", org="agency", at=2)
    if how == "robot merge":  # Gerrit: authored by Zuul, committed by Gerrit Code Review
        b.add("M", (m0, c), author="zuul", org="bots", kind=BOT, at=3, committer="gerrit", committer_org="bots",
              committer_kind=BOT)  # fmt: skip
    elif how == "web merge":  # GitHub's merge button: committed by web-flow, authored by who pressed it
        b.add("M", (m0, c), author="carol", org="acme", at=3, committer="web-flow", committer_org="bots",
              committer_kind=BOT)  # fmt: skip
    else:
        b.add("M", (m0, c), author="dan", org="agency", at=3)
    return b.build()


def test_robots_never_review_and_hide_who_did() -> None:
    robot = review_matrix(_landed("robot merge"), W, head=2)
    assert (robot.changes, robot.review_unknown, robot.by_org["agency"].unreviewed) == (2, 1, 0)
    assert robot.matrix["agency"] == {}  # no reviewer: not the robots' organisation
    assert robot.cross_org_share == 0.0  # over alice's m0 only, whose review git shows (none)
    assert robot.by_org["agency"].cross_org_share is None  # nothing of bob's is visible
    assert "import github|gitlab" in robot.notes["review_unknown"]
    squash = review_matrix(_landed("squash"), W, head=1)
    assert squash.by_org["agency"].review_unknown == 1
    web = review_matrix(_landed("web merge"), W, head=2)  # the person who pressed the button reviewed
    assert (web.review_unknown, web.matrix["agency"], web.by_org["agency"].cross_org_share) == (0, {"acme": 1}, 1.0)
    assert web.signals.merge == 1
    own = review_matrix(_landed("person merge"), W, head=2)  # a person of bob's organisation merged it
    assert (own.review_unknown, own.matrix["agency"], own.by_org["agency"].cross_org_share) == (0, {"agency": 1}, 0.0)


def test_a_review_link_or_trailer_decides_what_git_shows() -> None:
    h = _landed("person merge")
    h.reviewers[1] = (Contributor("jenkins", "bots", BOT, "Jenkins"),)  # a CI robot's Tested-by: no review
    assert review_matrix(h, W, head=2).signals.trailer == 0
    b = HistoryBuilder()
    m0 = b.add("m0", author="alice", org="acme", at=1)
    b.add("c", (m0,), author="bob", org="agency", at=2)
    b.review_links.add(1)  # Reviewed-on: a Gerrit change, reviewers not named
    linked = review_matrix(b.build(), W, head=1)
    assert (linked.review_unknown, linked.by_org["agency"].unreviewed) == (1, 0)
    b.reviewers[1] = (Contributor("alice", "acme", "human", "Alice"),)  # Reviewed-by: now git shows it
    named = review_matrix(b.build(), W, head=1)
    assert (named.review_unknown, named.cross_org_reviewed) == (0, 1)
