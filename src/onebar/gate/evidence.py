"""Parsers for the gate's evidence files: coverage (Cobertura, LCOV, JaCoCo) and SARIF 2.1.0.

XML goes through defusedxml (reports come from CI jobs that a change controls). Every unusable
input raises EvidenceError naming the file and, where known, the line or field.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from onebar.errors import EvidenceError, Location
from onebar.gate.model import LEVELS, Coverage, FileCoverage, Finding


def read_text(path: Path, kind: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EvidenceError(f"{kind} file not found", location=Location(str(path))) from None
    except OSError as exc:
        raise EvidenceError(f"cannot read {kind} file: {exc.strerror}", location=Location(str(path))) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvidenceError(f"{kind} file is not UTF-8 text (byte {exc.start})", location=Location(str(path))) from None


def load_json(path: Path, kind: str) -> Any:
    """The JSON document in an evidence file; EvidenceError names the file and line when it is not JSON."""
    text = read_text(path, kind)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"{kind} is not valid JSON: {exc.msg}", location=Location(str(path), exc.lineno)) from None


@lru_cache(maxsize=8)
def _bases(root: Path) -> tuple[str, ...]:
    return tuple(dict.fromkeys([root.as_posix(), root.resolve().as_posix()]))


def relativise(raw: str, root: Path) -> str:
    """A report's path as a repository-relative POSIX path when it lies under `root`, else as given."""
    raw = raw.replace("\\", "/")
    p = PurePosixPath(raw)
    if p.is_absolute():
        for base in _bases(root):
            try:
                return p.relative_to(base).as_posix()
            except ValueError:
                continue
        return p.as_posix()
    return p.as_posix().removeprefix("./")


# --- coverage ---------------------------------------------------------------------------------------


def parse_coverage(path: Path, root: Path) -> Coverage:
    """Cobertura XML, JaCoCo XML or LCOV, told apart by content rather than file name."""
    text = read_text(path, "coverage")
    if not text.strip():
        raise EvidenceError("coverage file is empty", location=Location(str(path)))
    if text.lstrip().startswith("<"):
        root_el = _parse_xml(text, path, "coverage")
        if root_el.tag == "coverage" and root_el.find("packages") is not None:
            return _cobertura(root_el, path, root)
        if root_el.tag == "coverage" and root_el.find("sources") is not None:
            return _cobertura(root_el, path, root)
        if root_el.tag == "report":
            return _jacoco(root_el, path)
        raise EvidenceError(
            f"unknown coverage XML (root element <{root_el.tag}>)",
            location=Location(str(path), 1),
            hint="give Cobertura XML (`coverage xml`), JaCoCo XML or LCOV (`coverage lcov`)",
        )
    return _lcov(text, path, root)


def _parse_xml(text: str, path: Path, kind: str) -> Element:
    try:
        root: Element = SafeET.fromstring(text)  # defusedxml is untyped; it returns an ElementTree element
        return root
    except ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise EvidenceError(
            f"{kind} XML is malformed: {str(exc).split(':')[0]} (column {col})", location=Location(str(path), line)
        ) from None
    except DefusedXmlException as exc:
        raise EvidenceError(f"{kind} XML refused as unsafe: {exc}", location=Location(str(path))) from None


def _int(value: str | None, path: Path, field: str) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EvidenceError(f"expected an integer, got {value!r}", location=Location(str(path), None, field)) from None


def _cobertura(el: Element, path: Path, root: Path) -> Coverage:
    sources = [(s.text or "").strip() for s in el.iter("source") if (s.text or "").strip()]
    files: dict[str, dict[int, int]] = {}
    for cls in el.iter("class"):
        filename = cls.get("filename")
        if not filename:
            raise EvidenceError("a <class> has no filename", location=Location(str(path), None, "class@filename"))
        rel = _cobertura_path(filename, sources, root)
        lines = files.setdefault(rel, {})
        for line in cls.iter("line"):
            field = f"class[@filename={filename!r}]/lines/line"
            n = _int(line.get("number"), path, f"{field}@number")
            hits = _int(line.get("hits"), path, f"{field}@hits")
            lines[n] = max(hits, lines.get(n, 0))
    return Coverage(str(path), tuple(FileCoverage(p, lines) for p, lines in files.items()))


def _cobertura_path(filename: str, sources: list[str], root: Path) -> str:
    if PurePosixPath(filename.replace("\\", "/")).is_absolute():
        return relativise(filename, root)
    for src in sources:
        candidate = PurePosixPath(src.replace("\\", "/")) / filename.replace("\\", "/")
        if candidate.is_absolute():
            rel = relativise(candidate.as_posix(), root)
            if not PurePosixPath(rel).is_absolute():
                return rel
        else:
            return candidate.as_posix().removeprefix("./")
    return relativise(filename, root)


def _jacoco(el: Element, path: Path) -> Coverage:
    files: list[FileCoverage] = []
    for pkg in el.iter("package"):
        for sf in pkg.iter("sourcefile"):
            name = f"{pkg.get('name', '')}/{sf.get('name', '')}".lstrip("/")
            lines: dict[int, int] = {}
            for line in sf.iter("line"):
                field = f"package[@name={pkg.get('name')!r}]/sourcefile[@name={sf.get('name')!r}]/line"
                n = _int(line.get("nr"), path, f"{field}@nr")
                lines[n] = _int(line.get("ci"), path, f"{field}@ci")
            files.append(FileCoverage(name, lines))
    return Coverage(str(path), tuple(files))


