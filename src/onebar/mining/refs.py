"""Reading a repository's refs and tags in one git call, and diffing them against the last ingest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from onebar.git import git

# Which refs are history: branches, remote-tracking branches, tags and HEAD. Notes, stashes and
# hosting refs (refs/pull/*) are left out on purpose: they are not shipped code.
REF_NAMESPACES = ("refs/heads", "refs/remotes", "refs/tags")


@dataclass(frozen=True)
class Tag:
    name: str
    sha: str  # the commit it points at, peeled
    tagged_at: int
    annotated: bool


@dataclass
class Refs:
    tips: dict[str, str]  # ref name -> object id as stored in the ref (tag objects unpeeled)
    commits: set[str]  # the commits those refs reach directly (tags peeled)
    tags: list[Tag]


def read_tips(root: Path) -> dict[str, str]:
    """Ref name -> object id as stored, and HEAD's commit: `read_refs(root).tips` without reading a
    single object. Enough to tell that nothing changed: peeling a few thousand tags costs git a
    tenth of a second that a run with nothing new need not pay."""
    out = git(root, "for-each-ref", "--format=%(refname)%00%(objectname)", *REF_NAMESPACES)
    tips: dict[str, str] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        name, _, oid = line.partition("\0")
        tips[name] = oid
    head = _head(root)
    if head:
        tips["HEAD"] = head
    return tips


def _head(root: Path) -> str:
    """HEAD's commit, detached or not; empty in an empty repository."""
    return git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).decode().strip()


def read_refs(root: Path) -> Refs:
    fmt = "%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)%00%(creatordate:unix)"
    out = git(root, "for-each-ref", f"--format={fmt}", *REF_NAMESPACES)
    tips: dict[str, str] = {}
    commits: set[str] = set()
    tags: list[Tag] = []
    nested: list[tuple[str, str, int]] = []
    for line in out.decode("utf-8", "replace").splitlines():
        name, oid, otype, peeled, ptype, date = line.split("\0")
        tips[name] = oid
        target = oid if otype == "commit" else peeled if ptype == "commit" else None
        if otype == "tag" and ptype == "tag":
            nested.append((name, oid, int(date or 0)))
        if target is None:
            continue  # a tag of a tree or a blob: no history to mine
        commits.add(target)
        if name.startswith("refs/tags/"):
            tags.append(Tag(name.removeprefix("refs/tags/"), target, int(date or 0), otype == "tag"))
    if nested:  # a tag of a tag: let git peel it all the way
        shas = git(root, "rev-parse", *(f"{n}^{{commit}}" for n, _, _ in nested), check=False).decode().split()
        for (ref, _oid, when), sha in zip(nested, shas, strict=False):
            commits.add(sha)
            tags.append(Tag(ref.removeprefix("refs/tags/"), sha, when, True))
    head = _head(root)
    if head:  # HEAD is history too
        tips["HEAD"] = head
        commits.add(head)
    return Refs(tips, commits, tags)


def existing_objects(root: Path, shas: list[str]) -> list[str]:
    """Those of `shas` still present in the object store (a force-push and gc can drop them)."""
    if not shas:
        return []
    out = git(root, "cat-file", "--batch-check=%(objectname) %(objecttype)", input="\n".join(shas).encode() + b"\n")
    return [line.split()[0] for line in out.decode().splitlines() if not line.endswith(" missing")]


def rev_list(root: Path, include: set[str], exclude: list[str]) -> list[str]:
    """Commits reachable from `include` and not from `exclude`, newest first."""
    if not include:
        return []
    spec = "\n".join([*include, *(f"^{sha}" for sha in exclude)]) + "\n"
    return git(root, "rev-list", "--stdin", input=spec.encode()).decode().split()
