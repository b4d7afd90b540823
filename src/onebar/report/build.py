"""Building the report: load one repository from the store, run the metrics, assemble the typed model.

`report_for(workspace, ...)` is the one entry point of every face (CLI, service); `build_report`
does the work on a store, a repository id and a charter. Renderers (onebar.report.render) turn the
`Report` into text, Markdown or HTML; `Report.to_json()` is the JSON contract
(docs/report.schema.json).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np

from onebar import __version__
from onebar.charter.model import Charter
from onebar.errors import UsageError
from onebar.metrics import delivery, dora, knowledge, offboarding, review, seams
from onebar.metrics import overlap as overlap_mod
from onebar.metrics import tiers as tiers_mod
from onebar.metrics.jsonable import iso
from onebar.metrics.model import AGENT, BOT, DAY, KINDS, UNKNOWN_ORG, Deployment, History, Incident, Window
from onebar.mining import missing
from onebar.report import flow as code_host
from onebar.report.identity import resolver
from onebar.report.load import (
    Loaded,
    authorship_at_head,
    load,
    load_file_changes,
    load_trailers,
    subject_matches,
)
from onebar.report.model import SCHEMA_VERSION, OrgInfo, Report, RepositoryInfo, TiersInfo
from onebar.store import Store
from onebar.workspace import Workspace

DEFAULT_DAYS = 90
MAX_ORGS = 12  # organisations with trends and overlap, most active first


def parse_time(value: str, field: str, *, end_of_day: bool = False) -> int:
    """An ISO date or date-time (naive means UTC) as Unix seconds; a bare date as `until` means its end.

    A bad value is a UsageError naming `field`, the parameter it came in.
    """
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = date.fromisoformat(text)
            start = datetime(d.year, d.month, d.day, tzinfo=UTC)
            return int((start + timedelta(days=1 if end_of_day else 0)).timestamp())
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time such as 2024-05-01T12:00:00Z", field=field
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def resolve_window(since: str | None, until: str | None, first: int, last: int) -> Window:
    """Default: the last 90 days of the history; `since='all'` reaches back to the first commit."""
    end = parse_time(until, "until", end_of_day=True) if until else last + 1
    if since is None:
        start = end - DEFAULT_DAYS * DAY
    elif since.strip().lower() == "all":
        start = min(first, end - 1)
    else:
        start = parse_time(since, "since")
    if start >= end:
        raise UsageError(f"the window starts ({iso(start)}) at or after its end ({iso(end)})", field="since")
    return Window(start, end)


def build_report(
    store: Store,
    repo_id: int,
    charter: Charter,
    *,
    since: str | None = None,
    until: str | None = None,
    tiers: int | None = None,
    head_files: set[str] | None = None,
    head_sha: str | None = None,
    now: int | None = None,
) -> Report:
    """The whole report for one repository over a window (see docs/report.md).

    `head_sha` and `head_files` are the repository's HEAD commit and paths (from git; without
    them the default branch is guessed from the stored refs); `now` ends the default window of a
    repository with no history yet (default: the clock).
    """
    year = tiers or charter.delivery.tiers
    report_name = tiers_mod.report_name(year)  # fails early on an unknown year
    resolve = resolver(charter)
    loaded = load(store, repo_id, resolve, head_sha=head_sha)
    h = loaded.history
    deps = deployments_of(loaded, charter)
    # "The last 90 days of the history": the history ends at its last commit or deployment.
    times = [int(h.committed_at.min()), int(h.committed_at.max())] if len(h) else []
    times += [d.at for d in deps]
    if times:
        first, last = min(times), max(times)
    else:
        first = last = now if now is not None else int(datetime.now(UTC).timestamp())
    window = resolve_window(since, until, first, last)
    found = loaded.find(head_sha) if head_sha else -1
    head = found if found >= 0 else _head(loaded, charter)
    load_trailers(store, loaded, resolve, window)
    hotfixes = subject_matches(store, loaded, re.compile(charter.delivery.hotfix_pattern), window.until)

    incs = [Incident(r.title, r.started_at, r.resolved_at, r.deployment_ref) for r in loaded.incidents]
    linked = dora.link(h, deps)
    judged = dora.judge(h, linked, incs, window.until, hotfixes)
    orgs, committed = _activity(h, linked, window)
    authorship = _authorship(store, loaded, charter, window, head, head_files)
    hosted = code_host.load(store, loaded.name, charter, loaded.find_all)  # pull requests, when the store has them
    until_day = datetime.fromtimestamp(window.until - 1, UTC).date()
    leavers = [offboarding.Leaver(pid, p.org, p.contract_end) for pid, p in charter.people.items() if p.contract_end]
    overlap = overlap_of(charter, until_day, orgs[:MAX_ORGS])
    if len(orgs) > MAX_ORGS:
        overlap = replace(
            overlap,
            reasons={
                **overlap.reasons,
                "organisations": f"only the {MAX_ORGS} most active of {len(orgs)} organisations in the window "
                "are compared",
            },
        )
    return Report(
        schema_version=SCHEMA_VERSION,
        generated_by=f"onebar {__version__}",
        repository=RepositoryInfo(loaded.name, loaded.path, h.sha[head] if head is not None else None, len(h)),
        window=window,
        tiers=TiersInfo(year, report_name),
        organisations={o: _org_info(charter, o) for o in orgs},
        dora=delivery.section(
            h, linked, judged, window, orgs, trend_orgs=MAX_ORGS, incidents_recorded=bool(incs), year=year
        ),
        review=review.review_matrix(h, window, head, pulls=hosted.approvals()),
        knowledge=knowledge.section(
            authorship.authors, authorship.component, authorship.people, components_defined=bool(charter.components)
        ),
        offboarding=offboarding.section(authorship, leavers, until_day, committed),
        contributors=_contributors(loaded, charter, window),
        overlap=overlap,
        flow=hosted.section(window, linked),
        authorship=authorship,
    )


def report_for(
    ws: Workspace, *, since: str | None = None, until: str | None = None, tiers: int | None = None
) -> Report:
    """The report of an opened workspace: what `onebar report` and the service's report endpoint call."""
    head = ws.head()
    report = build_report(
        ws.store,
        ws.repo_id,
        ws.charter,
        since=since,
        until=until,
        tiers=tiers,
        head_sha=head.sha,
        head_files=set(head.files) if head.files is not None else None,
    )
    unreadable = missing.lines_unknown(ws.store, ws.repo_id)  # commits git could not read whole
    return replace(report, warnings=(missing.warning(unreadable),)) if unreadable else report


