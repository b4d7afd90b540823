"""A REST client for code hosts on httpx: pagination, ETags, rate limits and retries, nothing else.

`HostClient.get` makes one logical request: it waits out primary rate limits (`X-RateLimit-Remaining: 0`
until `X-RateLimit-Reset`, GitLab's `RateLimit-*`) and secondary ones (`Retry-After`, or a 403 that
says "rate limit"), retries 5xx answers, timeouts and dropped connections with exponential backoff,
and sends `If-None-Match` with the ETag it saw last for that URL when asked to be conditional
(a 304 costs no rate limit on GitHub). `pages` follows `Link: <...>; rel="next"`.

The ETags live in an `EtagCache`; the importer saves them in the same transaction as the data
they describe, so a crash can never leave an ETag for data that was not stored.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

from onebar import __version__
from onebar.errors import NotFoundError, RemoteError, UsageError

GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com/api/v4"


@dataclass
class Page:
    """One answer: the JSON, the link to the next page, and whether it was a 304."""

    url: str
    status: int
    data: Any
    next_url: str | None = None
    etag: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class Stats:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


class EtagCache:
    """URL -> ETag, with the entries changed since the last `take_dirty` kept apart for saving."""

    def __init__(self, known: dict[str, str] | None = None):
        self.known: dict[str, str] = dict(known or {})
        self.dirty: dict[str, str] = {}

    def get(self, url: str) -> str | None:
        return self.known.get(url)

    def put(self, url: str, etag: str) -> None:
        if self.known.get(url) != etag:
            self.known[url] = etag
            self.dirty[url] = etag

    def take_dirty(self) -> dict[str, str]:
        out, self.dirty = self.dirty, {}
        return out


class HostClient:
    """GET requests against one API base URL with a token; thread-safe (httpx.Client is)."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        host: str,
        etags: EtagCache | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_wait: float = 3600.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.base_url = base_url.rstrip("/")
        self.host = host
        self.etags = etags if etags is not None else EtagCache()
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.stats = Stats()
        headers = {"User-Agent": f"onebar/{__version__}"}
        if host == "github":
            headers |= {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
        elif token:
            headers["PRIVATE-TOKEN"] = token
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HostClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The absolute URL of an API path (a full URL, such as a Link, is kept as is)."""
        base = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        return str(httpx.URL(base, params=params)) if params else base

    def get(self, path: str, params: dict[str, Any] | None = None, *, conditional: bool = False) -> Page:
        """One GET, retried and rate-limited as the module says; raises onebar errors on refusal."""
        url = self.url(path, params)
        headers = {}
        etag = self.etags.get(url) if conditional else None
        if etag:
            headers["If-None-Match"] = etag
        failures = 0
        waits = 0
        while True:
            self.stats.requests += 1
            try:
                r = self._http.get(url, headers=headers)
            except httpx.TransportError as exc:  # timeouts, refused or dropped connections
                failures += 1
                if failures > self.retries:
                    raise RemoteError(f"{self.host} API: GET {url} failed {failures} times: {exc!r}") from None
                self._pause(self._backoff(failures))
                continue
            self.stats.statuses[r.status_code] = self.stats.statuses.get(r.status_code, 0) + 1
            if r.status_code in (403, 429):
                wait = self._rate_wait(r)
                if wait is not None:
                    waits += 1
                    if wait > self.max_wait or waits > self.retries + 5:
                        raise RemoteError(
                            f"{self.host} API: rate limited on GET {url} for {wait:.0f} s more",
                            hint="try again later or use a token with a higher limit",
                        )
                    self.stats.rate_limited += 1
                    self._pause(wait)
                    continue
            if r.status_code >= 500:
                failures += 1
                if failures > self.retries:
                    raise RemoteError(f"{self.host} API: GET {url} answered {r.status_code} {failures} times")
                after = _retry_after(r, self.clock())
                self._pause(after if after is not None else self._backoff(failures))
                continue
            break
        if r.status_code == 304:
            self.stats.not_modified += 1
            return Page(url, 304, None, etag=etag)
        if r.status_code == 401:
            raise UsageError(f"{self.host} API refused the token (401) for GET {url}", field="token")
        if r.status_code == 404:
            raise NotFoundError(f"{self.host} API: {url} was not found (404), or the token cannot see it")
        if r.status_code >= 400:
            raise RemoteError(f"{self.host} API: GET {url} answered {r.status_code}: {_message(r)}")
        try:
            data = r.json()
        except ValueError:
            raise RemoteError(f"{self.host} API: GET {url} did not answer JSON") from None
        new_etag = r.headers.get("etag")
        if new_etag and conditional:
            self.etags.put(url, new_etag)
        self._respect_remaining(r)
        nxt = r.links.get("next", {}).get("url")
        return Page(url, r.status_code, data, next_url=nxt, etag=new_etag)

    def send(self, method: str, path: str, body: Any = None) -> int:
        """One idempotent write (PUT, DELETE), retried on 5xx and dropped connections; returns the status.

        Used by the access plan's --apply; refusals raise as GET's do.
        """
        url = self.url(path)
        failures = 0
        while True:
            self.stats.requests += 1
            try:
                r = self._http.request(method, url, json=body)
            except httpx.TransportError as exc:
                failures += 1
                if failures > self.retries:
                    raise RemoteError(f"{self.host} API: {method} {url} failed {failures} times: {exc!r}") from None
                self._pause(self._backoff(failures))
                continue
            self.stats.statuses[r.status_code] = self.stats.statuses.get(r.status_code, 0) + 1
            if r.status_code >= 500 and failures < self.retries:
                failures += 1
                self._pause(self._backoff(failures))
                continue
            break
        if r.status_code == 401:
            raise UsageError(f"{self.host} API refused the token (401) for {method} {url}", field="token")
        if r.status_code == 404:
            raise NotFoundError(f"{self.host} API: {url} was not found (404), or the token cannot change it")
        if r.status_code >= 400:
            raise RemoteError(f"{self.host} API: {method} {url} answered {r.status_code}: {_message(r)}")
        return r.status_code

    def pages(self, path: str, params: dict[str, Any] | None = None, *, conditional: bool = False) -> Iterator[Page]:
        """Every page of a list, following Link rel="next"; a 304 page ends the walk."""
        page = self.get(path, params, conditional=conditional)
        while True:
            yield page
            if page.not_modified or not page.next_url:
                return
            page = self.get(page.next_url, conditional=conditional)

    def _backoff(self, failures: int) -> float:
        self.stats.retries += 1
        return float(self.backoff * 2 ** (failures - 1) * (0.5 + random.random() / 2))

    def _pause(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        self.sleep(seconds)

    def _rate_wait(self, r: httpx.Response) -> float | None:
        """Seconds to wait when a 403/429 is a rate limit; None when it is a real refusal."""
        now = self.clock()
        after = _retry_after(r, now)
        if after is not None:
            return after
        remaining = r.headers.get("x-ratelimit-remaining") or r.headers.get("ratelimit-remaining")
        reset = r.headers.get("x-ratelimit-reset") or r.headers.get("ratelimit-reset")
        if remaining == "0" and reset and reset.isdigit():
            return max(int(reset) - now, 0) + 1
        if r.status_code == 429 or "rate limit" in r.text.lower():
            return 60.0  # GitHub: a secondary limit without headers means "wait at least a minute"
        return None

    def _respect_remaining(self, r: httpx.Response) -> None:
        """Out of requests: wait for the reset before the next one rather than be refused."""
        remaining = r.headers.get("x-ratelimit-remaining") or r.headers.get("ratelimit-remaining")
        reset = r.headers.get("x-ratelimit-reset") or r.headers.get("ratelimit-reset")
        if remaining == "0" and reset and reset.isdigit():
            wait = max(int(reset) - self.clock(), 0) + 1
            if wait > self.max_wait:
                raise RemoteError(f"{self.host} API: the rate limit resets only in {wait:.0f} s")
            self.stats.rate_limited += 1
            self._pause(wait)


def _retry_after(r: httpx.Response, now: float) -> float | None:
    value = r.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:200]
    return str(body)[:200]


class HostAPI:
    """Typed REST calls of one code host over one `HostClient`; closes the client on leaving a `with`."""

    host = ""
    default_url = ""

    def __init__(self, client: HostClient):
        self.client = client

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    @classmethod
    def connect(cls, token: str | None, api_url: str | None = None, **kwargs: Any) -> Self:
        return cls(HostClient(api_url or cls.default_url, token, host=cls.host, **kwargs))
