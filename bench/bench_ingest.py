"""Ingest benchmark: `onebar ingest` against git itself and PyDriller, in the same run.

    python bench/bench_ingest.py REPO [REPO...] [--pydriller-sample N] [--repeat R] [--markdown FILE]

For each repository it times, in this order: `git log --all --numstat --no-renames` (the baseline),
`git log --all --name-status --no-renames`, a full `onebar ingest` into a fresh SQLite store, a no-op
second ingest into that store, `onebar ingest --no-lines` into another fresh store, and PyDriller on
the newest N commits (extrapolated to the whole history, clearly labelled). Start-up is timed too,
as fresh processes, best of --startup-repeat: `git rev-parse HEAD` (a process that does almost
nothing), `python -c pass` (the interpreter alone), `onebar --help` and the no-op ingest. Wall time is measured
around each subprocess. Memory is sampled from /proc every 100 ms over the whole process tree:
"private" is the sum of anonymous RSS (what the processes allocated), "PSS" adds the mapped pack
pages, each shared page counted once across processes (plain RSS would count the pack once per git
process). Ratios are against git in the same run, so machine load affects both sides.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass
class Run:
    seconds: float
    private_mb: float  # peak sum of anonymous RSS over the process tree
    pss_mb: float  # peak sum of PSS (anonymous + proportional share of mapped files)


def _kb(path: str, key: bytes) -> int:
    try:
        for line in Path(path).read_bytes().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree_memory(root: int) -> tuple[int, int]:
    """(anonymous KB, PSS KB) summed over `root` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rfind(b")") + 2 :].split()[1])
    anon = pss = 0
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        anon += _kb(f"/proc/{pid}/status", b"RssAnon:")
        pss += _kb(f"/proc/{pid}/smaps_rollup", b"Pss:")
        frontier += [child for child, parent in parents.items() if parent == pid]
    return anon, pss


