"""A progress bar on stderr for long work (copies, hashing, archives, scans, parallel runs).

Drawn only when a person is watching (interactive session, stderr is a terminal), redrawn at
most ten times a second so it costs nothing measurable, and erased when the work ends so the
result prints on a clean line. It shows the rate and, when the total is known, the time left:

    copy [##########..........]  50% 512M/1.0G 98M/s ETA 5s
"""

from __future__ import annotations

import collections
import errno
import os
import shutil
import stat
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from opsh.shell.cells import visible

BYTES = "B"
_WINDOW = 5.0  # seconds of history the rate is measured over
_CHUNK = 8 * 1024 * 1024


class Progress:
    """Counter with an optional total; `advance()` is safe to call from worker threads.

    `unit` is "B" when the counter counts bytes (shown as 12M, 1.5G), else "" (plain counts)."""

    def __init__(
        self,
        total: float | None,
        label: str,
        stream: TextIO | None = None,
        enabled: bool = True,
        unit: str = "",
    ) -> None:
        self.total = total
        self.label = label
        self.unit = unit
        self.done = 0.0
        self.stream = stream or sys.stderr
        self.enabled = enabled and _is_tty(self.stream)
        self.started = time.monotonic()
        self._samples: collections.deque[tuple[float, float]] = collections.deque([(self.started, 0.0)])
        self._last_draw = 0.0
        self._lock = threading.Lock()
        self._drawn = False
        self.note = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.clear()

    def advance(self, amount: float = 1, note: str = "") -> None:
        with self._lock:
            self.done += amount
            if note:
                self.note = note
            now = time.monotonic()
            if now - self._last_draw >= 0.1:
                self._last_draw = now
                self._sample(now)
                if self.enabled:
                    self._draw(now)

    def set_total(self, total: float) -> None:
        self.total = total

    def _sample(self, now: float) -> None:
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[1][0] > _WINDOW:
            self._samples.popleft()

    def rate(self) -> float:
        """Units per second over the last few seconds (0 until there is something to measure)."""
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    def line(self, width: int, now: float | None = None) -> str:
        """The bar as drawn, at most `width - 1` columns."""
        elapsed = (now or time.monotonic()) - self.started
        rate = self.rate()
        speed = f"{self._amount(rate)}/s" if rate > 0 else ""
        if self.total:
            frac = min(1.0, self.done / self.total)
            left = (self.total - self.done) / rate if rate > 0 else None
            eta = f"ETA {_duration(left)}" if left is not None else ""
            amounts = f"{self._amount(self.done)}/{self._amount(self.total)}"
            tail = " ".join(p for p in (f"{frac:4.0%}", amounts, speed, eta) if p)
            room = width - len(self.label) - len(tail) - 5 - (len(self.note) + 1 if self.note else 0)
            bar_width = max(5, min(30, room))
            filled = int(bar_width * frac)
            text = f"{self.label} [{'#' * filled}{'.' * (bar_width - filled)}] {tail}"
        else:
            text = " ".join(p for p in (self.label, self._amount(self.done), speed, f"{elapsed:.1f}s") if p)
        if self.note:
            text += f" {self.note}"
        return visible(text)[: max(width - 1, 1)]  # a label or note may hold a remote file's name

    def _amount(self, value: float) -> str:
        return _size(value) if self.unit == BYTES else _count(value)

    def _draw(self, now: float) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + self.line(width, now) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._drawn = False


def copy_with_progress(src: str, dst: str, progress: Progress) -> None:
    """shutil.copy2 (data, mode, times) in chunks, advancing `progress` by the bytes copied, so
    a large file shows its progress and Ctrl-C lands between chunks. Refuses what copy2
    refuses: the same file twice (it would be emptied), a named pipe."""
    if os.path.exists(dst) and os.path.samefile(src, dst):
        raise shutil.SameFileError(f"{src!r} and {dst!r} are the same file")
    if stat.S_ISFIFO(os.stat(src).st_mode):
        raise shutil.SpecialFileError(f"`{src}` is a named pipe")
    with open(src, "rb") as reader, open(dst, "wb") as writer:
        if not _send(reader.fileno(), writer.fileno(), progress):
            while chunk := reader.read(_CHUNK):
                writer.write(chunk)
                progress.advance(len(chunk))
    shutil.copystat(src, dst)


def _send(source: int, target: int, progress: Progress) -> bool:
    """Copy in the kernel (os.sendfile, as shutil does); False if it cannot start here."""
    offset = 0
    while True:
        try:
            sent = os.sendfile(target, source, offset, _CHUNK)
        except OSError as exc:
            if offset == 0 and exc.errno in (errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP):
                return False
            raise
        if sent == 0:
            return True
        offset += sent
        progress.advance(sent)


def _count(value: float) -> str:
    if value >= 100_000:
        return f"{value / 1000:.0f}k" if value < 10_000_000 else f"{value / 1_000_000:.0f}M"
    return f"{value:.0f}"


def _size(value: float) -> str:
    for unit in ("B", "K", "M", "G", "T"):
        if abs(value) < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 10 else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
