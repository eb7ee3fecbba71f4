"""Everything the SSH area keeps between commands, on the Session (`session.area("ssh")`).

Hosts loaded from a server list and their passwords (memory only), the outcome of the last
`run` (for @failed / @ok), the parsed ssh config, decrypted keys, known_hosts files and the
pool of open connections. Nothing here is module-level: two sessions never share a secret
or a connection.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.commands.ssh.hosts.inventory import HostEntry
from opsh.commands.ssh.hosts.sshconf import ConfigCache
from opsh.commands.ssh.transport.hostkeys import KnownHosts
from opsh.commands.ssh.transport.keys import KeyRing
from opsh.commands.ssh.transport.pool import ConnectionPool

if TYPE_CHECKING:
    from opsh.shell.session import Session


@dataclass
class LastRun:
    """Who answered the previous `run`/`copy`: the sources of @ok and @failed."""

    what: str
    ok: list[str]
    failed: list[str]


@dataclass
class SshState:
    loaded: dict[str, HostEntry] = field(default_factory=dict)
    loaded_groups: dict[str, list[str]] = field(default_factory=dict)
    # (user, hostname, port) -> password: from `hosts load`, or typed and accepted once.
    passwords: dict[tuple[str, str, int], str] = field(default_factory=dict)
    last: LastRun | None = None
    config: ConfigCache = field(default_factory=ConfigCache)
    keys: KeyRing = field(default_factory=KeyRing)
    known: dict[tuple[str, ...], KnownHosts] = field(default_factory=dict)
    pool: ConnectionPool = field(default_factory=ConnectionPool)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def known_hosts(self, path: Path, extra: list[Path]) -> KnownHosts:
        key = (str(path), *map(str, extra))
        with self.lock:
            if key not in self.known:
                self.known[key] = KnownHosts(path, extra)
            return self.known[key]

    def close(self) -> None:
        """Session end: drop every pooled connection (secrets go with the object)."""
        self.pool.close_all()


def ssh_state(session: Session) -> SshState:
    return session.area("ssh", SshState)
