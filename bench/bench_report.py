"""Benchmark: `onebar report` on an already-ingested history, and how its time grows with length.

    python bench/bench_report.py                      # synthetic stores of 12.5k..100k commits
    python bench/bench_report.py --repo /path/to/git  # also: the real CLI on an ingested repository
    python bench/bench_report.py --sizes "" --cli REPO=DBURL [--cli REPO2=DBURL2 ...] [--repeat 5]
                                                      # the real CLI, fresh processes, on ingested stores

The synthetic store is written straight into the schema (what `onebar ingest` would have stored for
a realistic history: 4 organisations, 40 people, feature branches merged every few commits, about
three file changes per commit, a release tag every 150 commits, trailers, reverts and fixes), so the
figures measure the report alone. Prints seconds per size and the ratio to the smallest size.

`--cli REPO=DBURL` times `onebar report REPO --db DBURL --format json` as a fresh process, as a user
runs it, for the default 90-day window and for `--since all`: best wall time of `--repeat` runs,
the CPU time (user + system) of that run and the peak resident memory of the process (from the
kernel's rusage of the child). In the same run it times `git log --numstat` on the same repository
(what reading the history with git alone costs) and prints the ratio. The store must already hold
the repository: the first report after ingest is what is measured, nothing is cached between runs.
The child runs as an installed onebar does: with its modules' bytecode compiled (`pip install`
compiles it; an editable checkout under PYTHONDONTWRITEBYTECODE=1 would recompile every onebar
module in every process), kept under a temporary PYTHONPYCACHEPREFIX and written by one untimed
warm-up run. `--source-only` measures without it. `--instructions` also counts each run's
instructions under valgrind (about 50 times slower; the same count on a busy machine), and those of
the report's imports alone, the fixed cost under any history.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from onebar.charter import parse_charter
from onebar.report.build import build_report
from onebar.report.render import render
from onebar.store import Store, open_store
from onebar.store.schema import commits, file_changes, identities, repositories, tags, trailers

ORGS = {"core": "internal", "agency": "partner", "solo": "contractor", "bots": "bot"}
ZONES = {"core": "Europe/Berlin", "agency": "America/New_York", "solo": "Asia/Kolkata", "bots": "UTC"}
T0 = 1_500_000_000


def charter_text() -> str:
    out = []
    for org, kind in ORGS.items():
        out += [f"[organisations.{org}]", f'kind = "{kind}"', f'domains = ["{org}.test"]', ""]
    for i in range(40):
        org = list(ORGS)[i % 3]
        out += [f"[people.p{i}]", f'name = "Person {i}"', f'org = "{org}"', f'emails = ["p{i}@{org}.test"]']
        out += [f'timezone = "{ZONES[org]}"', ""]
    for c in range(8):
        out += [f"[components.mod{c}]", f'paths = ["src/mod{c}/**"]', f'accountable = "p{c}"', ""]
    return "\n".join(out)


def synthesise(store: Store, n: int, seed: int = 7) -> int:
    """A realistic history of `n` commits for one repository; returns its id."""
    rnd = random.Random(seed)
    people = [(f"Person {i}", f"p{i}@{list(ORGS)[i % 3]}.test") for i in range(40)]
    people += [("dependabot[bot]", "bot@bots.test"), ("Ghost", "ghost@elsewhere.test")]
    files = [f"src/mod{i % 8}/f{i}.py" for i in range(5000)]
    crows, frows, trows, tagrows = [], [], [], []
    shas: list[str] = []
    main_tip = ""
    branch: list[str] = []
    t = T0
    for i in range(n):
        t += rnd.randint(60, 2 * 3600)
        sha = f"{i:08x}" + f"{rnd.getrandbits(128):032x}"
        author = rnd.randrange(len(people)) if rnd.random() < 0.97 else 40
        parents = ""
        subject = f"change {i}"
        revert = None
        if branch and rnd.random() < 0.2:  # merge the feature branch into mainline
            parents = f"{main_tip} {branch[-1]}".strip()
            subject = f"Merge branch feature-{i}"
            main_tip, branch = sha, []
        elif rnd.random() < 0.6:  # feature-branch commit, branched from mainline
            parents = branch[-1] if branch else main_tip
            branch.append(sha)
        else:
            parents = main_tip
            main_tip = sha
        if i > 10 and rnd.random() < 0.01:
            revert = shas[rnd.randrange(max(0, i - 200), i)][:12]
            subject = f'Revert "change {i}"'
        crows.append(
            {
                "id": i + 1,
                "repo_id": 1,
                "sha": sha,
                "parents": parents,
                "author_id": author + 1,
                "authored_at": t,
                "author_tz": 60,
                "committer_id": author + 1,
                "committed_at": t,
                "committer_tz": 60,
                "subject": subject,
                "revert_of": revert,
                "files": 0,
                "added": 0,
                "deleted": 0,
                "reachable": True,
            }
        )
        if " " not in parents:
            for _ in range(rnd.choice((1, 2, 3, 3, 4, 6))):
                path = files[min(int(rnd.paretovariate(1.2) * 40) % len(files), len(files) - 1)]
                frows.append(
                    {"commit_id": i + 1, "path": path, "status": "M", "added": 3, "deleted": 1, "binary": False}
                )
            if rnd.random() < 0.2:
                trows.append({"commit_id": i + 1, "key": "reviewed-by", "value": "Person 1 <p1@core.test>"})
            if rnd.random() < 0.01 and shas:
                trows.append(
                    {"commit_id": i + 1, "key": "fixes", "value": shas[rnd.randrange(max(0, i - 300), i)][:12]}
                )
        if i % 150 == 149 and main_tip:
            tagrows.append(
                {"repo_id": 1, "name": f"v1.{i // 150}.0", "sha": main_tip, "tagged_at": t + 600, "annotated": True}
            )
        shas.append(sha)
    for k, path in enumerate(files):  # every file was added once, by the first commit's author, at the start
        frows.insert(k, {"commit_id": 1, "path": path, "status": "A", "added": 10, "deleted": 0, "binary": False})
    with store.write() as conn:
        conn.execute(insert(repositories).values(id=1, path="/bench/.git", name=f"synthetic-{n}"))
        conn.execute(insert(identities), [{"id": k + 1, "name": a, "email": e} for k, (a, e) in enumerate(people)])
        for table, rows in ((commits, crows), (file_changes, frows), (trailers, trows), (tags, tagrows)):
            for s in range(0, len(rows), 20000):
                conn.execute(insert(table), rows[s : s + 20000])
    return 1


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="12500,25000,50000,100000")
    ap.add_argument("--repo", type=Path, help="also time the real `onebar report` CLI on this repository")
    ap.add_argument(
        "--demo", type=int, metavar="N", help="also build `onebar demo` with N commits and time the CLI on it"
    )
    ap.add_argument(
        "--cli",
        action="append",
        default=[],
        metavar="REPO=DBURL",
        help="time the real CLI as fresh processes on this ingested repository and store (repeatable)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure of --cli; the best is shown")
    ap.add_argument(
        "--git-repeat", type=int, default=None, help="runs of git log --numstat (default: --repeat; 0: leave it out)"
    )
    ap.add_argument(
        "--source-only", action="store_true", help="--cli children without compiled bytecode (as this sandbox runs)"
    )
    ap.add_argument(
        "--instructions", action="store_true", help="also count each --cli run's instructions under valgrind (slow)"
    )
    args = ap.parse_args()
    if args.cli:
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        with tempfile.TemporaryDirectory(prefix="onebar-pycache-") as pycache:
            env = installed_env(None if args.source_only else Path(pycache))
            for spec in args.cli:
                repo, _, url = spec.partition("=")
                git_repeat = args.repeat if args.git_repeat is None else args.git_repeat
                cli(Path(repo), url, args.repeat, git_repeat, env, args.instructions)
        print(f"load average at end:   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    charter = parse_charter(charter_text())
    if sizes:
        print(f"{'commits':>8} {'report 90d':>11} {'report all':>11} {'json':>7} {'html':>7}  ratio(all)")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            store = open_store(f"sqlite:///{tmp}/bench-{n}.db")
            synthesise(store, n)
            t90 = timed(lambda: build_report(store, 1, charter))  # noqa: B023
            tall = timed(lambda: build_report(store, 1, charter, since="all"))  # noqa: B023
            rep = build_report(store, 1, charter, since="all")
            tjson = timed(lambda: render(rep, "json"))  # noqa: B023
            thtml = timed(lambda: render(rep, "html"))  # noqa: B023
            base = base or tall
            print(f"{n:>8} {t90:>10.2f}s {tall:>10.2f}s {tjson:>6.2f}s {thtml:>6.2f}s  {tall / base:.2f}x")
            store.close()
        if args.repo:
            real(args.repo, Path(tmp))
        if args.demo:
            from onebar.demo import build_demo

            repo = Path(tmp) / "demo"
            build_demo(repo, args.demo, 0)
            real(repo, Path(tmp), charter_in_repo=True)


def installed_env(pycache: Path | None) -> dict[str, str]:
    """The environment of a child that runs like an installed onebar: bytecode written once under
    `pycache` and read by every later run (None: whatever this environment says)."""
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run `cmd` as a fresh process, its output thrown away: (wall seconds, CPU seconds, peak RSS in MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024  # ru_maxrss: KB on Linux


def best(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """The fastest of `repeat` runs (its CPU time), and the highest peak memory of them all."""
    runs = [child(cmd, env) for _ in range(repeat)]
    wall, cpu, _ = min(runs)
    return wall, cpu, max(r[2] for r in runs)


# What a report run imports before it computes anything: the floor under any history length.
IMPORTS = "import onebar.cli.report_cmds, onebar.workspace, onebar.report.build, onebar.report.render.encode"


def instructions(cmd: list[str], env: dict[str, str]) -> int:
    """Instructions `cmd` executes (valgrind's callgrind; git's child processes not counted): the same
    count whatever else the machine runs, where wall time on this shared VM varies by a third."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", *cmd],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True,
        )  # fmt: skip
    return int(next(line for line in out.stderr.splitlines() if "Collected" in line).split()[-1])


