"""Reviews of a change from the store: what `onebar import` and the webhooks recorded for its pull request.

`onebar gate --db URL` reads them when no `--reviews` file is given: the pull request is found by
the event's repository and number (`--pr-event`), else by the change's head (its head or merge
commit). Each reviewer's latest decision counts, as in a reviews file; a comment keeps the decision
before it.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from onebar.charter import Charter
from onebar.gate.model import Review
from onebar.gate.reviews import PullRequest, identify
from onebar.store import open_store
from onebar.store.schema_codehost import codehost_repos, pull_requests, reviews

DECISIONS = ("approved", "changes_requested", "dismissed")


def stored_reviews(db: str, charter: Charter, *, head: str, pr: PullRequest | None = None) -> tuple[Review, ...] | None:
    """The latest decision of each reviewer of the change's pull request, or None when the store has
    no pull request for it (the rules that need reviews then say so)."""
    p, r = pull_requests, reviews
    store = open_store(db)
    try:
        with store.read() as conn:
            q = select(p.c.codehost_repo_id, p.c.number).order_by(p.c.updated_at.desc()).limit(1)
            if pr is not None and pr.number is not None and pr.repository:
                q = q.join(codehost_repos, codehost_repos.c.id == p.c.codehost_repo_id).where(
                    codehost_repos.c.full_name == pr.repository, p.c.number == pr.number
                )
            else:
                q = q.where(or_(p.c.head_sha == head, p.c.merge_sha == head))
            found = conn.execute(q).first()
            if found is None:
                return None
            rows = conn.execute(
                select(r.c.reviewer, r.c.state)
                .where(r.c.codehost_repo_id == found.codehost_repo_id, r.c.pr_number == found.number)
                .order_by(r.c.submitted_at, r.c.id)
            ).all()
    finally:
        store.close()
    latest: dict[str, str] = {}
    for reviewer, state in rows:
        if state in DECISIONS:
            latest[reviewer] = state
    return tuple(Review(identify(charter, login=login), state) for login, state in latest.items())  # type: ignore[arg-type]
