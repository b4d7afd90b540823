"""Machine-readable renderings: JSON (docs/gate.schema.json), Markdown, SARIF 2.1.0, JUnit XML."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from onebar.gate.model import RuleResult, Verdict

SCHEMA_VERSION = 1
MARKER = "<!-- onebar-gate -->"  # the PR comment that carries it is found and edited, never duplicated
HELP_URI = "https://github.com/onebar/onebar/blob/main/docs/gate.md"
_ICON = {"pass": "✅", "fail": "❌", "not_evaluated": "⚪", "disabled": "➖"}


def to_dict(verdict: Verdict) -> dict[str, Any]:
    """The verdict as JSON-ready data, version SCHEMA_VERSION (docs/gate.schema.json)."""
    counts = {
        s: sum(1 for r in verdict.results if r.status == s) for s in ("pass", "fail", "not_evaluated", "disabled")
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "onebar", "version": verdict.version},
        "status": verdict.status,
        "exit_code": verdict.exit_code,
        "mode": verdict.mode,
        "base": verdict.base,
        "head": verdict.head,
        "charter": verdict.charter,
        "author": asdict(verdict.author) if verdict.author else None,
        "change": {
            "files": verdict.files_changed,
            "lines_added": verdict.lines_added,
            "lines_removed": verdict.lines_removed,
        },
        "summary": counts,
        "rules": [
            {
                "id": r.id,
                "title": r.title,
                "status": r.status,
                "mode": r.mode,
                "saw": r.saw,
                "fix": r.fix,
                "violations": [{"message": v.message, "path": v.path, "line": v.line} for v in r.violations],
            }
            for r in verdict.results
        ],
    }


def render_json(verdict: Verdict) -> str:
    return json.dumps(to_dict(verdict), indent=2, ensure_ascii=False) + "\n"


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\*_<>|[]"})


def _md(text: str, limit: int = 300) -> str:
    """Safe in a table cell and bounded (a PR comment must stay under GitHub's 65,536 characters).

    Globs such as `tests/**` must not turn into bold text: Markdown specials are escaped outside
    code spans, which are kept as written.
    """
    text = text.replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: treat the whole text as plain
        parts = [text.replace("`", "'")]
    return "`".join(p.translate(_MD_SPECIAL) if i % 2 == 0 else p.replace("|", "\\|") for i, p in enumerate(parts))


def render_markdown(verdict: Verdict, max_violations: int = 20) -> str:
    """One PR comment: a hidden marker, the verdict, a table of rules, failures' places folded away."""
    icon = "❌" if verdict.status == "fail" else "✅"
    if verdict.status == "fail" and verdict.mode == "evaluate":
        icon = "⚠️"
    author = verdict.author
    who = f"{author.label} ({author.org or 'organisation unknown'})" if author else "unknown"
    lines = [
        MARKER,
        f"### {icon} onebar gate: {verdict.status}" + (" (evaluate mode)" if verdict.mode == "evaluate" else ""),
        "",
        f"`{verdict.base[:12]}..{verdict.head[:12]}` · {verdict.files_changed} file(s), +{verdict.lines_added} "
        f"−{verdict.lines_removed} · charter `{_md(verdict.charter)}` · author {_md(who)} (recorded, not judged)",
        "",
        "| | rule | saw | to pass |",
        "|---|---|---|---|",
    ]
    for r in verdict.results:
        mark = "⚠️" if r.status == "fail" and r.mode == "evaluate" else _ICON[r.status]
        lines.append(f"| {mark} | `{r.id}` | {_md(r.saw)} | {_md(r.fix) if r.status != 'pass' else ''} |")
    for r in verdict.results:
        if r.status != "fail" or not r.violations:
            continue
        lines += ["", f"<details><summary><code>{r.id}</code>: {len(r.violations)} place(s)</summary>", ""]
        for v in r.violations[:max_violations]:
            where = f"`{v.path}:{v.line}` " if v.path and v.line else (f"`{v.path}` " if v.path else "")
            lines.append(f"- {where}{_md(v.message)}")
        if len(r.violations) > max_violations:
            lines.append(f"- … and {len(r.violations) - max_violations} more (see the SARIF or JSON output)")
        lines += ["", "</details>"]
    lines += ["", "<sub>The same rules apply to every author; see docs/gate.md.</sub>", ""]
    return "\n".join(lines)


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _result(r: RuleResult, index: int, message: str, path: str, line: int | None) -> dict[str, Any]:
    region = {"startLine": line} if line else {"startLine": 1}
    return {
        "ruleId": r.id,
        "ruleIndex": index,
        "level": "error" if r.mode == "enforce" else "warning",
        "message": {"text": f"{message} — {r.fix}" if r.fix else message},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": quote(path), "uriBaseId": "%SRCROOT%"}, "region": region}}
        ],
        # The place is part of the identity: two secrets in one file are two alerts, not one.
        "partialFingerprints": {"onebarGate/v2": _fingerprint(r.id, path, line, message)},
    }


def render_sarif(verdict: Verdict) -> str:
    """SARIF 2.1.0 for code scanning: one result per place a failing rule names (the charter if none)."""
    charter_file = verdict.charter.split("@")[0] if "@" in verdict.charter else "onebar.toml"
    rules = [
        {
            "id": r.id,
            "name": r.id.replace(".", "_"),
            "shortDescription": {"text": r.title},
            "helpUri": f"{HELP_URI}#{r.id.replace('.', '')}",
            "defaultConfiguration": {"level": "error"},
        }
        for r in verdict.results
    ]
    results: list[dict[str, Any]] = []
    for i, r in enumerate(verdict.results):
        if r.status != "fail":
            continue
        located = [v for v in r.violations if v.path]
        if not located:
            results.append(_result(r, i, r.saw, charter_file, None))
        for v in located:
            results.append(_result(r, i, v.message, v.path or charter_file, v.line))
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": "onebar", "version": verdict.version, "informationUri": HELP_URI, "rules": rules}
                },
                "automationDetails": {"id": "onebar-gate/"},
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the repository root"}}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render_junit(verdict: Verdict) -> str:
    """JUnit XML: each rule a test case; failures fail, rules not evaluated or disabled are skipped."""
    suite = ET.Element("testsuite", name="onebar gate", tests=str(len(verdict.results)))
    failures = skipped = 0
    for r in verdict.results:
        case = ET.SubElement(suite, "testcase", classname="onebar.gate", name=r.id)
        if r.status == "fail":
            failures += 1
            prefix = "[evaluate mode] " if r.mode == "evaluate" else ""
            el = ET.SubElement(case, "failure", message=prefix + r.saw, type=r.id)
            detail = [f"to pass: {r.fix}"] + [
                f"{v.path or ''}{':' + str(v.line) if v.line else ''} {v.message}".strip() for v in r.violations
            ]
            el.text = "\n".join(detail)
        elif r.status in ("not_evaluated", "disabled"):
            skipped += 1
            ET.SubElement(case, "skipped", message=f"{r.status}: {r.saw}")
        else:
            ET.SubElement(case, "system-out").text = r.saw
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", name="onebar", tests=str(len(verdict.results)), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
