"""Where rendered output goes: the terminal (paged when long), a file, or a local command.

The renderer writes text to a Sink and never needs to know which one it has. The terminal sink
holds back one screen of lines; only when more arrive does it start the pager and stream the
rest into it, so short output never flashes a pager and long output shows its first screen
before the command has finished producing it.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from opsh.shell.errors import swallowed


class OutputClosed(Exception):
    """The reader went away (pager quit, pipe closed): stop producing output quietly."""


class Sink:
    color = False
    width = 10_000
    is_terminal = False

    def write(self, text: str) -> None:
        raise NotImplementedError

    def write_bytes(self, data: bytes) -> None:
        """Exact bytes (a binary value in raw output): files and pipes get them unchanged.
        A text-only destination gets them as text with undecodable bytes kept as surrogate
        escapes, so that encoding back with `surrogateescape` gives the same bytes."""
        self.write(data.decode("utf-8", "surrogateescape"))

    def flush(self) -> None:
        """Make what was written visible now (streams call this per line)."""

    def close(self) -> None:
        """Finish: show held-back output, wait for a pager or pipe."""

    def table_width(self, lines: int) -> int | None:
        """The width a table of `lines` lines must fit (None: any width, nothing is cut)."""
        return self.width if self.is_terminal else None


class StreamSink(Sink):
    """A plain text stream (stdout when not a terminal, or a buffer in tests)."""

    def __init__(self, stream: TextIO, color: bool = False, width: int = 10_000) -> None:
        self.stream = stream
        self.color = color
        self.width = width

    def write(self, text: str) -> None:
        try:
            self.stream.write(text)
        except BrokenPipeError:
            raise OutputClosed from None

    def write_bytes(self, data: bytes) -> None:
        binary = getattr(self.stream, "buffer", None)
        if binary is None:
            super().write_bytes(data)
            return
        try:
            self.stream.flush()
            binary.write(data)
        except BrokenPipeError:
            raise OutputClosed from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise OutputClosed from None


class TerminalSink(Sink):
    """The screen: colours per setting, and a pager once output outgrows the screen."""

    is_terminal = True

    def __init__(self, stream: TextIO, color: bool, pager: bool) -> None:
        size = shutil.get_terminal_size((100, 24))
        self.stream = stream
        self.color = color
        self.width = size.columns
        self.limit = max(size.lines - 2, 3)
        self.pager_enabled = pager
        self.held: list[str] = []
        self.lines = 0
        self.pager: subprocess.Popen[str] | None = None

    def write(self, text: str) -> None:
        if self.pager is not None:
            self._to_pager(text)
            return
        if not self.pager_enabled:
            self._to_screen(text)
            return
        self.held.append(text)
        self.lines += text.count("\n")
        if self.lines > self.limit:
            self._start_pager()

    def write_bytes(self, data: bytes) -> None:
        """A screen shows text: bytes that are not UTF-8 become U+FFFD (files and pipes get
        the exact bytes)."""
        self.write(data.decode("utf-8", "replace"))

    def flush(self) -> None:
        if self.pager is None and not self.pager_enabled:
            self.stream.flush()

    def table_width(self, lines: int) -> int | None:
        """A table that fills more than the screen goes to the pager, which (less -S) shows
        long lines cut at the edge and scrolls sideways: only a table on the screen is fitted."""
        if self.pager_enabled and (self.pager is not None or self.lines + lines > self.limit):
            return None
        return self.width

    def _to_screen(self, text: str) -> None:
        try:
            self.stream.write(text)
        except BrokenPipeError:
            raise OutputClosed from None

    def _start_pager(self) -> None:
        command = pager_command()
        held, self.held = "".join(self.held), []
        if command is None:
            self.pager_enabled = False
            self._to_screen(held)
            return
        env = dict(os.environ, LESSCHARSET=os.environ.get("LESSCHARSET", "utf-8"))
        self.stream.flush()
        self.pager = subprocess.Popen(
            command, stdin=subprocess.PIPE, text=True, encoding="utf-8", errors="replace", env=env
        )
        self._to_pager(held)

    def _to_pager(self, text: str) -> None:
        assert self.pager is not None and self.pager.stdin is not None
        try:
            self.pager.stdin.write(text)
        except (BrokenPipeError, OSError):
            raise OutputClosed from None

    def close(self) -> None:
        if self.pager is None:
            self._to_screen("".join(self.held))
            self.held = []
            self.stream.flush()
            return
        try:
            assert self.pager.stdin is not None
            self.pager.stdin.close()
        except (BrokenPipeError, OSError):
            swallowed("closing the input of a pager or pipe")
        _wait_uninterrupted(self.pager)


# Files and pipes get a name's exact bytes: one that is not UTF-8 (held as surrogate escapes,
# as os.listdir and tarfile give it) is written back as the bytes it came from.
EXACT = "surrogateescape"


class FileSink(Sink):
    """`> file` and `>> file`: plain text, no colour, no pager."""

    def __init__(self, path: Path, append: bool) -> None:
        self.path = path
        self.file = open(path, "a" if append else "w", encoding="utf-8", errors=EXACT, newline="")  # noqa: SIM115

    def write(self, text: str) -> None:
        self.file.write(text)

    def write_bytes(self, data: bytes) -> None:
        self.file.flush()
        self.file.buffer.write(data)

    def close(self) -> None:
        self.file.close()


class PipeSink(Sink):
    """`| command`: the rendered text becomes the local command's stdin."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.command = command
        sys.stdout.flush()
        self.proc = subprocess.Popen(
            command, shell=True, stdin=subprocess.PIPE, text=True, cwd=cwd, encoding="utf-8", errors=EXACT
        )

    def write(self, text: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(text)
        except (BrokenPipeError, OSError):
            raise OutputClosed from None

    def write_bytes(self, data: bytes) -> None:
        stdin = self.proc.stdin
        assert isinstance(stdin, io.TextIOWrapper)
        try:
            stdin.flush()
            stdin.buffer.write(data)
        except (BrokenPipeError, OSError):
            raise OutputClosed from None

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            swallowed("closing the input of a pager or pipe")
        _wait_uninterrupted(self.proc)

    def exit_status(self) -> int | None:
        """The command's exit status once close() has waited for it (negative: the signal
        that killed it), as a shell's pipefail counts it: a command that stopped reading early
        (`head -1`) and exited 0 has not failed, whatever it left unread."""
        return self.proc.returncode


def pager_command() -> list[str] | None:
    """$PAGER if set, else `less -SRFX` (chop long lines, colours, quit if one screen)."""
    configured = os.environ.get("OPSH_PAGER") or os.environ.get("PAGER")
    if configured:
        return shlex.split(configured)
    if shutil.which("less"):
        return ["less", "-SRFX"]
    return None


def _wait_uninterrupted(proc: subprocess.Popen[str]) -> None:
    """Wait for a pager or pipe; Ctrl-C while it runs goes to it, not to us."""
    while True:
        try:
            proc.wait()
            return
        except KeyboardInterrupt:
            continue