def _lcov(text: str, path: Path, root: Path) -> Coverage:
    files: dict[str, dict[int, int]] = {}
    current: dict[int, int] | None = None
    seen_record = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(":")
        if key == "SF":
            current = files.setdefault(relativise(value, root), {})
            seen_record = True
        elif key == "DA":
            if current is None:
                raise EvidenceError("DA line outside a record (no SF: before it)", location=Location(str(path), number))
            parts = value.split(",")
            if len(parts) < 2:
                raise EvidenceError(f"DA needs 'line,hits', got {value!r}", location=Location(str(path), number, "DA"))
            n = _int(parts[0], path, f"line {number}: DA")
            try:
                hits = int(float(parts[1]))  # some generators write hits as 1.0
            except ValueError:
                raise EvidenceError(
                    f"DA hits must be a number, got {parts[1]!r}", location=Location(str(path), number, "DA")
                ) from None
            current[n] = max(hits, current.get(n, 0))
        elif line == "end_of_record":
            current = None
        elif key not in {"TN", "FN", "FNDA", "FNF", "FNH", "BRDA", "BRF", "BRH", "LH", "LF", "VER", "FNL", "FNA"}:
            raise EvidenceError(
                f"not LCOV: unexpected {line[:40]!r}",
                location=Location(str(path), number),
                hint="give Cobertura XML, JaCoCo XML or LCOV",
            )
    if not seen_record:
        raise EvidenceError("LCOV file has no SF: record", location=Location(str(path)))
    return Coverage(str(path), tuple(FileCoverage(p, lines) for p, lines in files.items()))


# --- SARIF ------------------------------------------------------------------------------------------


def parse_sarif(path: Path, root: Path) -> list[Finding]:
    """Results of every run of a SARIF 2.1.0 log, with level resolved (result, then rule default, then warning)."""
    log = load_json(path, "SARIF")
    loc = str(path)
    if not isinstance(log, dict):
        raise EvidenceError("SARIF must be a JSON object", location=Location(loc, 1))
    version = log.get("version")
    if version != "2.1.0":
        raise EvidenceError(
            f"SARIF version {version!r} is not supported", location=Location(loc, None, "version"), hint="need 2.1.0"
        )
    runs = log.get("runs")
    if not isinstance(runs, list):
        raise EvidenceError("SARIF has no runs array", location=Location(loc, None, "runs"))
    findings: list[Finding] = []
    for r, run in enumerate(runs):
        field = f"runs[{r}]"
        driver = _get(run, ("tool", "driver"))
        if not isinstance(driver, dict) or not isinstance(driver.get("name"), str):
            raise EvidenceError(
                "run has no tool.driver.name", location=Location(loc, None, f"{field}.tool.driver.name")
            )
        tool = driver["name"]
        rules: list[Any] = driver["rules"] if isinstance(driver.get("rules"), list) else []
        bases = run.get("originalUriBaseIds") if isinstance(run.get("originalUriBaseIds"), dict) else {}
        results = run.get("results", [])
        if not isinstance(results, list):
            raise EvidenceError("results must be an array", location=Location(loc, None, f"{field}.results"))
        for i, res in enumerate(results):
            rfield = f"{field}.results[{i}]"
            if not isinstance(res, dict):
                raise EvidenceError("result must be an object", location=Location(loc, None, rfield))
            if res.get("suppressions") or res.get("kind", "fail") not in ("fail", "review", "open"):
                continue
            rule_id, level = _rule_and_level(res, rules, loc, rfield)
            message = _get(res, ("message", "text"))
            if not isinstance(message, str):
                message = rule_id
            fpath, line = _location(res, bases, root)
            findings.append(Finding(tool, rule_id, level, message, fpath, line, loc))
    return findings


def _get(obj: Any, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _rule_and_level(res: dict[str, Any], rules: list[Any], loc: str, field: str) -> tuple[str, str]:
    rule_id = res.get("ruleId") or _get(res, ("rule", "id"))
    index = res.get("ruleIndex", _get(res, ("rule", "index")))
    rule = rules[index] if isinstance(index, int) and 0 <= index < len(rules) else None
    if rule is None and rule_id:
        rule = next((r for r in rules if isinstance(r, dict) and r.get("id") == rule_id), None)
    if not rule_id and isinstance(rule, dict):
        rule_id = rule.get("id")
    level = res.get("level") or _get(rule, ("defaultConfiguration", "level")) or "warning"
    if level not in LEVELS:
        raise EvidenceError(
            f"unknown level {level!r}; SARIF levels are {', '.join(LEVELS)}",
            location=Location(loc, None, f"{field}.level"),
        )
    return str(rule_id or "(no rule id)"), level


def _location(res: dict[str, Any], bases: dict[str, Any], root: Path) -> tuple[str | None, int | None]:
    locations = res.get("locations")
    if not isinstance(locations, list) or not locations:
        return None, None
    phys = _get(locations[0], ("physicalLocation",))
    uri = _get(phys, ("artifactLocation", "uri"))
    if not isinstance(uri, str):
        return None, None
    base_id = _get(phys, ("artifactLocation", "uriBaseId"))
    base_uri = _get(bases, (base_id, "uri")) if isinstance(base_id, str) else None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        raw = unquote(parsed.path)
    elif parsed.scheme:
        raw = uri
    else:
        raw = unquote(uri)
        if isinstance(base_uri, str) and urlparse(base_uri).scheme == "file":
            raw = (PurePosixPath(unquote(urlparse(base_uri).path)) / raw).as_posix()
    line = _get(phys, ("region", "startLine"))
    return relativise(raw, root), line if isinstance(line, int) else None
