"""Benchmark: `onebar gate` on a 1,000-file change (target: well under 2 s).

    python bench/bench_gate.py [--files 1000] [--lines 20] [--runs 5]

Builds a real git repository in a temporary directory: a base commit of Python modules and a head
commit that changes FILES files (nine in ten are modules gaining LINES lines each, one in ten tests), then
times the whole gate, in process (`evaluate` + JSON rendering) and as a fresh `onebar gate` process,
with a Cobertura report, a SARIF log and a reviews file so that every rule runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from gate_fixtures import CHARTER  # noqa: E402
from onebar.gate import GateRequest, evaluate  # noqa: E402
from onebar.gate.render import render  # noqa: E402


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Pat Partner",
        "GIT_AUTHOR_EMAIL": "pat@partner.test",
        "GIT_COMMITTER_NAME": "Pat Partner",
        "GIT_COMMITTER_EMAIL": "pat@partner.test",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def module(i: int, lines: int, changed: bool) -> str:
    body = [f'"""Module {i}."""', "", "", f"def base_{i}(x):", "    return x + 1", ""]
    if changed:
        for j in range(lines // 4):
            body += [
                f"def helper_{i}_{j}(value, factor={j}):",
                f"    total = value * factor + {i}",
                f"    label = 'item-{i}-{j}'",
                "    return total, label",
            ]
    return "\n".join(body) + "\n"


def split(files: int) -> tuple[int, int]:
    tests = max(1, files // 10)
    return files - tests, tests


def build(tmp: Path, files: int, lines: int) -> Path:
    modules, tests = split(files)
    repo = tmp / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "onebar.toml").write_text(CHARTER)
    for i in range(modules):
        p = repo / "src" / "app" / f"pkg{i // 100}" / f"mod_{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(module(i, lines, changed=False))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    for i in range(modules):
        (repo / "src" / "app" / f"pkg{i // 100}" / f"mod_{i}.py").write_text(module(i, lines, changed=True))
    for i in range(tests):
        t = repo / "tests" / f"test_mod_{i}.py"
        t.parent.mkdir(exist_ok=True)
        t.write_text(f"def test_{i}():\n    assert True\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change every module")
    return repo


def evidence(tmp: Path, repo: Path, files: int, lines: int) -> list[str]:
    classes = []
    modules, _ = split(files)
    for i in range(modules):
        n = 6 + lines
        ln = "".join(f'<line number="{k}" hits="{1 if k % 7 else 0}"/>' for k in range(1, n + 1))
        classes.append(f'<class filename="app/pkg{i // 100}/mod_{i}.py"><lines>{ln}</lines></class>')
    (tmp / "cov.xml").write_text(
        f'<?xml version="1.0" ?><coverage version="7"><sources><source>{repo}/src</source>'
        f'</sources><packages><package name="app"><classes>{"".join(classes)}</classes>'
        "</package></packages></coverage>"
    )
    results = [
        {
            "ruleId": "E1",
            "level": "warning",
            "message": {"text": "m"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"src/app/pkg{i // 100}/mod_{i}.py"},
                        "region": {"startLine": 9},
                    }
                }
            ],
        }
        for i in range(0, modules, 10)
    ]
    (tmp / "lint.sarif").write_text(
        json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "lint"}}, "results": results}]})
    )
    (tmp / "reviews.json").write_text(json.dumps([{"user": {"login": "bob-gh"}, "state": "APPROVED"}]))
    kinds = ["MIT License", "BSD License", "Apache Software License", "MIT OR Apache-2.0", "ISC License (ISCL)"]
    (tmp / "licenses.json").write_text(
        json.dumps([{"Name": f"pkg{i}", "Version": "1.0", "License": kinds[i % 5]} for i in range(200)])
    )
    return [
        "--coverage",
        str(tmp / "cov.xml"),
        "--sarif",
        str(tmp / "lint.sarif"),
        "--reviews",
        str(tmp / "reviews.json"),
        "--licenses",
        str(tmp / "licenses.json"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        repo = build(tmp, args.files, args.lines)
        flags = evidence(tmp, repo, args.files, args.lines)
        request = GateRequest(
            repo,
            "main",
            "feature",
            coverage=tmp / "cov.xml",
            sarif=[tmp / "lint.sarif"],
            reviews=tmp / "reviews.json",
            licenses=tmp / "licenses.json",
        )
        in_process = []
        for _ in range(args.runs):
            start = time.perf_counter()
            verdict = evaluate(request)
            render(verdict, "json")
            in_process.append(time.perf_counter() - start)
        cli = []
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "onebar",
                    "gate",
                    str(repo),
                    "--base",
                    "main",
                    "--head",
                    "feature",
                    "--format",
                    "json",
                    *flags,
                ],
                capture_output=True,
                env=env,
            )
            cli.append(time.perf_counter() - start)
            assert proc.returncode in (0, 1), proc.stderr.decode()
        statuses = {r.id: r.status for r in verdict.results}
        print(f"change: {verdict.files_changed} files, +{verdict.lines_added} -{verdict.lines_removed} lines")
        print(f"rules: {statuses}")
        print(
            f"in-process evaluate+render: median {statistics.median(in_process):.3f} s "
            f"(min {min(in_process):.3f}, max {max(in_process):.3f}, {args.runs} runs)"
        )
        print(
            f"onebar gate process:        median {statistics.median(cli):.3f} s "
            f"(min {min(cli):.3f}, max {max(cli):.3f}, {args.runs} runs)"
        )


if __name__ == "__main__":
    main()
