"""A real memcached on 127.0.0.1, in the foreground as our child, stopped by its PID.

    with start_memcached(tmpdir) as mc:
        mc.url -> "memcache://127.0.0.1:PORT"

`memcached_server` is the session-wide pytest fixture; `.client()` gives a pymemcache client
for setting up and checking data behind opsh's back.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers.base import ServerProcess, free_port, require_binary, wait_until


@dataclass
class Memcached:
    host: str
    port: int
    process: ServerProcess
    argv: list[str] = field(default_factory=list)
    log: Path | None = None

    def kill(self) -> None:
        """Stop the server (by the PID we started), as a crash or an admin would."""
        self.process.stop()

    def restart(self) -> None:
        """Start it again on the same port after kill() (empty: memcached keeps nothing)."""
        assert self.log is not None
        self.process = ServerProcess.spawn("memcached", self.argv, self.log)
        wait_until(lambda: answers_version(self.host, self.port), 10, "memcached", self.log)

    @property
    def url(self) -> str:
        return f"memcache://{self.host}:{self.port}"

    def client(self):  # noqa: ANN201 - pymemcache Client, imported lazily
        from pymemcache.client.base import Client

        return Client((self.host, self.port), connect_timeout=5, timeout=5, default_noreply=False)


def answers_version(host: str, port: int) -> bool:
    """Ready means the protocol answers, not just that the port is open."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as conn:
            conn.sendall(b"version\r\n")
            return conn.recv(64).startswith(b"VERSION")
    except OSError:
        return False


@contextmanager
def start_memcached(workdir: Path) -> Iterator[Memcached]:
    binary = require_binary("memcached")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        argv[1:1] = ["-u", "root"]  # memcached refuses to run as root without naming the user
    log = workdir / "memcached.log"
    server = Memcached("127.0.0.1", port, ServerProcess.spawn("memcached", argv, log), argv, log)
    try:
        wait_until(lambda: answers_version("127.0.0.1", port), 10, "memcached", log)
        yield server
    finally:
        server.process.stop()


@pytest.fixture(scope="session")
def memcached_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Memcached]:
    with start_memcached(tmp_path_factory.mktemp("memcached")) as server:
        yield server


@pytest.fixture
def own_memcached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Memcached]:
    """A memcached of this test's own, for tests that kill and restart it."""
    with start_memcached(tmp_path_factory.mktemp("memcached-own")) as server:
        yield server
