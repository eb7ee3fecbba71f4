"""Devices, fifos and directories where a file is expected: refused before a byte is read.

The repros of issue 17: `archive list /dev/zero` grew opsh to 23 GB with Ctrl-C ignored,
`replay /dev/zero` and `hosts load /dev/zero` hit MemoryError. Each line runs in its own
`opsh -c` with a timeout and a memory limit, so a regression fails here instead of hanging
or swapping the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from opsh.shell.errors import NotFound, UsageError
from opsh.shell.fileread import FileTooLarge, NotRegularFile, open_regular, read_bytes, read_text
from tests.helpers import clean_env, opsh_binary

MEMORY_LIMIT = 2 * 1024**3  # address space: far above what opsh needs, far below 23 GB

COMMANDS_THAT_READ_A_FILE = [
    "archive list {}",
    "archive extract {} --to out",
    "hash {}",
    "hash --check {}",
    "cat {}",
    "cat --hex {}",
    "head {}",
    "tail {}",
    "tail -f {}",
    "replay {}",
    "random choice --from {}",
    "hosts load {}",
]


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def opsh_c(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [opsh_binary(), "--no-history", "-c", line],
        cwd=cwd,
        env=clean_env(cwd / "home"),
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=limited,
    )


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A named pipe nobody writes to: opening it for reading would block forever."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("line", COMMANDS_THAT_READ_A_FILE)
def test_dev_zero_is_refused_at_once(tmp_path, line):
    done = opsh_c(line.format("/dev/zero"), tmp_path)
    assert done.returncode != 0
    assert done.stderr.startswith("error: /dev/zero is a character device, not a regular file")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("line", COMMANDS_THAT_READ_A_FILE)
def test_a_fifo_is_refused_without_blocking(tmp_path, fifo, line):
    done = opsh_c(line.format(fifo), tmp_path)
    assert done.returncode != 0
    assert "is a fifo (named pipe), not a regular file" in done.stderr


@pytest.mark.parametrize("line", ["archive list {}", "hash {}", "cat {}", "replay {}", "random choice --from {}"])
def test_a_directory_is_refused_with_its_own_words(sh, tmp_path, line):
    (tmp_path / "adir").mkdir()
    out = sh.fails(line.format("adir"), "is a directory")
    assert out.err.count("\n") == 1


def test_head_hex_still_reads_a_bounded_piece_of_a_device(sh):
    out = sh.ok("head --hex -n 2 /dev/zero")
    assert out.lines == [
        "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
        "00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|",
    ]


def test_proc_files_say_size_0_and_are_still_read(sh):
    assert "processor" in sh.ok("cat /proc/cpuinfo").text
    assert sh.ok("head -n 1 /proc/self/status").text.startswith("Name:")


def test_regular_files_still_work_everywhere(sh, tmp_path):
    (tmp_path / "items.txt").write_text("alpha\nbeta\n")
    (tmp_path / "script.opsh").write_text("echo from the script\n")
    assert sh.ok("random choice --from items.txt").text.strip() in ("alpha", "beta")
    assert sh.ok("replay script.opsh").text == "from the script\n"
    assert sh.ok("cat items.txt").text == "alpha\nbeta\n"
    sh.ok("hash --sums items.txt > SUMS")
    assert sh.json("hash --check SUMS")[0]["status"] == "OK"


def test_the_reader_refuses_past_its_limit_and_reads_up_to_it(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 1000)
    assert read_bytes(big, limit=1000) == b"x" * 1000
    with pytest.raises(FileTooLarge, match="big.txt is larger than 999 bytes"):
        read_bytes(big, "big.txt", limit=999)
    with pytest.raises(NotFound, match="no such script: gone.opsh"):
        read_text(tmp_path / "gone.opsh", "gone.opsh", "script")
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    with pytest.raises(UsageError, match="not a text file"):
        read_text(tmp_path / "binary")


def test_the_open_never_blocks_and_leaks_no_descriptor(fifo):
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        with pytest.raises(NotRegularFile):
            open_regular(fifo)
    assert len(os.listdir("/proc/self/fd")) == before