def _org_info(charter: Charter, org: str) -> OrgInfo:
    o = charter.organisations.get(org)
    if o is None:
        return OrgInfo("not in the charter" if org == UNKNOWN_ORG else org, None)
    return OrgInfo(o.name or org, o.kind)


def _activity(h: History, linked: dora.Linked, window: Window) -> tuple[list[str], set[str]]:
    """Organisations with changes in the window, most active first, and those that committed in it
    at all (merges too)."""
    at = h.authored_at
    inside = (at >= window.since) & (at < window.until)
    counts = np.bincount(h.org[inside & ~h.merges], minlength=len(h.orgs))
    activity = {h.orgs[o]: int(n) for o, n in enumerate(counts) if n}
    committed = {h.orgs[o] for o in np.unique(h.org[inside]).tolist()}
    lo, hi = (int(x) for x in np.searchsorted(linked.at, [window.since, window.until]))
    shipped = np.concatenate([np.empty(0, dtype=np.int64), *linked.shipped[lo:hi]]).astype(np.int64)
    for o in np.unique(h.org[shipped]).tolist():
        activity.setdefault(h.orgs[o], 0)
    return sorted(activity, key=lambda o: (-activity[o], o)), committed


def _head(loaded: Loaded, charter: Charter) -> int | None:
    names = ["HEAD"]
    if charter.project.default_branch:
        names += [charter.project.default_branch, f"refs/heads/{charter.project.default_branch}"]
    names += ["refs/heads/main", "refs/heads/master", "main", "master"]
    for name in names:
        sha = loaded.refs.get(name)
        found = loaded.find(sha) if sha and len(sha) >= 40 else -1
        if found >= 0:
            return found
    h = loaded.history
    return int(np.argmax(h.committed_at)) if len(h) else None


def deployments_of(loaded: Loaded, charter: Charter) -> list[Deployment]:
    """Release tags matching the charter's pattern, plus recorded successful events of its environment.

    A tag on a commit that also has a recorded event is dropped: the event is the real deployment.
    Two tags on one commit are one deployment (the earlier). A failed status recorded for a commit
    after it was deployed marks the latest such deployment as failed in production.
    """
    env = charter.delivery.environment
    tag_re = re.compile(charter.delivery.tag_pattern)
    hot_re = re.compile(charter.delivery.hotfix_pattern)
    out: list[Deployment] = []
    evented: set[int] = set()
    for r in loaded.deployments:
        if r.environment != env or r.status != "success":
            continue
        c = loaded.find(r.sha) if r.sha else -1
        evented.add(c)
        out.append(Deployment(r.ref, c, r.deployed_at, r.source, env, bool(hot_re.search(r.ref))))
    by_commit: dict[int, tuple[int, str]] = {}
    release = [t for t in loaded.tags if tag_re.search(t.name)]
    for t, c in zip(release, loaded.find_all([t.sha for t in release]), strict=True):
        if c < 0 or c in evented:
            continue
        best = by_commit.get(c)
        if best is None or (t.tagged_at, t.name) < best:
            by_commit[c] = (t.tagged_at, t.name)
    for c, (at, name) in by_commit.items():
        out.append(Deployment(name, c, at, "tag", env, bool(hot_re.search(name))))
    for r in loaded.deployments:
        if r.environment != env or r.status == "success" or not r.sha:
            continue
        c = loaded.find(r.sha)
        before = [k for k, dep in enumerate(out) if dep.commit == c >= 0 and dep.at <= r.deployed_at]
        if before:
            k = max(before, key=lambda k: (out[k].at, out[k].name))
            known = out[k].failed_at
            if known is None or r.deployed_at < known:
                out[k] = replace(out[k], failed_at=r.deployed_at)
    return out


