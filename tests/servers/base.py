"""Starting and stopping the real servers the tests talk to.

Every server runs on 127.0.0.x with a port chosen here (free at the time of asking, outside
the standard ports), keeps its data in a temp dir, and is stopped by the PID we started (never
by name). A missing server binary fails the test run: a green run must mean "tested".
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import socketserver
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def require_binary(name: str) -> str:
    """Absolute path of a server binary, or a test failure saying how to get it."""
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"{name} is not installed: run tests/run, which installs the test servers", pytrace=False)


def free_port(hosts: Sequence[str] = ("127.0.0.1",)) -> int:
    """A TCP port that is free on every address in `hosts` (for multi-address servers)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
        if all(port_is_free(h, port) for h in hosts[1:]):
            return port
    raise RuntimeError(f"no common free port on {hosts}")


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise RuntimeError(f"{what} did not become ready in {timeout}s{tail}")


@dataclass
class ServerProcess:
    """A server we started: foreground child, or a daemon known by its pid file."""

    name: str
    proc: subprocess.Popen[bytes] | None = None
    pid_file: Path | None = None
    binary: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def spawn(cls, name: str, argv: list[str], log: Path, **popen: object) -> ServerProcess:
        out = open(log, "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen)  # type: ignore[call-overload]
        out.close()
        return cls(name, proc=proc, binary=argv[0])

    def pid(self) -> int | None:
        if self.proc is not None:
            return self.proc.pid
        if self.pid_file and self.pid_file.exists():
            text = self.pid_file.read_text().strip()
            return int(text) if text.isdigit() else None
        return None

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        pid = self.pid()
        return pid is not None and _pid_alive(pid)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL, to the PID we started and only that one."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            return
        pid = self.pid()
        if pid is None or not self._is_ours(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)

    def _is_ours(self, pid: int) -> bool:
        """The pid file's process still runs our binary (a recycled pid is left alone)."""
        if self.binary is None:
            return True
        try:
            exe = os.path.realpath(f"/proc/{pid}/exe")
        except OSError:
            return False
        return exe == os.path.realpath(self.binary)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def bounded_accept(server: socketserver.TCPServer) -> None:
    """An accept that gives up after a while. A CI run once hung for good at the end: the
    emulator's serve_forever sat in accept() after select() had said a client was there, and
    shutdown() waits for serve_forever. (The suite's port scans connect to every listener and
    leave at once.) With a timeout, such an accept fails, serve_forever goes on and sees the
    shutdown; accepted connections are still blocking (socket.accept makes them so)."""
    server.socket.settimeout(0.5)