def cli(repo: Path, url: str, repeat: int, git_repeat: int, env: dict[str, str], counted: bool = False) -> None:
    """`onebar report` as fresh processes on an ingested store, beside `git log --numstat`."""
    base = [sys.executable, "-m", "onebar", "report", str(repo), "--db", url, "--format", "json"]
    child(base, env)  # warm-up, untimed: writes the bytecode, reads the store and pack into the page cache
    commits = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--all", "--count"], check=True, capture_output=True, text=True
    ).stdout.strip()
    print(f"{repo} ({commits} commits), best of {repeat}:")
    git_wall = 0.0
    if git_repeat > 0:  # --git-repeat 0 leaves git out
        git_wall, git_cpu, git_rss = best(["git", "-C", str(repo), "log", "--numstat"], git_repeat)
        print(f"  {'git log --numstat':<32} {git_wall:7.2f}s wall {git_cpu:7.2f}s cpu {git_rss:6d} MB")
    for label, extra in (("onebar report (default 90 days)", []), ("onebar report --since all", ["--since", "all"])):
        wall, cpu, rss = best([*base, *extra], repeat, env)
        ratio = f"   {wall / git_wall:.2f}x git log" if git_wall else ""
        print(f"  {label:<32} {wall:7.2f}s wall {cpu:7.2f}s cpu {rss:6d} MB{ratio}")
        if counted:
            print(f"  {'':<32} {instructions([*base, *extra], env) / 1e9:7.2f} G instructions")
    if counted:
        floor = instructions([sys.executable, "-c", IMPORTS], env)
        print(f"  {'its imports alone':<32} {floor / 1e9:7.2f} G instructions")


