"""Rules over evidence files: coverage, SARIF findings, dependency licences."""

from __future__ import annotations

from onebar.charter import Charter
from onebar.gate.licenses import LicenceCheck, check_dependency
from onebar.gate.match import matches
from onebar.gate.model import LEVELS, Change, Evidence, FileCoverage, Violation
from onebar.gate.rules.base import Outcome, examples, not_given


class ReportIndex:
    """Finds a report's entry for a repository path: exact, else the longest suffix match at a path
    boundary either way (reports name files relative to a source root; JaCoCo by package)."""

    def __init__(self, files: tuple[FileCoverage, ...]):
        self.exact = {f.path: f for f in files}
        self.by_suffix: dict[str, FileCoverage] = {}  # every proper suffix of a report path -> its longest owner
        for f in files:
            parts = f.path.split("/")
            for i in range(1, len(parts)):
                key = "/".join(parts[i:])
                if key not in self.by_suffix or len(f.path) > len(self.by_suffix[key].path):
                    self.by_suffix[key] = f

    def find(self, path: str) -> FileCoverage | None:
        if path in self.exact:
            return self.exact[path]
        parts = path.split("/")
        for i in range(1, len(parts)):  # longest suffix of the repository path that the report names
            hit = self.exact.get("/".join(parts[i:]))
            if hit is not None:
                return hit
        return self.by_suffix.get(path)  # the report names a longer path ending in this one


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def coverage_total(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.coverage
    if evidence.coverage is None:
        return not_given("coverage report", "--coverage FILE")
    files = [f for f in evidence.coverage.files if not matches(s.ignore, f.path)]
    covered = sum(1 for f in files for h in f.lines.values() if h > 0)
    total = sum(len(f.lines) for f in files)
    if total == 0:
        return Outcome(
            "fail",
            "the coverage report measures no line",
            "run the tests under coverage and pass the report it writes",
        )
    pct = 100.0 * covered / total
    saw = f"{pct:.1f}% of {total} lines covered (minimum {s.min_total:g}%)"
    if pct + 1e-9 >= s.min_total:
        return Outcome("pass", saw)
    need = int(-(-(s.min_total * total / 100) // 1)) - covered
    return Outcome("fail", saw, f"cover about {need} more line(s)")


def _is_code(path: str, charter: Charter) -> bool:
    """Code as the definition of done names it: under `[done.tests] code`, not a test, not documentation."""
    done = charter.done
    return matches(done.tests.code, path) and not matches(done.tests.tests, path) and not matches(done.docs.docs, path)


def coverage_changed(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.coverage
    if evidence.coverage is None:
        return not_given("coverage report", "--coverage FILE")
    index = ReportIndex(evidence.coverage.files)
    covered = measurable = 0
    uncovered: list[Violation] = []
    unmeasured: list[str] = []
    for f in change.files:
        if f.deleted or not f.added or matches(s.ignore, f.path):
            continue
        fc = index.find(f.path)
        if fc is None:
            if _is_code(f.path, charter):  # a changed README is not missing from a coverage report
                unmeasured.append(f.path)
            continue
        missed = []
        for n in f.added:
            if n in fc.lines:
                measurable += 1
                if fc.lines[n] > 0:
                    covered += 1
                else:
                    missed.append(n)
        if missed:
            missed.sort()
            uncovered.append(Violation(f"line(s) {_ranges(missed)} not covered", f.path, missed[0]))
    note = ""
    if unmeasured:
        note = f"; {len(unmeasured)} changed code file(s) not in the report ({examples(unmeasured, 5)})"
    if measurable == 0:
        return Outcome("pass", f"no changed line is measured by the report{note}")
    if measurable < s.min_changed_lines:
        return Outcome(
            "pass",
            f"{measurable} measurable changed line(s), below min_changed_lines={s.min_changed_lines}{note}",
        )
    pct = 100.0 * covered / measurable
    saw = f"{pct:.1f}% of {measurable} changed lines covered (minimum {s.min_changed:g}%){note}"
    if pct + 1e-9 >= s.min_changed:
        return Outcome("pass", saw)
    return Outcome("fail", saw, "add tests that run the uncovered changed lines", violations=tuple(uncovered))


def findings(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.findings
    if evidence.findings is None:
        return not_given("SARIF file", "--sarif FILE")
    floor = LEVELS.index(s.level)
    added = {f.path: f.added for f in change.files if not f.deleted}
    hits: list[Violation] = []
    for fd in evidence.findings:
        if LEVELS.index(fd.level) < floor:
            continue
        if fd.path and matches(s.ignore, fd.path):
            continue
        if s.scope != "anywhere":
            if fd.path not in added:
                continue
            if s.scope == "changed_lines" and (fd.line is None or fd.line not in added[fd.path]):
                continue
        hits.append(Violation(f"{fd.tool} {fd.rule_id} ({fd.level}): {fd.message}", fd.path, fd.line))
    where = {"changed_lines": "on changed lines", "changed_files": "in changed files", "anywhere": "anywhere"}[s.scope]
    saw = f"{len(evidence.findings)} finding(s) in total; {len(hits)} at level {s.level} or above {where}"
    if not hits:
        return Outcome("pass", saw)
    return Outcome("fail", saw, "fix the findings listed (or correct the tool's configuration)", violations=tuple(hits))


def licenses(change: Change, evidence: Evidence, charter: Charter) -> Outcome:
    s = charter.done.licenses
    if evidence.dependencies is None:
        return not_given("SBOM or pip-licenses file", "--sbom FILE or --licenses FILE")
    ignored = {p.lower() for p in s.ignore_packages}
    overrides = {k.lower(): v for k, v in s.packages.items()}
    bad: list[tuple[str, LicenceCheck]] = []
    checked = 0
    for dep in evidence.dependencies:
        if dep.name.lower() in ignored:
            continue
        checked += 1
        result = check_dependency(dep.licenses, s.allow, overrides.get(dep.name.lower()))
        if not result.ok:
            bad.append((f"{dep.name} {dep.version or ''}".strip(), result))
    saw = f"{checked} dependencies checked against {len(s.allow)} allowed licence(s)"
    if not bad:
        return Outcome("pass", saw)
    return Outcome(
        "fail",
        f"{saw}; {len(bad)} not allowed ({examples([n for n, _ in bad])})",
        "replace the dependency, or conclude its licence in [done.licenses] packages after a legal review",
        violations=tuple(Violation(f"{name}: {res.reason}") for name, res in bad),
    )
