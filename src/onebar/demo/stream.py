"""One `git fast-import` process fed from Python, with `get-mark` answers read back on a pipe.

Commit messages of reverts and `Fixes:` trailers must name real shas, which only fast-import knows.
We ask with `get-mark :N` as soon as a commit that may be named later is written, and a reader thread
collects the answers from the `--cat-blob-fd` pipe; by the time the sha is needed it has usually
arrived, so the generator and fast-import keep running in parallel on two cores.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections import deque
from pathlib import Path

from onebar.errors import GitError

BUFFER = 1 << 20


class FastImport:
    """A running fast-import into `repo`; write commands with `write`, finish with `close`."""

    def __init__(self, repo: Path, active_branches: int = 32) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [
                    "git",
                    "fast-import",
                    "--quiet",
                    "--done",
                    f"--cat-blob-fd={write_fd}",
                    f"--active-branches={active_branches}",
                ],
                cwd=repo,
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
                bufsize=BUFFER,
            )
        except OSError as exc:
            os.close(read_fd)
            raise GitError(f"cannot run git fast-import: {exc}") from None
        finally:
            os.close(write_fd)
        assert self.proc.stdin is not None
        self._stdin = self.proc.stdin
        self._answers = os.fdopen(read_fd, "rb")
        self._asked: deque[int] = deque()
        self._shas: dict[int, str] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read_answers, name="fast-import-answers", daemon=True)
        self._reader.start()

    def _read_answers(self) -> None:
        for line in self._answers:
            with self._cond:
                self._shas[self._asked.popleft()] = line.decode().strip()
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def write(self, data: bytes) -> None:
        try:
            self._stdin.write(data)
        except BrokenPipeError:
            self._fail()

    def ask(self, mark: int) -> None:
        """Request the sha of `mark` (already written); read it later with `sha`."""
        with self._cond:
            self._asked.append(mark)
        self.write(b"get-mark :%d\n" % mark)

    def flush(self) -> None:
        """Hand fast-import what is buffered, so that the answers to recent asks come early."""
        try:
            self._stdin.flush()
        except BrokenPipeError:
            self._fail()

    def sha(self, mark: int) -> str:
        """The sha of an `ask`ed mark, waiting for fast-import to answer if need be."""
        with self._cond:
            if mark in self._shas:
                return self._shas[mark]
        try:
            self._stdin.flush()
        except BrokenPipeError:
            self._fail()
        with self._cond:
            while mark not in self._shas:
                if self._closed:
                    self._fail()
                self._cond.wait()
            return self._shas[mark]

    def forget(self, mark: int) -> None:
        """Drop a sha no longer needed, so memory stays bounded on long histories."""
        with self._cond:
            self._shas.pop(mark, None)

    def close(self) -> None:
        try:
            self._stdin.write(b"done\n")
            self._stdin.close()
        except BrokenPipeError:
            pass
        code = self.proc.wait()
        self._reader.join()
        self._answers.close()
        if code != 0:
            self._fail()
        if self.proc.stderr:
            self.proc.stderr.close()

    def abort(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def _fail(self) -> None:
        self.abort()
        err = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.stderr else ""
        raise GitError(f"git fast-import failed: {err.strip()[-2000:] or 'no message'}")
