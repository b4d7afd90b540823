"""Every configuration snippet in the docs is valid for the tool that would read it.

A fenced ```yaml / ```json / ```toml block must be preceded by `<!-- validate: KIND -->` naming what
it is; the test validates it with that tool's own schema or parser, offline: check-jsonschema's
bundled SchemaStore schemas (GitHub workflows and actions, GitLab CI), pre-commit's own config schema,
onebar's charter model and JSON schemas. A new snippet without a marker fails the test, so nothing
copy-pasted from the docs can be rejected by the tool it was written for.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CONFIG_LANGUAGES = {"yaml", "yml", "json", "toml"}
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*validate:\s*([\w-]+)\s*-->\s*$")


@dataclasses.dataclass(frozen=True)
class Snippet:
    file: str
    line: int  # of the opening fence
    language: str
    kind: str | None
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def snippets() -> list[Snippet]:
    out: list[Snippet] = []
    for path in DOCS:
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m or not m.group(1):
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.match(before)
            text = "\n".join(lines[i + 1 : end]) + "\n"
            out.append(Snippet(path.name, i + 1, m.group(1), marker.group(1) if marker else None, text))
            i = end + 1
    return out


def _schemastore(name: str) -> Callable[[Snippet, Path], None]:
    def check(s: Snippet, tmp: Path) -> None:
        target = tmp / "snippet.yaml"
        target.write_text(s.text)
        proc = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", f"vendor.{name}", str(target)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"{s} is not a valid {name} file:\n{proc.stdout}{proc.stderr}"

    return check


def _pre_commit_config(s: Snippet, tmp: Path) -> None:
    from pre_commit.clientlib import load_config

    target = tmp / ".pre-commit-config.yaml"
    target.write_text(s.text)
    config = load_config(target)  # raises InvalidConfigError naming the field
    ours = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    for repo in config["repos"]:
        if repo["repo"].endswith("/onebar"):
            assert {h["id"] for h in repo["hooks"]} <= ours, f"{s} names a hook .pre-commit-hooks.yaml lacks"


def _charter(s: Snippet, tmp: Path) -> None:
    from onebar.charter import parse_charter

    parse_charter(s.text, str(s))


def _charter_fragment(s: Snippet, tmp: Path) -> None:
    """Some tables of a charter: every field is checked; names it refers to (organisations, people,
    components) are defined elsewhere, so they are not."""
    from onebar.charter.model import Charter

    Charter.model_validate(tomllib.loads(s.text))


def _ingest_summary(s: Snippet, tmp: Path) -> None:
    from onebar.mining.ingest import IngestSummary

    data = json.loads(s.text)
    assert set(data) == {f.name for f in dataclasses.fields(IngestSummary)}, (
        f"{s}: not what `ingest --format json` prints"
    )


def _adr(s: Snippet, tmp: Path) -> None:
    from onebar.adr import parse_adr

    adr = parse_adr(s.text, "docs/adr/0001-store-events-in-postgresql.md")
    assert adr.status in ("proposed", "accepted"), f"{s}: status {adr.status}"


def _python(s: Snippet, tmp: Path) -> None:
    compile(s.text, str(s), "exec")


def _json_schema(schema_file: str) -> Callable[[Snippet, Path], None]:
    def check(s: Snippet, tmp: Path) -> None:
        import jsonschema

        schema = json.loads((ROOT / "docs" / schema_file).read_text())
        jsonschema.validate(json.loads(s.text), schema, cls=jsonschema.Draft202012Validator)

    return check


def _parses(loader: Callable[[str], object]) -> Callable[[Snippet, Path], None]:
    def check(s: Snippet, tmp: Path) -> None:
        loader(s.text)

    return check


VALIDATORS: dict[str, Callable[[Snippet, Path], None]] = {
    "github-workflow": _schemastore("github-workflows"),
    "github-action": _schemastore("github-actions"),
    "gitlab-ci": _schemastore("gitlab-ci"),
    "pre-commit-config": _pre_commit_config,
    "charter": _charter,
    "charter-fragment": _charter_fragment,
    "ingest-summary": _ingest_summary,
    "gate-json": _json_schema("gate.schema.json"),
    "report-json": _json_schema("report.schema.json"),
    "adr": _adr,
    "python": _python,
    # For a snippet no schema describes (an example of some other tool's output): it must still parse.
    "json": _parses(json.loads),
    "yaml": _parses(yaml.safe_load),
    "toml": _parses(tomllib.loads),
}

ALL = snippets()


def test_every_config_snippet_says_what_it_is() -> None:
    unmarked = [str(s) for s in ALL if s.language in CONFIG_LANGUAGES and s.kind is None]
    assert not unmarked, f"add <!-- validate: KIND --> before these snippets ({', '.join(VALIDATORS)}): {unmarked}"
    unknown = [f"{s}: {s.kind}" for s in ALL if s.kind is not None and s.kind not in VALIDATORS]
    assert not unknown, unknown


@pytest.mark.parametrize("snippet", [s for s in ALL if s.kind in VALIDATORS], ids=str)
def test_snippet_is_valid(snippet: Snippet, tmp_path: Path) -> None:
    VALIDATORS[snippet.kind or ""](snippet, tmp_path)


def test_the_repositorys_own_action_and_hooks_are_valid(tmp_path: Path) -> None:
    from pre_commit.clientlib import load_manifest

    action = Snippet("action.yml", 1, "yaml", "github-action", (ROOT / "action.yml").read_text())
    VALIDATORS["github-action"](action, tmp_path)
    load_manifest(ROOT / ".pre-commit-hooks.yaml")


def test_a_broken_snippet_is_caught(tmp_path: Path) -> None:
    """The GitLab job as docs/gate.md once had it: an unquoted `: ` made the curl line a mapping."""
    job = 'job:\n  script:\n    - curl -H "PRIVATE-TOKEN: $T" "$URL"\n'
    with pytest.raises(AssertionError, match="not a valid gitlab-ci"):
        VALIDATORS["gitlab-ci"](Snippet("x.md", 1, "yaml", "gitlab-ci", job), tmp_path)
