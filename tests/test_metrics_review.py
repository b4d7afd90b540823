"""Cross-organisation review and contributor seams over hand-built histories."""

from __future__ import annotations

from datetime import date

from onebar.metrics.model import AGENT, BOT, UNKNOWN_ORG, Contributor, History, Window
from onebar.metrics.review import introduced_by, review_matrix
from onebar.metrics.seams import Contract, contributors

W = Window(0, 1000)


def _merged_history() -> History:
    """m0 - m1 ------ M (merged by carol, other org)
    \\- b1 - b2 (bob, partner)"""
    h = History()
    m0 = h.add("m0", author="alice", org="acme", at=1)
    m1 = h.add("m1", (m0,), author="alice", org="acme", at=2)
    b1 = h.add("b1", (m0,), author="bob", org="agency", at=3)
    b2 = h.add("b2", (b1,), author="bob", org="agency", at=4)
    h.add("M", (m1, b2), author="carol", org="acme", at=5)
    return h


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
    assert out.signals.to_json() == {"trailer": 1, "committer": 0, "merge": 2, "pull_request": 0}


def test_a_pull_requests_approvals_replace_who_merged_it() -> None:
    """M merged bob's branch through a pull request: its approvals, not carol's merge, say who reviewed."""
    h = _merged_history()
    approved_by_dave = {4: (Contributor("dave", "agency", "human", "dave"),)}  # bob's own organisation
    out = review_matrix(h, W, head=4, pulls=approved_by_dave)
    assert out.matrix["agency"] == {"agency": 2}  # carol merged it, but only dave approved
    assert out.by_org["agency"].cross_org_reviewed == 0
    assert out.signals.merge == 0 and out.signals.pull_request == 2
    by_carol = review_matrix(h, W, head=4, pulls={4: (Contributor("carol", "acme", "human", "carol"),)})
    assert by_carol.by_org["agency"].cross_org_reviewed == 2 and by_carol.by_org["agency"].cross_org_share == 1.0
    nobody = review_matrix(h, W, head=4, pulls={4: ()})  # merged with no approval at all
    assert nobody.by_org["agency"].unreviewed == 2
    assert nobody.by_org["acme"].unreviewed == 2  # m0, m1 came in without a pull request: no signal either


def test_bots_and_unknown_reviewers_do_not_make_a_change_cross_reviewed() -> None:
    h = History()
    h.add("c", author="alice", org="acme", at=1, committer="web-flow", committer_org=UNKNOWN_ORG, committer_kind=BOT)
    h.reviewers[0] = (Contributor("x@y", UNKNOWN_ORG, "unknown", "x@y"),)
    out = review_matrix(h, W, head=0)
    assert out.cross_org_share == 0.0
    assert out.matrix["acme"] == {UNKNOWN_ORG: 1}


def test_contributor_seams() -> None:
    h = History()
    h.add("a", author="eve@x", org=UNKNOWN_ORG, at=10, kind="unknown")
    h.add("b", author="bob", org="agency", at=86400 * 40)  # 1970-02-10, after bob's contract
    h.add("c", author="dependabot", org="bots", at=20, kind=BOT)
    c = h.add("d", author="alice", org="acme", at=30)
    h.coauthors[c] = (Contributor("claude", "agents", AGENT, "Claude"),)
    out = contributors(h, Window(0, 86400 * 100), contracts={"bob": Contract(None, date(1970, 1, 31))})
    assert [u.identity for u in out.unknown] == ["eve@x"]
    assert [(x.person, x.commits) for x in out.outside_contract] == [("bob", 1)]
    assert out.by_kind == {"bot": 1, "human": 2, "unknown": 1}
    assert out.bots == ("dependabot",)
    assert out.agents == ("claude",)
    assert out.ai_coauthored_commits == 1