def _authorship(
    store: Store, loaded: Loaded, charter: Charter, window: Window, head: int | None, head_files: set[str] | None
) -> offboarding.Authorship:
    """Each file's authors at the end of the window (DOA over the history that reaches the head then).

    When the window ends after every commit and the ingest's head facts describe this head, the
    counts kept at ingest are read; otherwise the file changes are replayed from the store.
    """
    h = loaded.history
    use_head = head_files is not None and head is not None and int(h.committed_at[head]) < window.until
    current = (
        use_head
        and loaded.head_sha is not None
        and head == h.merged_by_head
        and (not len(h) or window.until > int(h.committed_at.max()))
    )
    per_file: dict[str, dict[str, knowledge.Counts]]
    if current:
        per_file = authorship_at_head(store, loaded)
        alive: set[str] = head_files or set()
    else:
        per_file, alive = _replay(store, loaded, window, head, head_files if use_head else None)
    files = sorted(f for f in alive if f in per_file)
    authors = {f: knowledge.authors_of(per_file[f]) for f in files}
    return offboarding.Authorship(authors, components_of(charter, files), dict(loaded.people), loaded.aliases)


def _replay(
    store: Store, loaded: Loaded, window: Window, head: int | None, head_files: set[str] | None
) -> tuple[dict[str, dict[str, knowledge.Counts]], set[str]]:
    """Per file and person the DOA counts over the commits before the window's end that the head of
    that time reaches, and the files alive then (`head_files`, or replayed adds and deletes)."""
    h = loaded.history
    changes = load_file_changes(store, loaded, window.until)
    ancestors = _ancestors(h, _head_at(h, head, window.until))
    touches: dict[str, list[knowledge.Touch]] = {}
    replay: list[tuple[str, str]] = []
    people, kinds = h.people, h.person_kind
    machine = {KINDS.index(BOT), KINDS.index(AGENT)}
    for i, path, status in changes:
        if i not in ancestors:
            continue
        replay.append((path, status))
        author = int(h.author[i])
        if kinds[author] in machine:
            touches.setdefault(path, [])
            continue  # knowledge lives in people: a bot's or an agent's change makes nobody an author
        touches.setdefault(path, []).append((people[author].key, status))
    alive = head_files if head_files is not None else knowledge.alive_files(replay)
    return {p: knowledge.counts(t) for p, t in touches.items()}, alive


def components_of(charter: Charter, files: Iterable[str]) -> dict[str, str]:
    """Each file's component (the first whose paths match it); files in no component are left out."""
    if not charter.components:
        return {}
    import pathspec  # some 50 ms to import: only when the charter has components

    specs = [(cid, pathspec.GitIgnoreSpec.from_lines(c.paths)) for cid, c in charter.components.items()]
    out: dict[str, str] = {}
    for f in files:
        cid = next((cid for cid, spec in specs if spec.match_file(f)), None)
        if cid is not None:
            out[f] = cid
    return out


def _head_at(h: History, head: int | None, until: int) -> int | None:
    """The mainline commit that was HEAD at `until` (walking first parents back from HEAD)."""
    c = head
    while c is not None and h.committed_at[c] >= until:
        first = int(h.parent1[c])
        c = first if first >= 0 else None
    return c


def _ancestors(h: History, head: int | None) -> set[int]:
    if head is None:
        return set()
    seen = {head}
    stack = [head]
    while stack:
        for p in h.parents(stack.pop()):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _contributors(loaded: Loaded, charter: Charter, window: Window) -> seams.Contributors:
    contracts = {
        pid: seams.Contract(p.contract_start, p.contract_end)
        for pid, p in charter.people.items()
        if p.contract_start or p.contract_end
    }
    labels = {k: w.label for k, w in loaded.people.items()}
    return seams.contributors(loaded.history, window, contracts=contracts, labels=labels)


def overlap_for(charter: Charter, on: str | None = None) -> overlap_mod.Overlap:
    """Overlap on the week of `on` (a date; default today) from the charter alone (`onebar overlap`)."""
    if on is None:
        ref = datetime.now(UTC).date()
    else:
        try:
            ref = date.fromisoformat(on.strip())
        except ValueError:
            raise UsageError(f"{on!r} is not a date; use YYYY-MM-DD", field="on") from None
    return overlap_of(charter, ref)


def overlap_of(charter: Charter, ref: date, orgs: list[str] | None = None) -> overlap_mod.Overlap:
    """Overlap of the charter's organisations, or only of `orgs` (the report: those active in the window)."""
    schedules = []
    for pid, p in charter.people.items():
        if orgs is not None and p.org not in orgs:
            continue
        org = charter.organisations.get(p.org)
        if org is not None and org.kind in ("bot", "agent"):
            continue  # machines have no working hours to share
        if not p.under_contract(ref):
            continue
        start, end = p.working_hours
        schedules.append(overlap_mod.Schedule(pid, p.org, p.timezone, start, end, tuple(p.days)))
    return overlap_mod.overlap(schedules, ref, charter.overlap.min_hours)
