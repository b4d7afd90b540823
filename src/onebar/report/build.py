"""Building the report model: load from the store, compute the metrics, assemble the JSON contract.

`build_report` is the one entry point the CLI and the web service call; renderers turn its
`Report` into text, JSON, Markdown or HTML. The shape is documented in docs/report.schema.json.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pathspec

from onebar import __version__
from onebar.charter.model import Charter
from onebar.errors import NotFoundError, UsageError
from onebar.metrics import dora, knowledge, review, seams
from onebar.metrics import overlap as overlap_mod
from onebar.metrics import tiers as tiers_mod
from onebar.metrics.model import AGENT, BOT, UNKNOWN_ORG, Deployment, History, Incident, Window
from onebar.mining import missing
from onebar.report.identity import resolver
from onebar.report.load import Loaded, load, load_file_changes
from onebar.store import Store
from onebar.workspace import Workspace

SCHEMA_VERSION = "1.0"
DEFAULT_DAYS = 90
DAY = 86400
TOP_FILES = 25
MAX_ORGS = 12  # organisations with trends and overlap, most active first


@dataclass
class Report:
    """The report as plain data (the JSON contract); renderers read `data`."""

    data: dict[str, Any]
    # Not serialised: what an off-boarding simulation of anyone needs.
    authors: dict[str, frozenset[str]] = field(default_factory=dict)
    people: dict[str, Any] = field(default_factory=dict)  # person key -> Who
    aliases: dict[str, str] = field(default_factory=dict)  # lower-cased name or e-mail -> person key
    simulate: Any = None

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def to_json(self) -> dict[str, Any]:
        """The JSON contract (docs/report.schema.json) as plain data."""
        return self.data


def iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, flag: str, *, end_of_day: bool = False) -> int:
    """An ISO date or date-time (naive means UTC) as Unix seconds; a bare date at --until means its end."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = date.fromisoformat(text)
            start = datetime(d.year, d.month, d.day, tzinfo=UTC)
            return int((start + timedelta(days=1 if end_of_day else 0)).timestamp())
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{flag}: {value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time such as 2024-05-01T12:00:00Z"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def resolve_window(since: str | None, until: str | None, first: int, last: int) -> Window:
    """Default: the last 90 days of the history; `since='all'` reaches back to the first commit."""
    end = parse_time(until, "--until", end_of_day=True) if until else last + 1
    if since is None:
        start = end - DEFAULT_DAYS * DAY
    elif since.strip().lower() == "all":
        start = min(first, end - 1)
    else:
        start = parse_time(since, "--since")
    if start >= end:
        raise UsageError(f"--since ({iso(start)}) must be before --until ({iso(end)})")
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
    tiers_mod.thresholds(year)  # fail early on an unknown year
    loaded = load(store, repo_id, resolver(charter))
    h = loaded.history
    deps = deployments_of(loaded, charter)
    # "The last 90 days of the history": the history ends at its last commit or deployment.
    times = h.committed_at + [d.at for d in deps]
    if times:
        first, last = min(times), max(times)
    else:
        first = last = now if now is not None else int(datetime.now(UTC).timestamp())
    window = resolve_window(since, until, first, last)
    head = loaded.index.get(head_sha) if head_sha else None
    head = head if head is not None else _head(loaded, charter)

    incs = [Incident(r["title"], r["started_at"], r["resolved_at"], r["deployment_ref"]) for r in loaded.incidents]
    linked = dora.link(h, deps)
    judged = dora.judge(h, linked, incs, window.until, re.compile(charter.delivery.hotfix_pattern))
    # Organisations with changes in the window, most active first; `committed` counts merges too.
    activity: dict[str, int] = {}
    committed: set[str] = set()
    for c in range(len(h)):
        if h.authored_at[c] in window:
            committed.add(h.org[c])
            if not h.is_merge(c):
                activity[h.org[c]] = activity.get(h.org[c], 0) + 1
    for d in range(len(linked.deployments)):
        if linked.at[d] in window:
            for o in linked.shipped_by_org[d]:
                activity.setdefault(o, 0)
    orgs = sorted(activity, key=lambda o: (-activity[o], o))
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": f"onebar {__version__}",
        "repository": {
            "name": loaded.name,
            "path": loaded.path,
            "head": h.sha[head] if head is not None else None,
            "commits": len(h),
        },
        "window": {
            "since": iso(window.since),
            "until": iso(window.until),
            "days": round((window.until - window.since) / DAY, 2),
        },
        "tiers": {"year": year, "report": tiers_mod.thresholds(year)["report"]},
        "organisations": {o: _org_info(charter, o) for o in orgs},
    }
    data["dora"] = _dora(h, linked, judged, window, orgs, year, bool(incs))
    data["review"] = review.review_matrix(h, window, head)
    know, authors, component = _knowledge(store, loaded, charter, window, head, head_files)
    data["knowledge"] = know
    data["offboarding"], simulate = _offboarding(loaded, charter, window, authors, component, committed)
    data["contributors"] = _contributors(loaded, charter, window)
    data["overlap"] = _overlap(charter, datetime.fromtimestamp(window.until - 1, UTC).date(), orgs[:MAX_ORGS])
    if len(orgs) > MAX_ORGS:
        data["overlap"]["reasons"]["organisations"] = (
            f"only the {MAX_ORGS} most active of {len(orgs)} organisations in the window are compared"
        )
    return Report(data, authors, dict(loaded.who), loaded.aliases, simulate)


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
    report.data["warnings"] = [missing.warning(unreadable)] if unreadable else []
    return report


