"""Rules over the diff alone: tests with code, docs with interfaces, size, secrets, the bar itself."""

from __future__ import annotations

import re
from functools import lru_cache

from onebar.charter import Charter
from onebar.gate.match import matches
from onebar.gate.model import Change, Evidence, FileChange, Violation
from onebar.gate.rules.base import Outcome, examples


def _live(change: Change) -> list[FileChange]:
    return [f for f in change.files if not f.deleted]


def code_has_tests(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.tests
    live = _live(change)
    tests = [f.path for f in live if matches(s.tests, f.path)]
    code = [
        f.path
        for f in live
        if matches(s.code, f.path) and not matches(s.tests, f.path) and not matches(s.ignore, f.path)
    ]
    if not code:
        return Outcome("pass", f"no code file changed (code paths: {', '.join(s.code)})")
    if tests:
        return Outcome("pass", f"{len(code)} code file(s) and {len(tests)} test file(s) changed")
    return Outcome(
        "fail",
        f"{len(code)} code file(s) changed ({examples(code)}) and no test file",
        f"add or update a test under {', '.join(s.tests[:3])}",
        violations=tuple(Violation("code changed without a test change", p) for p in code[:50]),
    )


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def docs_with_interface(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s, code_globs, test_globs = charter.done.docs, charter.done.tests.code, charter.done.tests.tests
    pattern = _compiled(tuple(s.patterns))
    interface: list[Violation] = []
    for f in change.files:
        if matches(s.docs, f.path):
            continue
        if matches(s.interface, f.path):
            interface.append(Violation("interface path changed", f.path))
            continue
        if pattern is None or not matches(code_globs, f.path) or matches(test_globs, f.path):
            continue
        hit = next(((n, t) for n, t in f.added.items() if pattern.search(t)), None)
        if hit:
            interface.append(Violation(f"public definition added or changed: {hit[1].strip()[:80]}", f.path, hit[0]))
        elif any(pattern.search(t) for t in f.removed):
            interface.append(Violation("public definition removed or changed", f.path))
    docs = [f.path for f in _live(change) if matches(s.docs, f.path)]
    if not interface:
        return Outcome("pass", "no public interface changed")
    if docs:
        return Outcome("pass", f"{len(interface)} interface change(s) with {len(docs)} doc file(s)")
    return Outcome(
        "fail",
        f"public interface changed in {examples([v.path or '' for v in interface])} and no doc file changed",
        f"document the change under {', '.join(s.docs[:3])}",
        violations=tuple(interface[:50]),
    )


def size(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.size
    counted = [f for f in change.files if not matches(s.exclude, f.path)]
    lines = sum(f.added_count + f.removed_count for f in counted)
    saw = f"{len(counted)} file(s), {lines} line(s) changed (limits {s.max_files} files, {s.max_lines} lines)"
    if lines <= s.max_lines and len(counted) <= s.max_files:
        return Outcome("pass", saw)
    return Outcome(
        "fail",
        saw,
        "split the change into smaller ones that each keep the tree working",
    )


def secrets(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    from onebar.gate.rules.secretscan import scan_added

    s = charter.done.secrets
    files = [f for f in change.files if f.added and not f.binary and not matches(s.exclude, f.path)]
    found = scan_added(files)
    lines = sum(len(f.added) for f in files)
    if not found:
        return Outcome("pass", f"no secret in {lines} added line(s)")
    return Outcome(
        "fail",
        f"{len(found)} possible secret(s) in added lines",
        "remove the secret, rotate it, and read it from the environment or a secret store",
        violations=tuple(Violation(f"possible secret: {kind}", p, n) for p, n, kind in found),
    )


def charter_done(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.charter
    if change.charter_after_error:
        return Outcome(
            "fail",
            f"the charter at head is invalid: {change.charter_after_error}",
            "fix onebar.toml so that `onebar check` passes",
        )
    if change.done_before == change.done_after:
        return Outcome("pass", "the definition of done is unchanged")
    if not change.charter_at_base:
        # Adoption: there was no bar to loosen; the new charter's bar applies from the next change on.
        return Outcome("pass", "this change introduces the charter; its [done] applies from now on")
    leads = s.approvers or sorted({o.lead for o in charter.organisations.values() if o.lead})
    needed = s.min_approvals or len(leads)
    if not leads:
        return Outcome(
            "fail",
            "the definition of done changed and the charter names no lead",
            "name a lead for each organisation (or [done.charter] approvers) at the base",
        )
    if evidence.reviews is None:
        return Outcome("not_evaluated", "the definition of done changed; no reviews were given", "pass --reviews FILE")
    approved = {r.reviewer.person for r in evidence.reviews if r.state == "approved"}
    got = [p for p in leads if p in approved]
    missing = [p for p in leads if p not in approved]
    saw = f"the definition of done changed; approved by {len(got)} of {len(leads)} lead(s) ({needed} needed)"
    if len(got) >= needed:
        return Outcome("pass", saw)
    return Outcome(
        "fail",
        saw,
        f"an approval from {examples(missing)}",
        violations=(Violation("[done] changed without the leads' approval", change.charter_path),),
    )