def quick(cmd: list[str], *, env: dict[str, str] | None = None) -> Run:
    """Wall time of a short command, with no memory sampling to compete with it for the CPU."""
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Run(time.perf_counter() - start, 0.0, 0.0)


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd`, reading its stdout to the end (as a consumer would); wall time and peak tree RSS."""
    peak_anon = peak_pss = 0
    done = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def sample() -> None:
        nonlocal peak_anon, peak_pss
        while not done.is_set():
            anon, pss = _tree_memory(proc.pid)
            peak_anon, peak_pss = max(peak_anon, anon), max(peak_pss, pss)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    assert proc.stderr is not None
    err = bytearray()
    drain = threading.Thread(target=lambda: err.extend(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    drain.start()
    while proc.stdout.read(1 << 20):
        pass
    code = proc.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    drain.join()
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    return Run(seconds, peak_anon / 1024, peak_pss / 1024)


def best(runs: int, fn: object) -> Run:
    results = [fn() for _ in range(runs)]  # type: ignore[operator]
    return min(results, key=lambda r: r.seconds)


PYDRILLER_SCRIPT = """
import sys, time
from pydriller import Repository
path, limit = sys.argv[1], int(sys.argv[2])
start, n = time.perf_counter(), 0
for commit in Repository(path, order="reverse").traverse_commits():
    for m in commit.modified_files:
        (m.filename, m.change_type, m.added_lines, m.deleted_lines)
    (commit.hash, commit.author.email, commit.committer.email, commit.msg, commit.parents)
    n += 1
    if n >= limit:
        break
print(n, time.perf_counter() - start)
"""


@dataclass
class Row:
    repo: str
    commits: int
    numstat: Run
    names: Run
    full: Run
    noop: Run
    nolines: Run
    revparse: Run
    python: Run
    help: Run
    pydriller: tuple[int, float] | None = None  # (commits sampled, seconds)


def bench_repo(
    repo: Path, onebar: list[str], env: dict[str, str], sample: int, repeat: int, startup_repeat: int
) -> Row:
    count = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--all", "--count"], check=True, capture_output=True, text=True
    )
    git = ["git", "-C", str(repo), "log", "--all", "--no-renames"]
    numstat = best(repeat, lambda: measure([*git, "--numstat"]))
    names = best(repeat, lambda: measure([*git, "--name-status"]))
    revparse = best(startup_repeat, lambda: quick(["git", "-C", str(repo), "rev-parse", "HEAD"]))
    python = best(startup_repeat, lambda: quick([sys.executable, "-c", "pass"]))
    with tempfile.TemporaryDirectory(prefix="onebar-bench-") as tmp:
        counter = iter(range(10_000))
        env = {**env, "ONEBAR_CACHE_DIR": str(Path(tmp) / "cache")}  # as a first run finds it: empty

        def ingest(*flags: str, db: Path | None = None) -> Run:
            url = f"sqlite:///{db or Path(tmp) / f'store{next(counter)}.db'}"
            return measure([*onebar, "ingest", str(repo), "--db", url, *flags], env=env)

        full = best(repeat, ingest)
        kept = Path(tmp) / "kept.db"
        ingest(db=kept)
        noop_cmd = [*onebar, "ingest", str(repo), "--db", f"sqlite:///{kept}"]
        noop = best(startup_repeat, lambda: quick(noop_cmd, env=env))
        noop_memory = measure(noop_cmd, env=env)
        noop = Run(noop.seconds, noop_memory.private_mb, noop_memory.pss_mb)
        nolines = best(repeat, lambda: ingest("--no-lines"))
        help_ = best(startup_repeat, lambda: quick([*onebar, "--help"], env=env))
    row = Row(repo.name, int(count.stdout), numstat, names, full, noop, nolines, revparse, python, help_)
    if sample > 0:
        out = subprocess.run(
            [sys.executable, "-c", PYDRILLER_SCRIPT, str(repo), str(sample)], check=True, capture_output=True, text=True
        ).stdout.split()
        row.pydriller = (int(out[0]), float(out[1]))
    return row


def render(rows: list[Row], sample: int) -> str:
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Machine: {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}, {git_version}.",
        "Times are wall seconds; memory is the peak private (anonymous) MB of the whole process tree.",
        "",
        "| repository | commits | git log --numstat | onebar ingest | ratio | git log --name-status "
        "| ingest --no-lines | ratio | no-op ingest | ingest commits/s |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]

    def cell(run: Run) -> str:
        return f"{run.seconds:.1f} s, {run.private_mb:.0f} MB"

    for r in rows:
        lines.append(
            f"| {r.repo} | {r.commits:,} | {cell(r.numstat)} | {cell(r.full)} "
            f"| **{r.full.seconds / r.numstat.seconds:.2f}×** | {cell(r.names)} | {cell(r.nolines)} "
            f"| **{r.nolines.seconds / r.names.seconds:.2f}×** | {r.noop.seconds:.2f} s "
            f"| {r.commits / r.full.seconds:,.0f} |"
        )
    lines += [
        "",
        "Peak PSS (private memory plus each process's share of the mapped pack files), MB:",
        "",
        "| repository | git log --numstat | onebar ingest | git log --name-status | ingest --no-lines | no-op |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    lines += [
        f"| {r.repo} | {r.numstat.pss_mb:.0f} | {r.full.pss_mb:.0f} | {r.names.pss_mb:.0f} | {r.nolines.pss_mb:.0f} "
        f"| {r.noop.pss_mb:.0f} |"
        for r in rows
    ]
    lines += [
        "",
        "Start-up, fresh processes (best of several runs), beside git in the same run:",
        "",
        "| repository | git rev-parse HEAD | python -c pass | onebar --help | no-op onebar ingest "
        "| no-op / git log --numstat |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    lines += [
        f"| {r.repo} | {r.revparse.seconds:.3f} s | {r.python.seconds:.3f} s | {r.help.seconds:.3f} s "
        f"| {r.noop.seconds:.3f} s | {r.noop.seconds / r.numstat.seconds:.2f}× |"
        for r in rows
    ]
    sampled = [r for r in rows if r.pydriller]
    if sampled:
        lines += [
            "",
            f"PyDriller: newest {sample:,} commits (`order='reverse'`, every modified file's added/deleted lines), "
            "extrapolated to the whole history (an estimate, not a measurement):",
            "",
            "| repository | sampled | commits/s | extrapolated full history | onebar ingest | speed-up |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for r in sampled:
            assert r.pydriller is not None
            done, seconds = r.pydriller
            whole = r.commits / (done / seconds)
            lines.append(
                f"| {r.repo} | {done:,} in {seconds:.1f} s | {done / seconds:,.0f} | ~{whole:,.0f} s "
                f"| {r.full.seconds:.1f} s | **~{whole / r.full.seconds:.0f}×** |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos", nargs="+", type=Path, help="git repositories (bare or not)")
    parser.add_argument("--pydriller-sample", type=int, default=2000, help="commits for PyDriller; 0 skips it")
    parser.add_argument("--repeat", type=int, default=1, help="best of R runs for each measurement")
    parser.add_argument("--startup-repeat", type=int, default=7, help="best of N runs for the start-up figures")
    parser.add_argument("--onebar", default=None, help="command that runs onebar (default: this checkout)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    onebar = args.onebar.split() if args.onebar else [sys.executable, "-m", "onebar"]
    rows: list[Row] = []
    for repo in args.repos:
        print(f"benchmarking {repo} ...", file=sys.stderr, flush=True)
        rows.append(bench_repo(repo.resolve(), onebar, env, args.pydriller_sample, args.repeat, args.startup_repeat))
    text = render(rows, args.pydriller_sample)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