def _org_info(charter: Charter, org: str) -> dict[str, Any]:
    o = charter.organisations.get(org)
    if o is None:
        return {"name": "not in the charter" if org == UNKNOWN_ORG else org, "kind": None}
    return {"name": o.name or org, "kind": o.kind}


def _head(loaded: Loaded, charter: Charter) -> int | None:
    names = ["HEAD"]
    if charter.project.default_branch:
        names += [charter.project.default_branch, f"refs/heads/{charter.project.default_branch}"]
    names += ["refs/heads/main", "refs/heads/master", "main", "master"]
    for name in names:
        sha = loaded.refs.get(name)
        if sha and sha in loaded.index:
            return loaded.index[sha]
    h = loaded.history
    return max(range(len(h)), key=lambda i: h.committed_at[i]) if len(h) else None


def deployments_of(loaded: Loaded, charter: Charter) -> list[Deployment]:
    """Release tags matching the charter's pattern, plus recorded successful events of its environment.

    A tag on a commit that also has a recorded event is dropped: the event is the real deployment.
    Two tags on one commit are one deployment (the earlier).
    """
    env = charter.delivery.environment
    tag_re = re.compile(charter.delivery.tag_pattern)
    hot_re = re.compile(charter.delivery.hotfix_pattern)
    out: list[Deployment] = []
    evented: set[int] = set()
    for r in loaded.deployments:
        if r["environment"] != env or r["status"] != "success":
            continue
        c = loaded.find(r["sha"]) if r["sha"] else -1
        evented.add(c)
        out.append(Deployment(r["ref"], c, r["deployed_at"], r["source"], env, bool(hot_re.search(r["ref"]))))
    by_commit: dict[int, dict[str, Any]] = {}
    for t in loaded.tags:
        if not tag_re.search(t["name"]):
            continue
        c = loaded.find(t["sha"])
        if c < 0 or c in evented:
            continue
        best = by_commit.get(c)
        if best is None or (t["tagged_at"], t["name"]) < (best["tagged_at"], best["name"]):
            by_commit[c] = t
    for c, t in by_commit.items():
        out.append(Deployment(t["name"], c, t["tagged_at"], "tag", env, bool(hot_re.search(t["name"]))))
    return out


def _dora(
    h: History, linked: dora.Linked, judged: dora.Judged, window: Window, orgs: list[str], year: int, incidents: bool
) -> dict[str, Any]:
    overall = dora.figures(h, linked, judged, window, year=year)
    by_org = {o: dora.figures(h, linked, judged, window, org=o, year=year) for o in orgs}
    trend = {"overall": dora.trend(h, linked, judged, window, year=year)}
    # Trends for the most active organisations only: a drafted charter can hold hundreds.
    trend["by_org"] = {o: dora.trend(h, linked, judged, window, org=o, year=year) for o in orgs[:MAX_ORGS]}
    for t in [trend["overall"], *trend["by_org"].values()]:
        for b in t["series"]:
            b["since"], b["until"] = iso(b["since"]), iso(b["until"])
    deployments = []
    for d, dep in enumerate(linked.deployments):
        if dep.at not in window:
            continue
        changes = linked.shipped[d]
        per_org: dict[str, int] = {}
        for c in changes:
            per_org[h.org[c]] = per_org.get(h.org[c], 0) + 1
        deployments.append(
            {
                "name": dep.name,
                "sha": h.sha[dep.commit] if dep.commit >= 0 else None,
                "at": iso(dep.at),
                "source": dep.source,
                "changes": len(changes),
                "changes_by_org": dict(sorted(per_org.items())),
                "failed": judged.dep_failed[d],
                "rework": judged.dep_rework[d],
                "restore_hours": judged.dep_restore_hours[d],
            }
        )
    return {
        "overall": overall,
        "by_org": by_org,
        "trend": trend,
        "deployments": deployments,
        "time_to_restore_source": "incidents" if incidents else "git",
        "attribution": "per change: each commit counts for its own author's organisation",
    }


