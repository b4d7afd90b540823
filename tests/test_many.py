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
def test_unreachable_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    paths = _two_repos(tmp_path)
    result = run_cli("ingest", *paths, "--cluster", "tcp://127.0.0.1:9", "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler" in result.stderr
