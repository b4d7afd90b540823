"""`onebar serve --demo`: a demo history registered as a repository, ingested and reported, with one
token per role, so a newcomer sees the service answer in a minute."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from onebar.auth.tokens import NewToken, create_token
from onebar.repos import materialised
from onebar.repos.registry import add_repo, get_repo, list_repos, open_repo_workspace
from onebar.store import Store

DEMO_NAME = "demo"


@dataclass(frozen=True)
class DemoTokens:
    repo: str
    tokens: list[tuple[str, NewToken]]  # (what it is, the token)


def prepare_demo(store: Store, data_dir: Path, *, commits: int = 3000, seed: int = 0) -> DemoTokens:
    """Build (once) the demo repository in the data folder, ingest it, materialise its report and
    create a token for each role: admin, auditor, a partner's lead, a member, the repository's ci."""
    from onebar.demo import build_demo

    path = data_dir / "demo-repo"
    if DEMO_NAME not in {r.name for r in list_repos(store)}:
        if not (path / ".git").is_dir():
            build_demo(path, commits, seed, force=True)
        add_repo(store, str(path), name=DEMO_NAME, data_dir=data_dir)
    repo = get_repo(store, DEMO_NAME)
    with open_repo_workspace(store, repo, data_dir) as ws:
        materialised.refresh(store, ws, get_repo(store, DEMO_NAME))
    roles = [  # what it is, role, org, repo, person
        ("admin", "admin", None, None, None),
        ("auditor", "auditor", None, None, None),
        ("lead of vistula (a partner)", "lead", "vistula", None, "lukasz"),
        ("member of acme (maria)", "member", "acme", None, "maria"),
        ("ci of the demo repository", "ci", None, DEMO_NAME, None),
    ]
    tokens = [
        (what, create_token(store, role, org=org, repo=rp, person=who, expires=1, note="onebar serve --demo"))
        for what, role, org, rp, who in roles
    ]
    return DemoTokens(DEMO_NAME, tokens)
