"""Reviews and authorship as evidence: GitHub's list-reviews JSON, GitLab's approvals, a pull_request event.

People are resolved against the charter (GitHub login, then person id, then e-mail and e-mail domain);
someone the charter does not know stays in the verdict as unknown, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onebar.charter import Charter
from onebar.charter.identity import Resolver
from onebar.errors import EvidenceError, Location
from onebar.gate.evidence import load_json
from onebar.gate.model import Participant, Review

_GITHUB_STATES = {"APPROVED": "approved", "CHANGES_REQUESTED": "changes_requested", "DISMISSED": "dismissed"}


def identify(
    charter: Charter, *, login: str | None = None, email: str | None = None, name: str | None = None
) -> Participant:
    """Who this is in the charter's terms; unknown people keep their login/e-mail for the record.

    A code-host login matches a person's `github` login or person id; an e-mail resolves exactly as
    everywhere else in onebar (`charter.identity.Resolver`: listed e-mails, GitHub noreply logins,
    bots and agents, organisation domains and their sub-domains)."""
    resolver = Resolver(charter)
    person_id: str | None = None
    org: str | None = None
    kind: str | None = None
    if login:
        person_id = resolver.person_by_login(login) or (login if login in charter.people else None)
    if person_id is not None:
        org = charter.people[person_id].org
    elif email:
        match = resolver.resolve(name or "", email)
        person_id, org = match.person, match.org
        kind = None if match.kind == "unknown" else match.kind
    elif login:  # a login no person declares: the robot table knows bots' and agents' (their noreply address)
        kind = resolver.robots.kind(login, f"{login}@users.noreply.github.com")
    if person_id is not None:
        name = name or charter.people[person_id].name
    if org is not None and org in charter.organisations:
        kind = charter.organisations[org].kind
    return Participant(login=login, email=email, name=name, person=person_id, org=org, org_kind=kind)


def parse_reviews(path: Path, charter: Charter) -> list[Review]:
    """Each reviewer's latest decision, from GitHub's list-reviews array or GitLab's approvals object."""
    doc = load_json(path, "reviews")
    loc = str(path)
    if isinstance(doc, dict) and "approved_by" in doc:
        approved = doc["approved_by"]
        if not isinstance(approved, list):
            raise EvidenceError("approved_by must be an array", location=Location(loc, None, "approved_by"))
        out: list[Review] = []
        for i, item in enumerate(approved):
            user = item.get("user") if isinstance(item, dict) else None
            if not isinstance(user, dict) or not isinstance(user.get("username"), str):
                raise EvidenceError(
                    "approval has no user.username", location=Location(loc, None, f"approved_by[{i}].user.username")
                )
            out.append(Review(identify(charter, login=user["username"], name=user.get("name")), "approved"))
        return out
    if not isinstance(doc, list):
        raise EvidenceError(
            "reviews must be GitHub's list-reviews array or GitLab's approvals object",
            location=Location(loc, 1),
            hint="save `gh api repos/OWNER/REPO/pulls/N/reviews` or GitLab's merge_requests/:iid/approvals",
        )
    latest: dict[str, str] = {}
    for i, item in enumerate(doc):
        field = f"[{i}]"
        if not isinstance(item, dict):
            raise EvidenceError("review must be an object", location=Location(loc, None, field))
        login = item.get("user", {}).get("login") if isinstance(item.get("user"), dict) else None
        state = item.get("state")
        if not isinstance(login, str):
            raise EvidenceError("review has no user.login", location=Location(loc, None, f"{field}.user.login"))
        if not isinstance(state, str):
            raise EvidenceError("review has no state", location=Location(loc, None, f"{field}.state"))
        if state in _GITHUB_STATES:  # COMMENTED and PENDING leave a reviewer's decision as it was (GitHub's rule)
            latest[login] = _GITHUB_STATES[state]
        elif state not in ("COMMENTED", "PENDING"):
            raise EvidenceError(f"unknown review state {state!r}", location=Location(loc, None, f"{field}.state"))
    return [Review(identify(charter, login=login), st) for login, st in latest.items()]  # type: ignore[arg-type]


@dataclass(frozen=True)
class PullRequest:
    number: int | None
    author_login: str | None
    base_sha: str | None
    head_sha: str | None
    title: str = ""
    labels: tuple[str, ...] = ()
    repository: str | None = None  # OWNER/REPO


def parse_pr_event(path: Path) -> PullRequest:
    """The parts of a GitHub pull_request (or pull_request_target) event payload the gate uses."""
    doc = load_json(path, "pull_request event")
    pr = doc.get("pull_request") if isinstance(doc, dict) else None
    if not isinstance(pr, dict):
        raise EvidenceError(
            "not a pull_request event: no pull_request object", location=Location(str(path), None, "pull_request")
        )

    def text(*keys: str) -> str | None:
        obj: Any = pr
        for k in keys:
            obj = obj.get(k) if isinstance(obj, dict) else None
        return obj if isinstance(obj, str) else None

    number = pr.get("number")
    labels = tuple(
        str(lb["name"]) for lb in pr.get("labels") or [] if isinstance(lb, dict) and isinstance(lb.get("name"), str)
    )
    repo = doc.get("repository") if isinstance(doc, dict) else None
    full_name = repo.get("full_name") if isinstance(repo, dict) else None
    return PullRequest(
        number if isinstance(number, int) else None,
        text("user", "login"),
        text("base", "sha"),
        text("head", "sha"),
        text("title") or "",
        labels,
        full_name if isinstance(full_name, str) else None,
    )
