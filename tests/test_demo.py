"""`onebar demo`: the generated repository is valid git, has every kind of event, and is reproducible."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from helpers import run_cli
from onebar.charter.load import parse_charter
from onebar.demo import DemoSummary, build_demo
from onebar.demo.cast import PEOPLE
from onebar.errors import UsageError

N = 300


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return out.stdout.decode("utf-8").strip()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    path = tmp_path_factory.mktemp("demo") / "repo"
    return path, build_demo(path, N, seed=7)


def test_repository_is_valid_and_has_exactly_n_commits(demo: tuple[Path, DemoSummary]) -> None:
    repo, summary = demo
    fsck = subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=repo, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
    assert summary.commits == N
    assert int(git(repo, "rev-list", "--all", "--count")) == N
    assert git(repo, "rev-parse", "HEAD") == summary.head
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(repo, "status", "--porcelain") == ""  # work tree checked out and clean
    assert (repo / "onebar.toml").is_file()
    assert not git(repo, "for-each-ref", "refs/demo")  # scratch refs are gone


def test_charter_is_committed_and_valid(demo: tuple[Path, DemoSummary]) -> None:
    repo, _ = demo
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    charter = parse_charter(git(repo, "show", f"{first}:onebar.toml"))
    kinds = {org.kind for org in charter.organisations.values()}
    assert kinds == {"internal", "partner", "contractor", "agent", "bot"}
    zones = {p.timezone for p in charter.people.values()}
    assert {"Europe/Warsaw", "Europe/Stockholm", "America/Sao_Paulo"} <= zones
    last = git(repo, "log", "-1", "--all", "--format=%cs", "--date-order")
    erik = next(p for p in charter.people.values() if p.emails[0].endswith("@gmail.com"))
    assert erik.contract_end and erik.contract_end.isoformat() > last  # his contract ends soon after
    # The agency's contract ended inside the history: one hand-over commit after it (for `access review`).
    joao = charter.people["joao"]
    assert joao.contract_end and joao.contract_end.isoformat() < last
    dates = git(repo, "log", "--all", "--author=joao.silva@", "--format=%as").splitlines()
    assert sum(d > joao.contract_end.isoformat() for d in dates) == 1
    for comp in charter.components.values():
        assert comp.accountable in charter.people


def test_authors_span_organisations_bots_and_agents(demo: tuple[Path, DemoSummary]) -> None:
    repo, _ = demo
    emails = set(git(repo, "log", "--all", "--format=%ae").splitlines())
    domains = {e.split("@", 1)[1] for e in emails}
    assert {"acme.example", "vistula-soft.example", "pampa.example", "gmail.com"} <= domains
    assert "49699333+dependabot[bot]@users.noreply.github.com" in emails
    assert "41898282+github-actions[bot]@users.noreply.github.com" in emails
    assert any("devin-ai-integration[bot]" in e or "Copilot@" in e for e in emails)
    bodies = git(repo, "log", "--all", "--format=%B")
    assert "Co-authored-by: Claude <noreply@anthropic.com>" in bodies
    assert re.search(r"^Signed-off-by: .+@vistula-soft\.example>$", bodies, re.M)
    assert re.search(r"^Reviewed-by: .+ <.+>$", bodies, re.M)
    # Every identity in a trailer is one the charter knows (AI co-authors included).
    charter = parse_charter((repo / "onebar.toml").read_text())
    known = {e for p in charter.people.values() for e in p.emails}
    in_trailers = {e.lower() for e in re.findall(r"^(?:Co-authored-by|Reviewed-by): .+ <(.+)>$", bodies, re.M)}
    assert in_trailers
    assert in_trailers <= known


def test_commit_times_use_each_persons_utc_offset(demo: tuple[Path, DemoSummary]) -> None:
    repo, _ = demo
    offsets: dict[str, set[str]] = {}
    for line in git(repo, "log", "--all", "--format=%ae %ai").splitlines():
        email, *_, tz = line.split()
        offsets.setdefault(email.split("@")[1], set()).add(tz)
    assert offsets["vistula-soft.example"] <= {"+0100", "+0200"}
    assert offsets["pampa.example"] == {"-0300"}


def test_merges_carry_review_trailers(demo: tuple[Path, DemoSummary]) -> None:
    repo, summary = demo
    merges = git(repo, "log", "--all", "--merges", "--format=%H%x1f%s%x1f%(trailers:key=Reviewed-by)%x1e")
    records = [r.strip("\n").split("\x1f") for r in merges.split("\x1e") if r.strip("\n")]
    assert len(records) == summary.merges > 20
    assert [r for r in records if r[1].startswith("Merge pull request #")]
    squashed = git(repo, "log", "--all", "--no-merges", "--committer=noreply@github.com", "--format=%s%x1f%B%x1e")
    pulls = [r for r in squashed.split("\x1e") if re.search(r"\(#\d+\)\x1f", r)]
    assert pulls
    assert sum(1 for r in pulls if "Reviewed-by" in r) > len(pulls) // 2


def test_tags_have_releases_hotfixes_and_prereleases(demo: tuple[Path, DemoSummary]) -> None:
    repo, summary = demo
    tags = dict(
        line.split(" ", 1)
        for line in git(repo, "for-each-ref", "refs/tags", "--format=%(refname:short) %(contents:subject)").splitlines()
    )
    releases = [t for t in tags if re.fullmatch(r"v\d+\.\d+\.\d+", t)]
    pre = [t for t in tags if "-rc" in t]
    hotfixes = [t for t, subject in tags.items() if "Hotfix" in subject]
    assert len(releases) == summary.releases + summary.hotfixes
    assert len(pre) == summary.prereleases > 0
    assert hotfixes
    assert all(t.endswith((".1", ".2")) for t in hotfixes)
    release_commits = {git(repo, "rev-list", "-n1", t) for t in releases}
    for tag in hotfixes:  # branched off the release it patches, then merged back into main
        sha = git(repo, "rev-list", "-n1", tag)
        assert git(repo, "rev-parse", f"{sha}^") in release_commits
        assert git(repo, "log", "-1", "--format=%s", sha).startswith("Fix ")
        subprocess.run(["git", "merge-base", "--is-ancestor", sha, "main"], cwd=repo, check=True)  # merged back


def test_reverts_name_real_commits_and_undo_them(demo: tuple[Path, DemoSummary]) -> None:
    repo, summary = demo
    log = git(repo, "log", "--all", "--format=%H%x1f%B%x1e", "--grep=^Revert ")
    reverts = [r.strip("\n").split("\x1f") for r in log.split("\x1e") if r.strip("\n")]
    assert len(reverts) == summary.reverts > 0
    for sha, body in reverts:
        target = re.search(r"This reverts commit ([0-9a-f]{40})", body)
        assert target, body
        target_sha = target.group(1)
        subject = git(repo, "log", "-1", "--format=%s", target_sha)
        assert body.startswith(f'Revert "{subject}"')
        # The revert's tree equals the target's first parent on every path the target touched.
        paths = git(repo, "diff", "--name-only", f"{target_sha}^1", target_sha).splitlines()
        assert paths
        assert git(repo, "diff", "--name-only", f"{target_sha}^1", sha, "--", *paths) == ""


def test_fixes_trailers_name_real_commits_with_their_subject(demo: tuple[Path, DemoSummary]) -> None:
    repo, summary = demo
    found = re.findall(r'^Fixes: ([0-9a-f]{12}) \("(.*)"\)$', git(repo, "log", "--all", "--format=%B"), re.M)
    assert len(found) == summary.fixes > 0
    for abbrev, subject in found:
        assert git(repo, "log", "-1", "--format=%s", abbrev) == subject


def test_commits_change_a_few_lines_and_some_files_are_binary(demo: tuple[Path, DemoSummary]) -> None:
    repo, _ = demo
    numstat = git(repo, "log", "--all", "--no-merges", "--numstat", "--format=", "--skip=1")
    rows = [line.split("\t") for line in numstat.splitlines() if line]
    text = [int(a) + int(d) for a, d, _ in rows if a != "-"]
    assert sorted(text)[len(text) // 2] <= 12  # median change per file is a few lines
    tree = git(repo, "ls-files").splitlines()
    assert any(p.endswith(".png") for p in tree)
    assert any(p.startswith("vendor/") for p in tree)
    assert any(p.startswith("tests/") for p in tree)
    assert any(p.startswith("docs/") for p in tree)


def test_same_seed_same_history(tmp_path: Path) -> None:
    a = build_demo(tmp_path / "a", 120, seed=3)
    b = build_demo(tmp_path / "b", 120, seed=3)
    c = build_demo(tmp_path / "c", 120, seed=4)
    refs_a = git(tmp_path / "a", "show-ref")
    assert a.head == b.head
    assert refs_a == git(tmp_path / "b", "show-ref")
    assert c.head != a.head


def test_every_charter_identity_is_a_known_cast_member() -> None:
    assert len({p.email for p in PEOPLE}) == len(PEOPLE)


def test_bad_commit_count_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--commits"):
        build_demo(tmp_path / "x", 3)


def test_cli_refuses_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = run_cli("demo", str(target), "--commits", "60")
    assert result.exit_code == 2
    assert "not empty" in result.output + (result.stderr or "")
    assert (target / "notes.txt").read_text() == "keep me"
    result = run_cli("demo", str(target), "--commits", "60", "--force", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"commits": 60' in result.stdout
    assert not (target / "notes.txt").exists()
    assert int(git(target, "rev-list", "--all", "--count")) == 60


def test_cli_refuses_a_file_as_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = run_cli("demo", str(target), "--commits", "60", "--force")
    assert result.exit_code == 2
