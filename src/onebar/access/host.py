"""The access plan against a live code host: read collaborators through onebar.codehost, apply a plan.

Reading uses the code host client (`GitHubAPI.collaborators`, `GitLabAPI.members`). Applying is
GitHub's collaborator API: `PUT /repos/{owner}/{repo}/collaborators/{login}` with a permission, and
`DELETE` of the same path. Each step is carried out, then audited in its own transaction with its
outcome, so a failure half-way leaves an exact record of what was and was not done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from onebar import audit
from onebar.access.plan import Holding, Plan, Step
from onebar.codehost.github import GitHubAPI, Member
from onebar.codehost.gitlab import GitLabAPI
from onebar.errors import OnebarError
from onebar.store import Store

# onebar's five-step host scale, folded onto the three levels grants use.
FOLD = {"read": "read", "triage": "read", "write": "write", "maintain": "write", "admin": "admin"}
GITHUB_PERMISSION = {"read": "pull", "write": "push", "admin": "admin"}


def holdings_of(members: list[Member]) -> list[Holding]:
    """Host members as plan holdings (the highest level when an account is listed twice)."""
    best: dict[str, Holding] = {}
    order = ("read", "write", "admin")
    for m in members:
        h = Holding(m.login, FOLD.get(m.access, "read"))
        if m.login not in best or order.index(h.level) > order.index(best[m.login].level):
            best[m.login] = h
    return list(best.values())


def read_github(api: GitHubAPI, full_name: str) -> list[Holding]:
    return holdings_of(api.collaborators(full_name))


def read_gitlab(api: GitLabAPI, full_name: str) -> list[Holding]:
    return holdings_of(api.members(full_name))


class HostWriter(Protocol):
    """What applying a plan needs from a code host."""

    where: str

    def set_level(self, login: str, level: str) -> None: ...

    def remove(self, login: str) -> None: ...


class GitHubWriter:
    """Collaborator changes on one GitHub repository."""

    def __init__(self, api: GitHubAPI, full_name: str):
        self.api = api
        self.full_name = full_name
        self.where = f"github:{full_name}"

    def set_level(self, login: str, level: str) -> None:
        path = f"repos/{self.full_name}/collaborators/{login}"
        self.api.client.send("PUT", path, {"permission": GITHUB_PERMISSION[level]})

    def remove(self, login: str) -> None:
        self.api.client.send("DELETE", f"repos/{self.full_name}/collaborators/{login}")


@dataclass(frozen=True)
class Applied:
    step: Step
    ok: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.step.to_dict(), "ok": self.ok, "error": self.error}


def apply_plan(store: Store, plan: Plan, writer: HostWriter, *, actor: audit.Actor) -> list[Applied]:
    """Carry out every change of the plan on the host, auditing each step (done or failed)."""
    out: list[Applied] = []
    for step in plan.changes:
        if step.login is None:
            continue
        try:
            if step.action == "revoke":
                writer.remove(step.login)
            else:
                assert step.target is not None
                writer.set_level(step.login, step.target)
        except OnebarError as exc:
            result = Applied(step, False, str(exc))
        else:
            result = Applied(step, True)
        with store.write() as conn:
            audit.record(
                conn,
                actor=actor,
                action=f"access.host.{step.action}",
                target=f"{writer.where}:{step.login}",
                outcome="success" if result.ok else "failed",
                payload=result.to_dict(),
            )
        out.append(result)
    return out
