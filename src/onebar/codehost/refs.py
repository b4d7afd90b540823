"""Reading references out of change text: tracker issues, incident causes and co-author trailers.

Pure functions over strings, shared by the importer and the webhook processor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# "#12", "owner/repo#12", "group/sub/project#12", at a word start (not a Markdown heading "# x").
_ISSUE = re.compile(r"(?<![\w/#&])(?P<repo>[\w.-]+(?:/[\w.-]+)+)?#(?P<n>\d+)\b")
_REPO_CHAR = re.compile(r"[\w./-]")  # what a match of _ISSUE may hold before its "#"
# Issue URLs: https://github.com/o/r/issues/12, https://gitlab.example/g/p/-/issues/12
_ISSUE_URL = re.compile(r"https?://[^\s/]+/(?P<repo>[\w.-]+(?:/[\w.-]+)+?)(?:/-)?/issues/(?P<n>\d+)\b")
# Jira-style keys (the charter's pattern filters them when the report reads them).
KEY = re.compile(r"\b[A-Z][A-Z0-9_]+-\d+\b")
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?|implement(?:s|ed)?)\b:?\s+(?P<refs>(?:[^\s,;]+(?:\s*(?:,|and)\s*)?)+)",
    re.IGNORECASE,
)
_GITLAB_BRANCH = re.compile(r"^(\d+)-")  # GitLab's "Create merge request" from issue 12: "12-title"
_TRAILER = re.compile(r"^co-authored-by:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_ROOT_CAUSE = re.compile(r"root[ -]cause:?\s*(?:commit\s+)?([0-9a-f]{7,64})\b", re.IGNORECASE)
_CAUSED_BY = re.compile(r"(?:caused by|introduced (?:by|in)|regression from)\s*(?:pr\s*|!|#)(\d+)\b", re.IGNORECASE)
_RESOLUTION = re.compile(r"^\s*resolution:\s*([\w -]+?)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class TrackerRef:
    ref: str  # "#12", "owner/repo#12", "PAY-12"
    kind: str  # issue, key
    closes: bool = False


def tracker_refs(title: str, body: str, branch: str | None, *, own_repo: str, host: str = "github") -> list[TrackerRef]:
    """Every issue reference and tracker key in a change's title, description and branch, once each.

    References to the change's own repository are written "#12"; others keep their "owner/repo".
    """
    found: dict[str, TrackerRef] = {}
    closing: set[str] = set()
    text = f"{title}\n{body}"

    def norm(repo: str | None, n: str) -> str:
        return f"#{int(n)}" if not repo or repo.lower() == own_repo.lower() else f"{repo}#{int(n)}"

    for m in _CLOSING.finditer(text):
        chunk = m.group("refs")
        closing.update(norm(r.group("repo"), r.group("n")) for r in _issues(chunk))
        closing.update(norm(r.group("repo"), r.group("n")) for r in _ISSUE_URL.finditer(chunk))
        closing.update(KEY.findall(chunk))
    for m in _ISSUE_URL.finditer(text):
        ref = norm(m.group("repo"), m.group("n"))
        found.setdefault(ref, TrackerRef(ref, "issue"))
    stripped = _ISSUE_URL.sub(" ", text)
    for m in _issues(stripped):
        ref = norm(m.group("repo"), m.group("n"))
        found.setdefault(ref, TrackerRef(ref, "issue"))
    for key in KEY.findall(f"{text}\n{branch or ''}"):
        found.setdefault(key, TrackerRef(key, "key"))
    if branch and host == "gitlab":
        bm = _GITLAB_BRANCH.match(branch)
        if bm:
            ref = f"#{int(bm.group(1))}"
            found.setdefault(ref, TrackerRef(ref, "issue"))
    return [TrackerRef(r.ref, r.kind, r.ref in closing) for r in found.values()]


def _issues(text: str) -> Iterator[re.Match[str]]:
    """`_ISSUE.finditer(text)`, trying the pattern only just before each "#": the regex engine
    would try it at every position of a long description (a third of a millisecond for 2 KB)."""
    end = 0
    at = text.find("#")
    while at != -1:
        start = at  # every match holds one "#", after a run of repository characters
        while start > end and _REPO_CHAR.match(text, start - 1):
            start -= 1
        for s in range(start, at + 1):  # the leftmost match wins, as in finditer
            m = _ISSUE.match(text, s)  # the look-behind still sees the text before `s`
            if m is not None:
                yield m
                end = m.end()
                break
        at = text.find("#", max(at + 1, end))


def coauthor_trailers(*messages: str) -> list[str]:
    """'Name <email>' of every Co-authored-by trailer, once each, in order."""
    out: dict[str, None] = {}
    for msg in messages:
        for m in _TRAILER.finditer(msg or ""):
            out.setdefault(m.group(1), None)
    return list(out)


@dataclass(frozen=True)
class Cause:
    sha: str | None
    pr: int | None
    resolution: str | None


def incident_cause(body: str) -> Cause:
    """What an incident issue says caused it ('root cause: <sha>', 'caused by #12') and how it was resolved."""
    sha = _ROOT_CAUSE.search(body or "")
    pr = _CAUSED_BY.search(body or "")
    res = _RESOLUTION.search(body or "")
    return Cause(
        sha.group(1).lower() if sha else None,
        int(pr.group(1)) if pr else None,
        res.group(1).strip().lower() if res else None,
    )
