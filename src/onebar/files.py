"""Writing output files whole: a reader never sees half a file, and special files stay what they are.

A regular file is replaced atomically (a temporary file beside it, then a rename). A path that is
not a regular file, such as `/dev/null`, `/dev/stdout` or a named pipe, is written in place: renaming
over it would turn a device into a plain file for every other program on the machine.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from onebar.errors import UsageError


def replace_text(path: Path, text: str, *, field: str | None = None) -> None:
    """Write `text` (UTF-8) to `path` whole; `field` names the input that gave the path in errors."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a file to write", field=field)
    try:
        _write(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}", field=field) from None


def _write(path: Path, text: str) -> None:
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8") as fh:
            fh.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        staged = Path(tmp)
        staged.chmod(path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        staged.replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
