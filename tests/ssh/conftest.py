"""Fixtures for the SSH tests: opsh pointed at the suite's sshd hosts, never at ~/.ssh.

`ssh_client` writes an ssh config naming web01..web20 (127.0.0.2..21) and a known_hosts that
trusts them, and points OPSH_SSH_CONFIG / OPSH_KNOWN_HOSTS at them for the test. `client_files`
does the same with options (no key, other keys, fewer known hosts, extra config blocks).
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import Shell
from tests.servers.sshd import ClientFiles, SshHosts

DOWN_ADDRESS = "127.0.0.250"  # nothing listens there


def web_aliases(hosts: SshHosts) -> dict[str, str]:
    return {f"web{n:02d}": address for n, address in enumerate(hosts.addresses, 1)}


@pytest.fixture
def client_files(tmp_path: Path, sshd_hosts: SshHosts, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ClientFiles]:
    def write(**options: object) -> ClientFiles:
        files = sshd_hosts.write_client(tmp_path / "ssh", aliases=web_aliases(sshd_hosts), **options)  # type: ignore[arg-type]
        for name, value in files.env.items():
            monkeypatch.setenv(name, value)
        return files

    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return write


@pytest.fixture
def ssh_client(client_files: Callable[..., ClientFiles]) -> ClientFiles:
    return client_files()


@pytest.fixture
def remote_dir(sshd_hosts: SshHosts) -> Iterator[Path]:
    """A directory the test user owns: the "remote" side of every host is this machine."""
    path = sshd_hosts.remote_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def asking(tmp_path: Path) -> Callable[..., Shell]:
    """An interactive in-process opsh whose answers to questions are scripted."""
    shells: list[Shell] = []

    def make(*answers: str) -> Shell:
        shell = Shell(tmp_path, answers=list(answers))
        shells.append(shell)
        return shell

    yield make  # type: ignore[misc]
    for shell in shells:
        shell.close()


class HangingServer:
    """Accepts TCP connections and never says a word (a host that hangs during connect)."""

    def __init__(self, address: str = "127.0.0.251") -> None:
        self.sock = socket.socket()
        self.sock.bind((address, 0))
        self.sock.listen(64)
        self.address, self.port = self.sock.getsockname()
        self.accepted: list[socket.socket] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.stopping = True
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()
