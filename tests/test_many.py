"""Many repositories in one store: in-process, on a local Dask cluster, on a scheduler by address."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import GitRepo, run_cli
from onebar.mining.many import ingest_many


def _two_repos(tmp_path: Path) -> list[str]:
    one = GitRepo.create(tmp_path / "one")
    two = GitRepo.create(tmp_path / "two")
    one.commit("a", {"a.txt": "1"})
    one.commit("b", {"a.txt": "2"})
    two.commit("c", {"c.txt": "1"}, author=("Bob Partner", "bob@globex.test"))
    return [str(one.path), str(two.path)]


def test_in_process_collects_errors_per_repository(tmp_path: Path) -> None:
    paths = [*_two_repos(tmp_path), str(tmp_path / "missing")]
    outcomes = ingest_many(paths, f"sqlite:///{tmp_path / 's.db'}")
    assert [o.summary.commits_new if o.summary else None for o in outcomes] == [2, 1, None]
    assert outcomes[2].error is not None
    assert outcomes[2].error.exit_code == 2


@pytest.mark.slow
def test_dask_scheduler_by_address(tmp_path: Path) -> None:
    from distributed import LocalCluster

    paths = _two_repos(tmp_path)
    db = tmp_path / "dask.db"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_cli("ingest", *paths, "--cluster", cluster.scheduler_address, "--db", str(db), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["commits_new"] for d in data] == [2, 1]
    again = run_cli("ingest", *paths, "--cluster", "none", "--db", str(db), "--format", "json")
    assert [d["commits_new"] for d in json.loads(again.stdout)] == [0, 0]


@pytest.mark.slow
def test_several_repositories_default_to_a_local_cluster(tmp_path: Path) -> None:
    paths = _two_repos(tmp_path)
    result = run_cli("ingest", *paths, "--db", str(tmp_path / "local.db"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert sorted(d["commits_total"] for d in json.loads(result.stdout)) == [1, 2]


@pytest.mark.slow
def test_one_failing_repository_on_a_local_cluster_is_one_clean_error(tmp_path: Path) -> None:
    """Dask prints nothing of its own: the failures arrive as onebar's errors, a charter's file and
    line included (the error crosses from the worker process whole)."""
    import subprocess
    import sys

    good, other = _two_repos(tmp_path)
    broken = GitRepo.create(tmp_path / "broken")
    broken.commit("charter", {"onebar.toml": "[organisations.acme]\nkind = 42\n"})
    paths = [good, str(tmp_path / "missing"), str(broken.path), other]
    proc = subprocess.run(
        [sys.executable, "-m", "onebar", "ingest", *paths, "--cluster", "local", "--db", str(tmp_path / "c.db")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent / "src",
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "distributed" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors[0] == f"error: {tmp_path / 'missing'}: no such file or directory"
    assert errors[1].startswith(f"error: {broken.path / 'onebar.toml'}:2: organisations.acme.kind")
    assert proc.stdout.count("new commits") == 2


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("garbage", "is not a Dask scheduler address"),
        ("tcp://127.0.0.1:notaport", "is not a Dask scheduler address"),
        ("tcp://:::::", "is not a Dask scheduler address"),
        ("foo://host:1", "scheme 'foo' is not one onebar reaches"),
        ("tcp://127.0.0.1:99999", "a host and a port (1-65535) are needed"),
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler"),
    ],
)
def test_a_malformed_or_unreachable_cluster_is_a_usage_error_naming_the_flag(
    tmp_path: Path, address: str, words: str
) -> None:
    result = run_cli("ingest", *_two_repos(tmp_path), "--cluster", address, "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --cluster: ") and words in result.stderr
    assert "Traceback" not in result.output
