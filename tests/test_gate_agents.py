"""agents.human_review: a change an AI agent wrote needs an approval from a human of an accountable
organisation; reviews from a file or from the store (onebar import, webhooks)."""

from __future__ import annotations

import json
from pathlib import Path

from gate_fixtures import CHARTER, change, charter, fc, review
from helpers import GitRepo, run_cli
from onebar.codehost import writer
from onebar.codehost.records import PullRecord, ReviewRecord
from onebar.gate.model import Authorship, Evidence
from onebar.gate.reviews import identify
from onebar.gate.rules.agent_rules import agents_human_review
from onebar.store import open_store

C = charter()
CH = change(fc("src/app/x.py", {1: "x = 1"}))
ROBO = identify(C, email="robo@agent.test")  # a person of an organisation of kind agent
COPILOT = identify(C, login="copilot-swe-agent[bot]")  # the built-in robot table's agent login
ALICE = identify(C, login="alice-gh")


def judge(authorship: Authorship, *reviews: tuple[str, str], extra: str = "") -> tuple[str, str]:
    c = charter(extra) if extra else C
    ev = Evidence(reviews=tuple(review(c, p, s) for p, s in reviews))
    out = agents_human_review(CH, ev, c, authorship)
    return out.status, out.saw


def test_a_change_no_agent_wrote_passes_whoever_wrote_it() -> None:
    assert judge(Authorship(ALICE, (ALICE,)))[0] == "pass"
    assert judge(Authorship(ALICE, (ALICE,)), ("bob", "changes_requested"))[0] == "pass"


def test_an_agent_author_co_author_or_label_needs_a_human_approval() -> None:
    assert COPILOT.org_kind == "agent" and ROBO.org_kind == "agent"
    by_agent = Authorship(COPILOT, (ROBO,))
    co_written = Authorship(ALICE, (ALICE,), coauthors=(ROBO,))
    labelled = Authorship(ALICE, (ALICE,), labels=("ai-generated",))
    for authorship in (by_agent, co_written, labelled):
        status, saw = judge(authorship)
        assert status == "fail" and "written by an AI agent" in saw
        assert judge(authorship, ("pat", "approved"))[0] == "pass"
        assert judge(authorship, ("robo", "approved"))[0] == "fail"  # an agent never reviews
    # whoever wrote it with the agent reviews nothing by doing so; someone else of their organisation does
    assert judge(co_written, ("alice", "approved"))[0] == "fail"
    assert judge(co_written, ("bob", "approved"))[0] == "pass"
    assert judge(Authorship(ALICE, labels=("docs",)))[0] == "pass"  # a label that says nothing of agents


def test_without_reviews_an_agents_change_is_not_evaluated() -> None:
    out = agents_human_review(CH, Evidence(), C, Authorship(COPILOT))
    assert out.status == "not_evaluated" and "--db URL" in out.fix


def test_the_charter_names_the_accountable_organisations() -> None:
    only_acme = '\n[done.agents]\naccountable = ["acme"]\n'
    authorship = Authorship(COPILOT)
    assert judge(authorship, ("pat", "approved"), extra=only_acme)[0] == "fail"
    status, saw = judge(authorship, ("bob", "approved"), extra=only_acme)
    assert status == "pass" and "bob" in saw


def _agent_branch(repo: GitRepo) -> str:
    repo.commit("start", {"onebar.toml": CHARTER, "src/app/calc.py": "def add(a, b):\n    return a + b\n"})
    repo.git("checkout", "-q", "-b", "agent-work")
    return repo.commit(
        "Swap the operands\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n",
        {"src/app/calc.py": "def add(a, b):\n    return b + a\n", "tests/test_calc.py": "def test_add(): ...\n"},
        author=("Alice Example", "alice@acme.test"),
    )


def _rule(result: object) -> dict[str, str]:
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    return next(r for r in data["rules"] if r["id"] == "agents.human_review")


def test_a_co_author_trailer_marks_agent_work_and_a_reviews_file_settles_it(repo: GitRepo, tmp_path: Path) -> None:
    _agent_branch(repo)
    plain = run_cli("gate", str(repo.path), "--base", "main", "--format", "json")
    assert _rule(plain)["status"] == "not_evaluated" and "Copilot" in _rule(plain)["saw"]
    reviews = tmp_path / "reviews.json"
    reviews.write_text(json.dumps([{"user": {"login": "alice-gh"}, "state": "APPROVED"}]))
    own = run_cli("gate", str(repo.path), "--base", "main", "--reviews", str(reviews), "--format", "json")
    assert _rule(own)["status"] == "fail"  # alice wrote it with the agent
    reviews.write_text(json.dumps([{"user": {"login": "quinn-gh"}, "state": "APPROVED"}]))
    other = run_cli("gate", str(repo.path), "--base", "main", "--reviews", str(reviews), "--format", "json")
    assert _rule(other)["status"] == "pass"


def test_reviews_are_read_from_the_store_by_the_changes_head(repo: GitRepo, tmp_path: Path) -> None:
    head = _agent_branch(repo)
    db = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(db)
    with store.write() as conn:
        rid = writer.codehost_repo(conn, "github", "acme/demo", "demo")
        writer.upsert_pulls(conn, rid, "github", "acme/demo", [PullRecord(7, 1, 2, author="alice-gh", head_sha=head)])
        writer.add_reviews(
            conn,
            rid,
            [
                ReviewRecord(7, "1", "bob-gh", "changes_requested", 10),
                ReviewRecord(7, "2", "pat-gh", "commented", 11),
                ReviewRecord(7, "3", "bob-gh", "approved", 12),
            ],
        )
    store.close()
    result = run_cli("gate", str(repo.path), "--base", "main", "--db", db, "--format", "json")
    assert _rule(result)["status"] == "pass" and "bob" in _rule(result)["saw"]
    approvals = next(r for r in json.loads(result.stdout)["rules"] if r["id"] == "reviews.approvals")
    assert approvals["status"] == "pass"  # the other review rules read the same reviews
    elsewhere = run_cli("gate", str(repo.path), "--base", "main", "--db", f"sqlite:///{tmp_path / 'e.db'}",
                        "--format", "json")  # fmt: skip
    assert _rule(elsewhere)["status"] == "not_evaluated"  # no pull request of this head in that store
