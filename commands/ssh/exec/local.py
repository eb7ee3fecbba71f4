"""The `local` target: the command runs on this machine, read the same way as a remote one."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from pathlib import Path

from opsh.commands.ssh.exec.remote import Chunker, split_lines
from opsh.shell.errors import swallowed


class LocalCommand:
    def __init__(self, command: str, cwd: Path) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: signals reach its children too
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ, ("out", Chunker()))
        self.selector.register(self.proc.stderr, selectors.EVENT_READ, ("err", Chunker()))
        self.done = False
        self.exit_status: int | None = None

    def read_text(self, wait: float = 0.1) -> list[tuple[str, str]]:
        """[(stream, text)] in whole lines, as RemoteCommand.read_text."""
        pieces: list[tuple[str, str]] = []
        for key, _ in self.selector.select(wait):
            stream, chunker = key.data
            data = os.read(key.fd, 65536)
            text = chunker.feed(data) if data else chunker.flush()
            if text:
                pieces.append((stream, text))
            if not data:
                self.selector.unregister(key.fileobj)
                key.fileobj.close()  # type: ignore[union-attr]
        if not self.selector.get_map():
            code = self.proc.wait()
            self.exit_status = code if code >= 0 else None
            self.done = True
            self.selector.close()
        return pieces

    def read(self, wait: float = 0.1) -> list[tuple[str, str]]:
        return [(stream, line) for stream, text in self.read_text(wait) for line in split_lines(text)]

    ending: str | None = None  # a local command that ended without a status was killed by a signal

    def signal(self, name: str = "TERM") -> None:
        try:
            os.killpg(self.proc.pid, getattr(signal, f"SIG{name}"))
        except (ProcessLookupError, PermissionError):
            swallowed(f"sending signal {name} to a local command (already gone?)")

    def interrupt(self) -> None:
        self.signal("TERM")

    def kill(self) -> None:
        self.signal("KILL")

    def stop(self, grace: float = 0.5) -> None:
        self.signal("TERM")
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.signal("KILL")
            self.proc.wait()
        self.close()

    def close(self) -> None:
        for key in list(self.selector.get_map().values()) if not self.done else []:
            key.fileobj.close()  # type: ignore[union-attr]
        if not self.done:
            self.selector.close()
            self.done = True