def real(repo: Path, tmp: Path, *, charter_in_repo: bool = False) -> None:
    """The real CLI on a real repository: full ingest, then already ingested with and without a charter."""
    from onebar.charter.draft import charter_to_toml, draft_charter

    charter = repo / "onebar.toml" if charter_in_repo else tmp / "onebar.toml"
    if not charter_in_repo:
        charter.write_text(charter_to_toml(draft_charter(repo)))
    base = [sys.executable, "-m", "onebar", "report", str(repo), "--db", f"sqlite:///{tmp}/real.db"]
    base += ["--format", "json", "-o", str(tmp / "r.json")]

    def run(*extra: str) -> float:
        start = time.perf_counter()
        subprocess.run([*base, *extra], check=True, capture_output=True)
        return time.perf_counter() - start

    first = run("--charter", str(charter))
    with_charter = min(run("--charter", str(charter)) for _ in range(3))
    all_history = min(run("--charter", str(charter), "--since", "all") for _ in range(3))
    print(f"real repository {repo}")
    print(f"  first run, full ingest + report:            {first:6.2f}s")
    print(f"  already ingested, charter given:            {with_charter:6.2f}s")
    print(f"  already ingested, charter given, --since all: {all_history:6.2f}s")
    if not charter_in_repo:
        drafted = min(run() for _ in range(2))
        print(f"  already ingested, charter drafted each run: {drafted:6.2f}s")


if __name__ == "__main__":
    main()
