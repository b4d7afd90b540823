"""The rule about AI agents: a change an agent wrote is approved by a human of an accountable organisation.

It reads the author (declared so in the registry) only to know whether an agent wrote the change:
the author, a commit author or a co-author (Co-authored-by) whose kind is `agent`, or a pull
request label that says so. Every other change passes, whoever wrote it; an agent's change is
judged on its reviews alone, the same way for every agent and every organisation.
"""

from __future__ import annotations

from onebar.charter import Charter
from onebar.gate.model import Authorship, Change, Evidence
from onebar.gate.rules.base import Outcome, examples, not_given
from onebar.metrics.flow import AGENT_LABEL

MACHINES = ("agent", "bot")


def agent_signals(authorship: Authorship) -> list[str]:
    """What says an AI agent wrote the change: agent identities, then agent labels."""
    people = (authorship.author, *authorship.commit_authors, *authorship.coauthors)
    agents = [p.label for p in people if p.org_kind == "agent"]
    return list(dict.fromkeys(agents)) + [f"label {lb!r}" for lb in authorship.labels if AGENT_LABEL.search(lb)]


def accountable(charter: Charter) -> list[str]:
    """The organisations whose people may approve agent work."""
    chosen = charter.done.agents.accountable
    return list(chosen) if chosen else [o for o, org in charter.organisations.items() if org.kind not in MACHINES]


def agents_human_review(change: Change, evidence: Evidence, charter: Charter, authorship: Authorship) -> Outcome:
    signals = agent_signals(authorship)
    if not signals:
        return Outcome("pass", "not written by an AI agent (author, commit authors, co-authors and labels seen)")
    what = f"written by an AI agent ({examples(signals)})"
    if evidence.reviews is None:
        missing = not_given("reviews file", "--reviews FILE, or --db URL with the pull request's reviews")
        return Outcome(missing.status, f"{what}; {missing.saw}", missing.fix)
    orgs = accountable(charter)
    people = (authorship.author, *authorship.commit_authors, *authorship.coauthors)
    writers = {p.person for p in people if p.person}
    humans = [
        r.reviewer.person
        for r in evidence.reviews
        if r.state == "approved"
        and r.reviewer.person is not None
        and r.reviewer.person not in writers
        and r.reviewer.org in orgs
        and charter.organisations[r.reviewer.org].kind not in MACHINES
    ]
    if humans:
        return Outcome("pass", f"{what}; approved by {examples(humans)}")
    named = examples(orgs, 6) or "no organisation of the charter"
    return Outcome(
        "fail",
        f"{what}; no approval from a person of an accountable organisation ({named}) who did not write it",
        f"ask a person of {named} to review and approve it",
    )
