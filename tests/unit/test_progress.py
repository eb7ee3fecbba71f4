"""The progress bar's line: bar, share done, amounts, rate and time left, in the width given."""

from __future__ import annotations

import io

import pytest

from opsh.shell import progress
from opsh.shell.progress import BYTES, Progress, copy_with_progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress.time, "monotonic", fake)
    return fake


def test_bytes_with_rate_and_time_left(clock):
    bar = Progress(1024**3, "copy", stream=io.StringIO(), unit=BYTES)
    for _ in range(10):
        clock.now += 1
        bar.advance(50 * 1024**2)
    line = bar.line(80)
    assert line.startswith("copy [") and " 49% 500M/1.0G 50M/s ETA 10s" in line, line
    assert len(line) < 80


def test_counts_without_a_total_show_rate_and_time_so_far(clock):
    bar = Progress(None, "du", stream=io.StringIO())
    clock.now += 2
    bar.advance(4000)
    assert bar.line(80) == "du 4000 2000/s 2.0s"


def test_a_narrow_terminal_gets_a_shorter_line(clock):
    bar = Progress(65535, "scan", stream=io.StringIO())
    clock.now += 1
    bar.advance(30000, note="3 open")
    assert len(bar.line(40)) <= 39


def test_nothing_is_drawn_when_nobody_watches(clock):
    stream = io.StringIO()  # not a terminal
    bar = Progress(10, "x", stream=stream)
    clock.now += 1
    bar.advance(5)
    bar.clear()
    assert stream.getvalue() == ""


def test_copy_with_progress_copies_data_mode_and_times(tmp_path, clock):
    import os

    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    src.chmod(0o640)
    os.utime(src, (1_600_000_000, 1_600_000_000))
    bar = Progress(src.stat().st_size, "cp", stream=io.StringIO(), unit=BYTES)
    copy_with_progress(str(src), str(tmp_path / "copy.bin"), bar)
    copied = tmp_path / "copy.bin"
    assert copied.read_bytes() == src.read_bytes() and bar.done == src.stat().st_size
    assert copied.stat().st_mode & 0o777 == 0o640 and copied.stat().st_mtime == 1_600_000_000
    with pytest.raises(OSError):
        copy_with_progress(str(src), str(src), bar)  # the same file is refused, never emptied
    assert src.stat().st_size == 3 * 1024 * 1024 + 17


def test_a_name_from_outside_in_the_label_or_note_shows_its_control_characters(clock):
    bar = Progress(None, "pull a\x1b]0;PWNED\x07b", stream=io.StringIO())
    clock.now += 1
    bar.advance(1, note="web1:/tmp/x\x1b[2J")
    line = bar.line(200)
    assert "\x1b" not in line and "\x07" not in line
    assert line.startswith("pull a\\033]0;PWNED\\ab") and line.endswith("web1:/tmp/x\\033[2J")
