"""`evaluate` (the gate's edge): gather one change and its evidence at the edge, run the rules, return a Verdict.

The definition of done is read from the charter *at the base* of the change, never from the change,
so a change cannot loosen the bar it is judged by; the charter at head is only compared with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from onebar import __version__
from onebar.adr.records import FILENAME, AdrError, parse_adr
from onebar.charter import CHARTER_FILE, Charter, parse_charter
from onebar.charter.done_draft import draft_done
from onebar.errors import CharterError, Problem, UsageError
from onebar.gate.deps import parse_pip_licenses, parse_sbom
from onebar.gate.evidence import parse_coverage, parse_sarif
from onebar.gate.git import GitSource, Range
from onebar.gate.hosted import stored_reviews
from onebar.gate.model import AdrRecord, Authorship, Change, Evidence, FileChange, Participant, Verdict
from onebar.gate.reviews import PullRequest, identify, parse_pr_event, parse_reviews
from onebar.gate.rules import run_rules

MODES = ("enforce", "evaluate")


@dataclass
class GateRequest:
    """What `onebar gate` was asked to judge; every path is optional evidence."""

    repo: Path = Path()
    base: str | None = None
    head: str | None = None
    staged: bool = False
    mode: str = "enforce"
    coverage: Path | None = None
    sarif: Sequence[Path] = field(default_factory=list)
    sbom: Path | None = None
    licenses: Path | None = None
    reviews: Path | None = None
    pr_event: Path | None = None
    db: str | None = None  # a store with the pull request's reviews (onebar import, webhooks), when no `reviews`


def evaluate(request: GateRequest) -> Verdict:
    """Judge one change; raises UsageError/GitError (exit 2) when an input is unusable."""
    if request.mode not in MODES:
        raise UsageError(f"unknown mode {request.mode!r}; use one of {', '.join(MODES)}", field="mode")
    if request.staged and request.head:
        raise UsageError("a staged change is judged against the index; it has no head to name", field="head")
    git = GitSource(request.repo)
    pr = parse_pr_event(request.pr_event) if request.pr_event else None
    base = request.base or (pr.base_sha if pr else None)
    head = request.head or (pr.head_sha if pr and not request.staged else None)
    rng = git.range(base, head, request.staged)
    charter, charter_label, found = charter_at_base(git, rng)
    files = git.diff(rng)
    change = _change(git, rng, files, charter, found)
    evidence = _evidence(request, git, rng, files, charter, pr)
    authorship = _authorship(git, rng, charter, pr)
    results = run_rules(change, evidence, charter, authorship)
    return Verdict(
        base=rng.base,
        head=rng.head,
        mode=request.mode,
        results=tuple(results),
        author=authorship.author,
        charter=charter_label,
        files_changed=len(files),
        lines_added=sum(f.added_count for f in files),
        lines_removed=sum(f.removed_count for f in files),
        version=__version__,
    )


def charter_at_base(git: GitSource, rng: Range) -> tuple[Charter, str, bool]:
    """The charter as committed at the base, where it was read, and whether there was one (else drafted)."""
    blob = git.show(rng.base, CHARTER_FILE)
    if blob is None:
        done = draft_done(git.list_files(rng.base))
        return Charter(done=done), f"no {CHARTER_FILE} at base: drafted definition of done", False
    label = f"{CHARTER_FILE}@{rng.base[:12]}"
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        raise CharterError(label, [Problem("the charter is not UTF-8 text")]) from None
    return parse_charter(text, label), label, True


def _change(git: GitSource, rng: Range, files: list[FileChange], charter: Charter, at_base: bool) -> Change:
    before = charter.done.model_dump(mode="json")
    after: dict[str, object] | None = before
    error: str | None = None
    if any(f.path == CHARTER_FILE or f.old_path == CHARTER_FILE for f in files):
        blob = git.show(rng.head, CHARTER_FILE)
        if blob is None:
            after = None  # the charter was deleted: that changes the bar too
        else:
            try:
                after = parse_charter(blob.decode("utf-8", "replace"), f"{CHARTER_FILE}@head").done.model_dump(
                    mode="json"
                )
            except CharterError as exc:
                after, error = None, str(exc).splitlines()[0]
    return Change(rng.base, rng.head, tuple(files), CHARTER_FILE, before, after, error, at_base)


def _evidence(
    request: GateRequest, git: GitSource, rng: Range, files: list[FileChange], charter: Charter, pr: PullRequest | None
) -> Evidence:
    root = git.root
    coverage = parse_coverage(request.coverage, root) if request.coverage else None
    findings = None
    if request.sarif:
        findings = tuple(f for path in request.sarif for f in parse_sarif(path, root))
    deps = None
    if request.sbom:
        deps = tuple(parse_sbom(request.sbom))
    if request.licenses:
        deps = (*(deps or ()), *parse_pip_licenses(request.licenses))
    reviews = tuple(parse_reviews(request.reviews, charter)) if request.reviews else None
    if reviews is None and request.db:
        reviews = stored_reviews(request.db, charter, head=rng.head, pr=pr)
    return Evidence(coverage, findings, deps, reviews, tuple(_adrs(git, rng, files, charter)))


def _adrs(git: GitSource, rng: Range, files: list[FileChange], charter: Charter) -> list[AdrRecord]:
    """ADRs the change adds or edits, read at head; an unreadable one is recorded as such (the rule fails it)."""
    directory = charter.done.adr.directory.rstrip("/") + "/"
    out: list[AdrRecord] = []
    for f in files:
        name = f.path.rsplit("/", 1)[-1]
        if f.deleted or not f.path.startswith(directory) or not FILENAME.match(name):
            continue
        blob = git.show(rng.head, f.path) or b""
        try:
            adr = parse_adr(blob.decode("utf-8", "replace"), f.path)
        except AdrError as exc:
            out.append(AdrRecord(f.path, int(name[:4]), name, f"unreadable ({exc.message})"))
            continue
        out.append(
            AdrRecord(
                f.path, adr.number, adr.title, adr.status, tuple(adr.deciders), tuple(s.person for s in adr.signoffs)
            )
        )
    return out


def _authorship(git: GitSource, rng: Range, charter: Charter, pr: PullRequest | None) -> Authorship:
    commits = tuple(identify(charter, name=n, email=e) for n, e in git.commit_authors(rng))
    if pr and pr.author_login:
        author = identify(charter, login=pr.author_login)
    elif commits:
        author = commits[0]
    else:
        author = Participant(name="unknown")
    coauthors = tuple(identify(charter, name=n, email=e) for n, e in git.coauthors(rng))
    return Authorship(author, commits, coauthors, pr.labels if pr else ())
