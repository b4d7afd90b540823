"""Fixtures of the service tests: a small two-organisation repository, a service on a real store, tokens."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from helpers import GitRepo
from onebar.auth.tokens import create_token
from onebar.repos import materialised
from onebar.repos.registry import add_repo, get_repo, open_repo_workspace
from onebar.store import Store

CHARTER = """\
version = 1
[project]
name = "shop"
[organisations.acme]
kind = "internal"
domains = ["acme.test"]
lead = "alice"
[organisations.vistula]
kind = "partner"
domains = ["vistula.test"]
lead = "bob"
[people.alice]
name = "Alice Acme"
org = "acme"
emails = ["alice@acme.test"]
[people.carol]
name = "Carol Acme"
org = "acme"
emails = ["carol@acme.test"]
[people.bob]
name = "Bob Vistula"
org = "vistula"
emails = ["bob@vistula.test"]
[people.dave]
name = "Dave Vistula"
org = "vistula"
emails = ["dave@vistula.test"]
[components.core]
paths = ["core/**"]
accountable = "alice"
responsible = ["carol"]
[components.billing]
paths = ["billing/**"]
accountable = "bob"
responsible = ["dave"]
[components.api]
paths = ["api/**"]
accountable = "alice"
consulted = ["bob"]
"""

ALICE = ("Alice Acme", "alice@acme.test")
CAROL = ("Carol Acme", "carol@acme.test")
BOB = ("Bob Vistula", "bob@vistula.test")
DAVE = ("Dave Vistula", "dave@vistula.test")
VISTULA_NAMES = ("Bob Vistula", "Dave Vistula", "bob@vistula.test", "dave@vistula.test")
ACME_NAMES = ("Alice Acme", "Carol Acme", "alice@acme.test", "carol@acme.test")


def two_org_repo(path: Path) -> GitRepo:
    """Two organisations working on core, billing and api, with release tags: every section has people."""
    repo = GitRepo.create(path)
    repo.commit("charter", {"onebar.toml": CHARTER}, author=ALICE)
    authors = [ALICE, CAROL, BOB, DAVE]
    areas = ["core", "billing", "api", "core"]
    for i in range(24):
        who = authors[i % 4]
        area = areas[(i // 4 + i) % 4]
        repo.commit(f"change {i}\n\nReviewed-by: {authors[(i + 1) % 4][0]} <{authors[(i + 1) % 4][1]}>",
                    {f"{area}/f{i % 5}.py": f"v{i}\n"}, author=who)  # fmt: skip
        if i % 6 == 5:
            repo.tag(f"v1.{i // 6}.0", message=f"release {i // 6}")
    return repo


@dataclass
class Tokens:
    admin: str
    auditor: str
    lead_acme: str
    lead_vistula: str
    member_acme: str
    member_vistula: str
    ci: str
    ci_other: str

    def of(self, role: str) -> str:
        return {"admin": self.admin, "auditor": self.auditor, "lead": self.lead_vistula,
                "member": self.member_vistula, "ci": self.ci}[role]  # fmt: skip


def register(store: Store, repo_path: Path, data_dir: Path, name: str = "shop") -> None:
    """Add the repository to the service, ingest it and materialise its report (what the sync job does)."""
    add_repo(store, str(repo_path), name=name, data_dir=data_dir)
    with open_repo_workspace(store, get_repo(store, name), data_dir) as ws:
        materialised.refresh(store, ws, get_repo(store, name))


def make_tokens(store: Store, repo: str = "shop", other: str | None = None) -> Tokens:
    def tok(role: str, **scope: str) -> str:
        return create_token(store, role, **scope).token  # type: ignore[arg-type]

    return Tokens(
        admin=tok("admin"),
        auditor=tok("auditor"),
        lead_acme=tok("lead", org="acme", person="alice"),
        lead_vistula=tok("lead", org="vistula", person="bob"),
        member_acme=tok("member", org="acme", person="carol"),
        member_vistula=tok("member", org="vistula", person="dave"),
        ci=tok("ci", repo=repo),
        ci_other=tok("ci", repo=other) if other else "",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 50 ms; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def is_ready(url: str) -> bool:
    """Whether the service at `url` answers /readyz with 200 (not listening yet: False)."""
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def running_server(db_url: str, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`onebar serve` in a child process on a free loopback port; yields its base URL, stops it after."""
    import os

    port = free_port()
    full_env = {**os.environ, "ONEBAR_JOB_POLL": "0.2", **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "onebar", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db_url,
         "--data-dir", str(data_dir), "--log-level", "warning", *extra],
        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"onebar serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("onebar serve did not become ready in 30 s")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
