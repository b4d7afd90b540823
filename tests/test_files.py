"""Output files are replaced whole, and a special file such as /dev/null is written, never replaced."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from onebar.errors import UsageError
from onebar.files import replace_text


def test_a_regular_file_is_replaced_whole_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out" / "CODEOWNERS"
    replace_text(target, "one\n")
    target.chmod(0o640)
    replace_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["CODEOWNERS"]  # no temporary file left


def test_a_fifo_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        replace_text(fifo, "through the pipe\n")
        assert os.read(read_fd, 100) == b"through the pipe\n"
    finally:
        os.close(read_fd)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_null_stays_a_device() -> None:
    replace_text(Path("/dev/null"), "discarded\n")
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_a_directory_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        replace_text(tmp_path, "x", field="output")
    assert err.value.field == "output"
