"""A progress bar on stderr for long work (scans, copies, archives, parallel runs).

Drawn only when a person is watching (interactive session, stderr is a terminal), redrawn at
most ten times a second so it costs nothing measurable, and erased when the work ends so the
result prints on a clean line.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """Counter with an optional total; `advance()` is safe to call from worker threads."""

    def __init__(self, total: float | None, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.label = label
        self.done = 0.0
        self.stream = stream or sys.stderr
        self.enabled = enabled and _is_tty(self.stream)
        self.started = time.monotonic()
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
            if self.enabled and now - self._last_draw >= 0.1:
                self._last_draw = now
                self._draw()

    def set_total(self, total: float) -> None:
        self.total = total

    def _draw(self) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        elapsed = time.monotonic() - self.started
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar_width = max(10, min(30, width - 50))
            filled = int(bar_width * frac)
            bar = "#" * filled + "." * (bar_width - filled)
            text = f"{self.label} [{bar}] {frac:4.0%} {_count(self.done)}/{_count(self.total)} {elapsed:.1f}s"
        else:
            text = f"{self.label} {_count(self.done)} {elapsed:.1f}s"
        if self.note:
            text += f" {self.note}"
        self.stream.write("\r" + text[: width - 1] + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._drawn = False


def _count(value: float) -> str:
    if value >= 10 * 1024**2 and value == int(value):
        return f"{value / 1024**2:.0f}M"
    return f"{value:.0f}"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
