"""`access plan --github` against a loopback server speaking GitHub's collaborator API, and `--apply`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from access_fixtures import shop_repo
from helpers import GitRepo, run_cli

TODAY = datetime.now(UTC).date()
TOKEN = "ghp-test"
ROLE = {"pull": "read", "triage": "triage", "push": "write", "maintain": "maintain", "admin": "admin"}


class GitHub:
    """Collaborators of one repository, served and changed as GitHub's REST API does."""

    def __init__(self, full_name: str, collaborators: dict[str, str]):
        self.full_name = full_name
        self.roles = dict(collaborators)  # login -> role_name
        self.requests: list[tuple[str, str, Any]] = []
        self.refuse: set[str] = set()  # logins whose changes answer 422
        data = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, body: Any = None) -> None:
                raw = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _route(self, method: str) -> None:
                path = unquote(urlsplit(self.path).path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                data.requests.append((method, path, body))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"message": "Bad credentials"})
                base = f"/repos/{data.full_name}/collaborators"
                if method == "GET" and path == base:
                    items = [
                        {"login": login, "type": "User", "role_name": role, "permissions": {"pull": True}}
                        for login, role in sorted(data.roles.items())
                    ]
                    return self._send(200, items)
                if path.startswith(base + "/"):
                    login = path.removeprefix(base + "/")
                    if login in data.refuse:
                        return self._send(422, {"message": "Validation Failed"})
                    if method == "PUT":
                        created = login not in data.roles
                        data.roles[login] = ROLE[body["permission"]]
                        return self._send(201 if created else 204, {"id": 1} if created else None)
                    if method == "DELETE":
                        data.roles.pop(login, None)
                        return self._send(204)
                return self._send(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_PUT(self) -> None:
                self._route("PUT")

            def do_DELETE(self) -> None:
                self._route("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)


@pytest.fixture
def github() -> Iterator[GitHub]:
    host = GitHub(
        "acme/shop",
        {"ana-gh": "admin", "bo": "write", "cy": "write", "old": "write", "stranger": "read", "pat": "admin"},
    )
    host.thread.start()
    yield host
    host.server.shutdown()
    host.server.server_close()


@pytest.fixture
def shop(repo: GitRepo) -> GitRepo:
    return shop_repo(repo, TODAY)


def plan(store_url: str, shop: GitRepo, github: GitHub, *extra: str) -> Any:
    return run_cli(
        "access", "plan", str(shop.path), "--github", "acme/shop", "--api-url", github.url, "--db", store_url, *extra,
        env={"GITHUB_TOKEN": TOKEN},
    )  # fmt: skip


def test_plan_reads_collaborators_through_the_client(shop: GitRepo, store_url: str, github: GitHub) -> None:
    result = plan(store_url, shop, github, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "github acme/shop"
    assert {(s["action"], s["login"]) for s in data["revoke"]} == {
        ("revoke", "old"),
        ("revoke", "stranger"),
        ("lower", "pat"),
    }
    assert [s["login"] for s in data["add"]] == ["vic"]
    assert [m for m, _, _ in github.requests] == ["GET"]  # a plan alone changes nothing


def test_apply_carries_out_each_step_and_audits_it(shop: GitRepo, store_url: str, github: GitHub) -> None:
    github.refuse.add("stranger")
    result = plan(store_url, shop, github, "--apply", "--yes", "--as", "ana")
    assert result.exit_code == 1  # one step failed; the others were carried out
    assert "FAILED revoke stranger" in result.stdout
    assert github.roles == {"ana-gh": "admin", "bo": "write", "cy": "write", "stranger": "read", "pat": "write",
                            "vic": "write"}  # fmt: skip
    writes = sorted((m, p.rsplit("/", 1)[1], b) for m, p, b in github.requests if m != "GET")
    assert writes == [
        ("DELETE", "old", None),
        ("DELETE", "stranger", None),
        ("PUT", "pat", {"permission": "push"}),
        ("PUT", "vic", {"permission": "push"}),
    ]
    log = json.loads(run_cli("audit", "list", "--db", store_url, "--format", "json").stdout)
    steps = sorted((e["action"], e["target"], e["outcome"], e["actor"]["person"]) for e in log)
    assert steps == [
        ("access.host.add", "github:acme/shop:vic", "success", "ana"),
        ("access.host.lower", "github:acme/shop:pat", "success", "ana"),
        ("access.host.revoke", "github:acme/shop:old", "success", "ana"),
        ("access.host.revoke", "github:acme/shop:stranger", "failed", "ana"),
    ]
    # Applied again, only the refused step is left.
    again = json.loads(plan(store_url, shop, github, "--format", "json").stdout)
    assert [s["login"] for s in again["revoke"]] == ["stranger"] and again["add"] == []


def test_apply_asks_first(shop: GitRepo, store_url: str, github: GitHub) -> None:
    from click.testing import CliRunner

    from onebar.cli import cli

    args = ["access", "plan", str(shop.path), "--github", "acme/shop", "--api-url", github.url, "--db", store_url]
    result = CliRunner().invoke(cli, [*args, "--apply"], input="n\n", env={"GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 1 and "Apply these 4 changes" in result.output
    assert [m for m, _, _ in github.requests] == ["GET"]


def test_plan_needs_a_token_and_one_source(shop: GitRepo, store_url: str, github: GitHub) -> None:
    no_token = run_cli("access", "plan", str(shop.path), "--github", "acme/shop", "--db", store_url,
                       env={"GITHUB_TOKEN": ""})  # fmt: skip
    assert no_token.exit_code == 2 and "GITHUB_TOKEN is not set" in no_token.stderr
    both = run_cli("access", "plan", str(shop.path), "--github", "a/b", "--gitlab", "c/d", "--db", store_url)
    assert both.exit_code == 2 and "exactly one of" in both.stderr
    file_apply = run_cli("access", "plan", str(shop.path), "--from", "x.json", "--apply", "--db", store_url)
    assert file_apply.exit_code == 2 and "--apply" in file_apply.stderr
    bad_token = plan(store_url, shop, github, "--format", "json")
    assert bad_token.exit_code == 0
    wrong = run_cli("access", "plan", str(shop.path), "--github", "acme/shop", "--api-url", github.url,
                    "--db", store_url, env={"GITHUB_TOKEN": "nope"})  # fmt: skip
    assert wrong.exit_code == 2 and "401" in wrong.stderr
