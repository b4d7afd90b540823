"""The mining pipeline: list new commits and mine them on every core, as one stream.

    git rev-list --stdin ──► lister thread ──► blocks of BLOCK commits, dealt round-robin
                                                  │ SLICE revisions per git process
                 worker thread × N ◄──────────────┘
                 git log --no-walk --stdin -z (--raw --numstat | --name-status)
                        │ parsed as it streams (parse.py)
                        ▼
                 batches of BATCH commits ──► the caller (one transaction each)

Listing and mining overlap, nothing holds the whole list of commits, and each git process is fed
a bounded slice (git keeps every revision it is fed), so memory stays flat on any history length.
Interleaving blocks keeps consecutive commits in one process, where git's delta cache helps most.

A repository that lacks an object (a lost blob, a partial clone without its promisor) does not stop
the run: when a slice's `git log` fails, the commits it had not finished are probed (missing.py),
those whose blobs cannot be read are mined without line counts (`lines_unknown`), the rest again
with them, and `unreadable` lists the affected commits for the ingest's warning.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from onebar.errors import GitError
from onebar.git import popen_git
from onebar.mining.missing import unreadable_commits
from onebar.mining.parse import LOG_FORMAT, MinedCommit, iter_records

BATCH = 2000  # commits per batch handed back: one transaction each
BLOCK = 256  # consecutive commits dealt to one worker
SLICE = 10_000  # revisions per git process
READ_SIZE = 1 << 20

_END = object()


class Miner:
    """Iterate to get batches of new commits; `total` is known once listing has finished."""

    def __init__(
        self,
        root: Path,
        include: set[str],
        exclude: list[str],
        *,
        skip: set[str] | None = None,
        workers: int = 1,
        lines: bool = True,
        batch: int = BATCH,
    ):
        self.root = root
        self.spec = "\n".join([*sorted(include), *(f"^{sha}" for sha in exclude)]) + "\n"
        self.skip = skip or set()
        self.workers = max(1, workers)
        self.batch = batch
        self.args = [
            "log",
            "--stdin",
            "--no-walk=unsorted",
            "-z",
            "--no-renames",
            "--no-color",
            f"--format={LOG_FORMAT}",
        ]
        self.args += ["--raw", "--numstat"] if lines else ["--name-status"]
        self.lines = lines
        self.total: int | None = None
        self.unreadable: list[str] = []  # commits stored without line counts: git could not read them
        self._stop = threading.Event()
        self._out: queue.Queue[object] = queue.Queue(maxsize=8)
        self._slices: list[queue.Queue[object]] = [queue.Queue(maxsize=2) for _ in range(self.workers)]
        self._live: set[subprocess.Popen[bytes]] = set()
        self._errors: list[str] = []
        self._failure = ""

    def __iter__(self) -> Iterator[list[MinedCommit]]:
        if not self.spec.strip():
            self.total = 0
            return
        threads = [threading.Thread(target=self._list, daemon=True)]
        threads += [threading.Thread(target=self._work, args=(w,), daemon=True) for w in range(self.workers)]
        for t in threads:
            t.start()
        try:
            finished = 0
            while finished < self.workers:
                item = self._out.get()
                if item is _END:
                    finished += 1
                    continue
                yield item  # type: ignore[misc]
        finally:
            self._stop.set()
            for proc in list(self._live):
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        if self._errors:
            raise GitError(f"git failed in {self.root}: {self._errors[0]}")

    def _put(self, q: queue.Queue[object], item: object) -> bool:
        """Put unless the consumer has gone away (then give up, so no thread blocks forever)."""
        while not self._stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue[object]) -> object:
        while not self._stop.is_set():
            try:
                return q.get(timeout=0.2)
            except queue.Empty:
                continue
        return _END

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        proc = popen_git(self.root, *args)
        self._live.add(proc)
        return proc

    def _finish(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.wait() != 0 and not self._stop.is_set():
            assert proc.stderr is not None
            self._errors.append(proc.stderr.read().decode("utf-8", "replace").strip())
        self._live.discard(proc)

    def _list(self) -> None:
        pending: list[list[str]] = [[] for _ in range(self.workers)]
        try:
            lister = self._start("rev-list", "--stdin")
            assert lister.stdin is not None and lister.stdout is not None
            lister.stdin.write(self.spec.encode())
            lister.stdin.close()
            count, worker, block = 0, 0, 0
            for line in lister.stdout:
                sha = line[:-1].decode("ascii")
                if sha in self.skip:
                    continue
                pending[worker].append(sha)
                count += 1
                block += 1
                if block == BLOCK:
                    if len(pending[worker]) >= SLICE:
                        if not self._put(self._slices[worker], pending[worker]):
                            return
                        pending[worker] = []
                    worker, block = (worker + 1) % self.workers, 0
            self._finish(lister)
            self.total = count
        finally:
            for w in range(self.workers):
                if pending[w] and not self._errors:
                    self._put(self._slices[w], pending[w])
                self._put(self._slices[w], _END)

    def _work(self, worker: int) -> None:
        try:
            while (revs := self._get(self._slices[worker])) is not _END:
                if not self._mine(revs):  # type: ignore[arg-type]
                    return
        finally:
            self._put(self._out, _END)

    def _mine(self, revs: list[str]) -> bool:
        """Mine one slice; when git fails part-way, recover the rest around unreadable commits."""
        pending = revs
        while pending:
            done = self._stream(self.args, pending)
            if done is None:
                return False
            if len(done) == len(pending):
                return True
            rest = [sha for sha in pending if sha not in done]
            failed = self._failure
            bad = unreadable_commits(self.root, rest)
            if not bad:
                self._errors.append(failed)  # not a missing object: a real failure
                return False
            blind = [sha for sha in rest if sha in bad]
            if not self._mine_blind(blind):
                return False
            pending = [sha for sha in rest if sha not in bad]
        return True

    def _mine_blind(self, revs: list[str]) -> bool:
        """Commits whose blobs git cannot read: their file list without line counts (or none at all)."""
        for args in (self._args_without_lines(), self._args_without_files()):
            done = self._stream(args, revs, lines_unknown=True)
            if done is None:
                return False
            self.unreadable.extend(sha for sha in revs if sha in done)
            revs = [sha for sha in revs if sha not in done]
            if not revs:
                return True
        self._errors.append(self._failure)
        return False

    def _args_without_lines(self) -> list[str]:
        return [a for a in self.args if a not in ("--numstat", "--name-status")] + (
            ["--raw"] if "--raw" not in self.args else []
        )

    def _args_without_files(self) -> list[str]:
        return [a for a in self.args if a not in ("--raw", "--numstat", "--name-status")] + ["--no-patch"]

    def _stream(self, args: list[str], revs: list[str], *, lines_unknown: bool = False) -> set[str] | None:
        """Run one `git log` over `revs`, handing batches on; the shas it finished (all of them when git
        succeeded), or None when the consumer went away. A failure leaves its message in `_failure`."""
        proc = self._start(*args)
        assert proc.stdin is not None and proc.stdout is not None
        stdout: Any = proc.stdout  # a BufferedReader: read1 returns what is there, up to READ_SIZE

        def feed() -> None:
            try:
                proc.stdin.write(("\n".join(revs) + "\n").encode())  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except (BrokenPipeError, ValueError, OSError):
                pass  # git died or was killed: its exit status says so

        threading.Thread(target=feed, daemon=True).start()
        done: set[str] = set()
        batch: list[MinedCommit] = []
        held: MinedCommit | None = None  # the last record is complete only if git exits cleanly
        for commit in iter_records(iter(lambda: stdout.read1(READ_SIZE), b""), name_status=not self.lines):
            commit.lines_unknown = lines_unknown
            if held is not None:
                batch.append(held)
                done.add(held.sha)
            held = commit
            if len(batch) >= self.batch:
                if not self._put(self._out, batch):
                    return None
                batch = []
        code = proc.wait()
        self._live.discard(proc)
        if code == 0 and held is not None:
            batch.append(held)
            done.add(held.sha)
        if batch and not self._put(self._out, batch):
            return None
        if code != 0:
            if self._stop.is_set():
                return None
            assert proc.stderr is not None
            self._failure = proc.stderr.read().decode("utf-8", "replace").strip() or f"exit status {code}"
        return done