def _knowledge(
    store: Store, loaded: Loaded, charter: Charter, window: Window, head: int | None, head_files: set[str] | None
) -> tuple[dict[str, Any], dict[str, frozenset[str]], dict[str, str]]:
    h = loaded.history
    changes = load_file_changes(store, loaded, window.until)
    ancestors = _ancestors(h, _head_at(h, head, window.until))
    history: dict[str, list[knowledge.Touch]] = {}
    replay: list[tuple[str, str]] = []
    for i, path, status in changes:
        if i not in ancestors:
            continue
        replay.append((path, status))
        if h.kind[i] in (BOT, AGENT):
            continue  # knowledge lives in people: a bot's or an agent's change makes nobody an author
        history.setdefault(path, []).append((h.author[i], status))
    use_head = head_files is not None and head is not None and h.committed_at[head] < window.until
    alive = head_files if use_head and head_files is not None else knowledge.alive_files(replay)
    touched = {p for p, _ in replay}
    files = sorted(f for f in alive if f in touched)
    authors = {f: knowledge.file_authors(history.get(f, [])) for f in files}
    tf = knowledge.truck_factor(authors)
    org_of = {k: w.org for k, w in loaded.who.items()}
    label = {k: w.label for k, w in loaded.who.items()}
    component = _components(charter, files)
    comps: dict[str, Any] = {}
    for cid, cauthors in sorted(knowledge.group(authors, component.get).items()):
        ctf = knowledge.truck_factor(cauthors)
        per_org = _files_by_org(cauthors, org_of)
        corgs = sorted(per_org)
        comps[cid] = {
            "files": len(cauthors),
            "truck_factor": ctf.value,
            "truck_factor_people": [_person(p, org_of, label) for p in ctf.people],
            "orgs": corgs,
            "files_by_org": per_org,
            "single_org": len(corgs) == 1,
            "orphan_files": ctf.orphans_at_start,
        }
    reasons: dict[str, str] = {}
    if not files:
        reasons["truck_factor"] = "no file with a known history at the end of the window"
    if not charter.components:
        reasons["components"] = "the charter defines no components"
    by_author: dict[str, int] = {}
    for people in authors.values():
        for p in people:
            by_author[p] = by_author.get(p, 0) + 1
    top = sorted(by_author.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    out = {
        "model": "doa-avelino-2016",
        "files": len(files),
        "orphan_files": tf.orphans_at_start,
        "truck_factor": tf.value if files else None,
        "truck_factor_people": [_person(p, org_of, label) for p in tf.people],
        "top_authors": [{**_person(p, org_of, label), "files": n} for p, n in top],
        "files_by_org": _files_by_org(authors, org_of),
        "components": comps,
        "single_org_components": [c for c, v in comps.items() if v["single_org"]],
        "reasons": reasons,
    }
    return out, authors, component


def _components(charter: Charter, files: list[str]) -> dict[str, str]:
    """Each file's component (the first whose paths match it); files in no component are left out."""
    specs = [(cid, pathspec.GitIgnoreSpec.from_lines(c.paths)) for cid, c in charter.components.items()]
    out: dict[str, str] = {}
    for f in files:
        cid = next((cid for cid, spec in specs if spec.match_file(f)), None)
        if cid is not None:
            out[f] = cid
    return out


def _count_by_component(files: Iterable[str], component: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in files:
        c = component.get(f)
        if c is not None:
            out[c] = out.get(c, 0) + 1
    return out


def _files_by_org(authors: dict[str, frozenset[str]], org_of: dict[str, str]) -> dict[str, int]:
    """How many files each organisation authors (a file with two authors of one organisation counts once)."""
    out: dict[str, int] = {}
    for people in authors.values():
        for o in {org_of.get(p, UNKNOWN_ORG) for p in people}:
            out[o] = out.get(o, 0) + 1
    return dict(sorted(out.items()))


def _person(p: str, org_of: dict[str, str], label: dict[str, str]) -> dict[str, str]:
    return {"person": p, "name": label.get(p, p), "org": org_of.get(p, UNKNOWN_ORG)}


def _head_at(h: History, head: int | None, until: int) -> int | None:
    """The mainline commit that was HEAD at `until` (walking first parents back from HEAD)."""
    c = head
    while c is not None and h.committed_at[c] >= until:
        c = h.parents[c][0] if h.parents[c] else None
    return c


def _ancestors(h: History, head: int | None) -> set[int]:
    if head is None:
        return set()
    seen = {head}
    stack = [head]
    while stack:
        for p in h.parents[stack.pop()]:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _offboarding(
    loaded: Loaded,
    charter: Charter,
    window: Window,
    authors: dict[str, frozenset[str]],
    component: dict[str, str],
    committed: set[str],
) -> tuple[dict[str, Any], Any]:
    org_of = {k: w.org for k, w in loaded.who.items()}
    everyone = {p for people in authors.values() for p in people}
    comp_files = _count_by_component(authors, component)
    total = len(authors)

    def summary(lost: list[str]) -> dict[str, Any]:
        comps = _count_by_component(lost, component)
        return {
            "files_lost": len(lost),
            "files_lost_share": round(len(lost) / total, 4) if total else None,
            "components": {
                c: {"files_lost": n, "files_lost_share": round(n / comp_files[c], 4)} for c, n in sorted(comps.items())
            },
            "files": lost[:TOP_FILES],
        }

    def simulate(leaving: set[str]) -> dict[str, Any]:
        return summary(knowledge.files_lost(authors, leaving))

    by_org_files = knowledge.sole_owners(authors, lambda p: org_of.get(p, UNKNOWN_ORG))
    # Every organisation that authors a file or committed in the window (a drafted charter can
    # hold hundreds of organisations that touched nothing still alive).
    people_of: dict[str, list[str]] = {}
    for p in sorted(everyone):
        people_of.setdefault(org_of.get(p, UNKNOWN_ORG), []).append(p)
    by_org = {
        org: {"people": people_of.get(org, []), **summary(by_org_files.get(org, []))}
        for org in sorted(set(people_of) | committed)
    }
    by_person_files = knowledge.sole_owners(authors, lambda p: p)
    by_person = {}
    until_day = datetime.fromtimestamp(window.until - 1, UTC).date()
    for pid, person in sorted(charter.people.items()):
        if person.contract_end is None or person.contract_end > until_day:
            continue
        by_person[pid] = {
            "org": person.org,
            "contract_end": person.contract_end.isoformat(),
            "ended": person.contract_end < until_day,
            **summary(by_person_files.get(pid, [])),
        }
    # Knowledge already gone: every person whose contract ended before the window's end, together.
    departed = sorted(pid for pid, v in by_person.items() if v["ended"])
    already = {"people": departed, **simulate(set(departed))}
    return {"by_org": by_org, "by_person": by_person, "already_lost": already}, simulate


def offboard(report: Report, who: str) -> dict[str, Any]:
    """The simulated departure of one organisation or one person (charter id, e-mail or name)."""
    off = report.data["offboarding"]
    if who in off["by_org"]:
        return {"kind": "organisation", "name": who, **off["by_org"][who]}
    needle = who.strip().lower()
    key = who if who in report.people else report.aliases.get(needle)
    if key is None:
        key = next((k for k, w in report.people.items() if w.label.lower() == needle), None)
    if key is not None:
        w = report.people[key]
        return {"kind": "person", "name": w.label, "person": key, "org": w.org, **report.simulate({key})}
    known = sorted(off["by_org"]) + sorted(k for k, w in report.people.items() if w.kind == "human")
    raise NotFoundError(
        f"{who!r} is neither an organisation nor a person of this repository",
        hint="known: " + ", ".join(known[:12]) + (", ..." if len(known) > 12 else ""),
    )


def _contributors(loaded: Loaded, charter: Charter, window: Window) -> dict[str, Any]:
    contracts = {
        pid: seams.Contract(p.contract_start, p.contract_end)
        for pid, p in charter.people.items()
        if p.contract_start or p.contract_end
    }
    labels = {k: w.label for k, w in loaded.who.items()}
    out = seams.contributors(loaded.history, window, contracts=contracts, labels=labels)
    for row in out["unknown"] + out["outside_contract"]:
        row["first"], row["last"] = iso(row["first"]), iso(row["last"])
    return out


def overlap_for(charter: Charter, on: str | None = None) -> dict[str, Any]:
    """Overlap on the week of `on` (a date; default today) from the charter alone."""
    if on is None:
        ref = datetime.now(UTC).date()
    else:
        try:
            ref = date.fromisoformat(on.strip())
        except ValueError:
            raise UsageError(f"--date: {on!r} is not a date; use YYYY-MM-DD") from None
    return _overlap(charter, ref)


def _overlap(charter: Charter, ref: date, orgs: list[str] | None = None) -> dict[str, Any]:
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
    out = overlap_mod.overlap(schedules, ref, charter.overlap.min_hours)
    out["reasons"] = {} if len(out["organisations"]) > 1 else {"pairs": "fewer than two organisations with people"}
    return out
