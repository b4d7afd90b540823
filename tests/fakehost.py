"""A loopback code host for tests and benchmarks: a real HTTP server speaking GitHub's and GitLab's REST shapes.

The payloads are written here from the shapes the hosts' documentation shows (only the fields
onebar reads, plus a few it must ignore). The server paginates with `Link` headers, answers
`If-None-Match` with 304, checks the token, and serves injected faults in order: `"500"`,
`"timeout"` (answers after the client gave up), `"retry-after:N"` (429 with Retry-After),
`"secondary"` (403 "secondary rate limit" with Retry-After), `"primary"` (403 with
X-RateLimit-Remaining: 0 and a reset time) and `"drop"` (closes the connection).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class HostData:
    """What the fake host knows, as lists of JSON objects per resource path."""

    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    token: str | None = "test-token"
    faults: dict[str, list[str]] = field(default_factory=dict)  # path -> faults served in order
    log: list[tuple[str, int]] = field(default_factory=list)  # (path?query, status)
    timeout_sleep: float = 1.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for _, s in self.log:
            out[s] = out.get(s, 0) + 1
        return out


def _sort_key(params: dict[str, str]) -> str | None:
    by = params.get("sort") if params.get("sort") in ("updated", "created") else params.get("order_by")
    return {"updated": "updated_at", "updated_at": "updated_at", "created": "created_at"}.get(by or "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    data: HostData

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        d = self.data
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        fault = None
        with d.lock:
            queue = d.faults.get(path)
            if queue:
                fault = queue.pop(0)
        if fault is not None and self._fault(fault):
            return
        if d.token is not None:
            auth = self.headers.get("Authorization") or ""
            private = self.headers.get("PRIVATE-TOKEN") or ""
            if auth != f"Bearer {d.token}" and private != d.token:
                return self._send(401, {"message": "Bad credentials"})
        items = d.lists.get(path)
        if items is None:
            return self._send(404, {"message": "Not Found"})
        key = _sort_key(params)
        if key is not None:
            desc = params.get("direction", params.get("sort", "desc")) != "asc"
            items = sorted(items, key=lambda o: (o.get(key) or "", o.get("id", 0)), reverse=desc)
        per_page = min(int(params.get("per_page", 30)), 100)
        page = int(params.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        body = json.dumps(chunk).encode()
        etag = 'W/"' + hashlib.sha1(body).hexdigest() + '"'
        headers = {"ETag": etag, "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999"}
        last = max(1, -(-len(items) // per_page))
        if page < last:
            host = self.headers.get("Host")
            q = dict(params, page=str(page + 1))
            query = "&".join(f"{k}={v}" for k, v in q.items())
            headers["Link"] = (
                f'<http://{host}{parts.path}?{query}>; rel="next", <http://{host}{parts.path}>; rel="last"'
            )
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, None, headers)
        self._send(200, body, headers)

    def _fault(self, fault: str) -> bool:
        if fault == "500":
            self._send(502 if False else 500, {"message": "Server Error"})
        elif fault == "timeout":
            time.sleep(self.data.timeout_sleep)
            self._send(200, [])
        elif fault.startswith("retry-after:"):
            self._send(429, {"message": "Too Many Requests"}, {"Retry-After": fault.split(":", 1)[1]})
        elif fault == "secondary":
            self._send(403, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "1"})
        elif fault == "primary":
            reset = str(int(time.time()) + 1)
            self._send(
                403,
                {"message": "API rate limit exceeded"},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
            )
        elif fault == "drop":
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)
            with self.data.lock:
                self.data.log.append((self.path, 0))
        else:
            return False
        return True

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = b"" if status == 304 or body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if raw:
                self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        with self.data.lock:
            self.data.log.append((self.path, status))


class FakeHost:
    """Runs the server on 127.0.0.1 on a free port in a thread; `url` is its base."""

    def __init__(self, data: HostData, prefix: str = ""):
        self.data = data
        handler = type("Handler", (_Handler,), {"data": data})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{prefix}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FakeHost:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- payloads shaped as the documentation shows ----


def gh_user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": kind, "site_admin": False}


def gh_pull(
    number: int,
    author: str,
    *,
    created: int,
    updated: int | None = None,
    merged: int | None = None,
    closed: int | None = None,
    draft: bool = False,
    title: str = "",
    body: str = "",
    labels: tuple[str, ...] = (),
    assignees: tuple[str, ...] = (),
    author_type: str = "User",
    head_ref: str = "feature",
    merge_sha: str | None = None,
) -> dict[str, Any]:
    return {
        "url": f"https://api.github.test/repos/o/r/pulls/{number}",
        "id": 1000 + number,
        "node_id": f"PR_{number}",
        "number": number,
        "state": "closed" if (merged or closed) else "open",
        "locked": False,
        "title": title or f"Change {number}",
        "user": gh_user(author, author_type),
        "body": body,
        "labels": [{"id": i, "name": n, "color": "ededed"} for i, n in enumerate(labels)],
        "created_at": iso(created),
        "updated_at": iso(updated or merged or closed or created),
        "closed_at": iso(closed or merged) if (closed or merged) else None,
        "merged_at": iso(merged) if merged else None,
        "merge_commit_sha": merge_sha or hashlib.sha1(f"m{number}".encode()).hexdigest(),
        "assignees": [gh_user(a) for a in assignees],
        "requested_reviewers": [],
        "draft": draft,
        "head": {"ref": head_ref, "sha": hashlib.sha1(f"h{number}".encode()).hexdigest()},
        "base": {"ref": "main", "sha": "0" * 40},
        "author_association": "MEMBER",
    }


def gh_review(rid: int, reviewer: str, state: str, at: int, kind: str = "User") -> dict[str, Any]:
    return {
        "id": rid,
        "node_id": f"PRR_{rid}",
        "user": gh_user(reviewer, kind),
        "body": "",
        "state": state.upper(),
        "submitted_at": iso(at),
        "commit_id": "a" * 40,
        "author_association": "MEMBER",
    }


def gh_commit(sha: str, at: int, message: str = "work") -> dict[str, Any]:
    return {
        "sha": sha,
        "commit": {
            "author": {"name": "Dev", "email": "dev@example.test", "date": iso(at)},
            "committer": {"name": "Dev", "email": "dev@example.test", "date": iso(at)},
            "message": message,
        },
    }


def gh_deployment(did: int, sha: str, at: int, env: str = "production", updated: int | None = None) -> dict[str, Any]:
    return {
        "id": did,
        "sha": sha,
        "ref": "main",
        "task": "deploy",
        "environment": env,
        "creator": gh_user("deployer"),
        "created_at": iso(at),
        "updated_at": iso(updated or at),
        "production_environment": env == "production",
    }


def gh_status(sid: int, state: str, at: int) -> dict[str, Any]:
    return {"id": sid, "state": state, "created_at": iso(at), "updated_at": iso(at), "environment": "production"}


def gh_issue(
    number: int,
    *,
    created: int,
    closed: int | None = None,
    labels: tuple[str, ...] = (),
    body: str = "",
    title: str = "",
) -> dict[str, Any]:
    return {
        "id": 5000 + number,
        "number": number,
        "title": title or f"Issue {number}",
        "user": gh_user("reporter"),
        "labels": [{"name": n} for n in labels],
        "state": "closed" if closed else "open",
        "created_at": iso(created),
        "updated_at": iso(closed or created),
        "closed_at": iso(closed) if closed else None,
        "body": body,
    }


def github_repo(
    data: HostData,
    full: str,
    pulls: list[dict[str, Any]],
    reviews: dict[int, list[dict[str, Any]]],
    commits: dict[int, list[dict[str, Any]]] | None = None,
    prefix: str = "",
) -> None:
    """Put one repository's pull requests (with reviews and commits) and empty other lists on `data`."""
    base = f"{prefix}/repos/{full}"
    data.lists[f"{base}/pulls"] = pulls
    for p in pulls:
        n = p["number"]
        data.lists[f"{base}/pulls/{n}/reviews"] = reviews.get(n, [])
        data.lists[f"{base}/pulls/{n}/commits"] = (commits or {}).get(
            n, [gh_commit(f"{n:040x}", _t(p["created_at"]) - 3600)]
        )
    data.lists.setdefault(f"{base}/issues", [])
    data.lists.setdefault(f"{base}/deployments", [])
    data.lists.setdefault(f"{base}/releases", [])


def _t(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
