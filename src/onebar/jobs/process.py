"""Job workers in a child process of `onebar serve`, so that jobs never hold the interpreter a request waits for.

A job is Python work (parsing deliveries, ingesting, building reports). Run by threads of the serving
process, it holds the GIL in 5 ms slices, and every request step that lets go of the GIL (each
SQLite statement, each socket write) then waits for a slice: a webhook delivery received in 1.5 ms
alone took tens to hundreds of milliseconds while a batch was processed beside it. So `onebar serve`
runs its job workers in `onebar worker --parent PID`, a process it starts, wakes, watches and stops:

    parent -> child, stdin    one line per wake-up (a job or a delivery was just stored); EOF: finish
                              the running jobs and exit (a graceful shutdown)
    child -> parent, stdout   one JSON line per job outcome and per timed job step, for /metrics
    the parent dies           the child is killed with it (Linux: PR_SET_PDEATHSIG, set by the child
                              itself), as its threads would have been; the job it held is claimed
                              again once the lease runs out
    the child dies            the parent starts another after `RESTART` seconds

Either side may run without the other: `onebar worker` alone serves a PostgreSQL store from any
machine, and `onebar serve --job-workers 0` serves requests only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO

from onebar.jobs.handlers import Context
from onebar.jobs.worker import Schedule, run_workers

log = logging.getLogger("onebar.jobs")

RESTART = 1.0  # seconds before a child that died is replaced
PR_SET_PDEATHSIG = 1

OnOutcome = Callable[[str, str], None]  # (job kind, outcome)
OnStep = Callable[[str, str, float], None]  # (step, repository, seconds)


def die_with_parent(parent: int) -> None:
    """In the child: ask Linux to SIGKILL this process when the thread that started it ends, and exit
    now if `parent` is already gone. Elsewhere the child stops at EOF on its stdin, once its running
    job is done."""
    if sys.platform == "linux":
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        raise SystemExit(0)


class ChildWorkers:
    """The parent's handle on its worker process: started and restarted by one watcher thread (the
    thread that starts a process is the one whose end kills it), woken through a pipe."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], on_outcome: OnOutcome, on_step: OnStep):
        self.argv = list(argv)
        self.env = env
        self.on_outcome = on_outcome
        self.on_step = on_step
        self.proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()  # wake() and stop() write to / close the same pipe

    def start(self) -> None:
        self._watcher = threading.Thread(target=self._watch, name="onebar-worker-process", daemon=True)
        self._watcher.start()
        self._started.wait(10)

    def wake(self) -> None:
        """Tell the child to look at the queue now; never blocks (a full pipe means it has wake-ups to read)."""
        with self._lock:
            proc = self.proc
            if proc is None or proc.stdin is None or proc.stdin.closed:
                return
            with contextlib.suppress(OSError):  # BlockingIOError, BrokenPipeError among them
                os.write(proc.stdin.fileno(), b"\n")

    def stop(self, timeout: float) -> bool:
        """Let the child finish its running jobs within `timeout`, then kill it. True when it finished."""
        self._stopping.set()
        with self._lock:
            proc = self.proc
            if proc is not None and proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # EOF: stop claiming, finish, exit
        finished = True
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                finished = False
                proc.kill()
                proc.wait()
        if self._watcher is not None:
            self._watcher.join(timeout)
        return finished

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin is not None
        os.set_blocking(proc.stdin.fileno(), False)
        return proc

    def _watch(self) -> None:
        while not self._stopping.is_set():
            try:
                proc = self._spawn()
            except OSError as exc:
                log.error("could not start the job worker process: %s", exc)
                self._started.set()
                if self._stopping.wait(RESTART):
                    return
                continue
            with self._lock:
                self.proc = proc
            self._started.set()
            assert proc.stdout is not None
            self._relay(proc.stdout)
            code = proc.wait()
            if not self._stopping.is_set():
                log.warning("the job worker process %s exited (%s); starting another", proc.pid, code)
                self._stopping.wait(RESTART)

    def _relay(self, out: IO[bytes]) -> None:
        for line in out:
            try:
                event = json.loads(line)
                if "outcome" in event:
                    kind, outcome = event["outcome"]
                    self.on_outcome(str(kind), str(outcome))
                elif "step" in event:
                    step, repo, seconds = event["step"]
                    self.on_step(str(step), str(repo), float(seconds))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("job worker process said something unexpected (%s): %r", exc, line[:200])


def serve_jobs(
    ctx: Context,
    *,
    threads: int,
    lease: int,
    poll: float,
    schedules: tuple[Schedule, ...],
    shutdown_timeout: float,
    child: bool,
) -> bool:
    """`onebar worker`: run job workers until SIGTERM or SIGINT (or, as a child, EOF on stdin); then
    finish the running jobs within `shutdown_timeout`. True when every worker finished in time."""
    from onebar.jobs.deliveries import ARRIVED

    stop = threading.Event()
    workers = run_workers(
        ctx,
        threads=threads,
        lease=lease,
        poll=poll,
        schedules=schedules,
        on_outcome=tell_outcome if child else None,
    )

    def wake_on_stdin() -> None:
        for _ in sys.stdin.buffer:  # one line per job or delivery stored by the parent
            ARRIVED.set()  # a running `deliveries` job gathers the next batch now, not at its next look
            for w in workers:
                w.wake()
        stop.set()  # EOF: the parent is stopping (or gone)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if child:
        threading.Thread(target=wake_on_stdin, name="onebar-worker-wake", daemon=True).start()
    while not stop.wait(3600):
        pass
    finished = True
    for w in workers:
        if not w.stop(shutdown_timeout):
            log.warning("job worker %s did not finish in time; its job will be claimed again", w.name)
            finished = False
    return finished


def tell_outcome(kind: str, outcome: str) -> None:
    """A child's job outcome, told to the parent (its `onebar_jobs_finished_total`)."""
    _tell({"outcome": [kind, outcome]})


def tell_step(step: str, repo: str, seconds: float) -> None:
    """A child's timed job step, told to the parent (its `onebar_job_step_duration_seconds`)."""
    _tell({"step": [step, repo, seconds]})


_tell_lock = threading.Lock()


def _tell(event: dict[str, object]) -> None:
    line = json.dumps(event) + "\n"
    with _tell_lock:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass  # the parent has gone: nobody to tell
