"""A fleet behind a ClusterShell gateway, all on loopback: one gateway host and its leaves.

    with start_fleet(workdir, leaves=20) as fleet:
        fleet.leaf_names        -> ["leaf01", ..., "leaf20"]   (127.0.1.2 ... 127.0.1.21)
        fleet.down_name         -> "leafdown": a name the gateway knows, where nothing listens
        files = fleet.write_client(tmpdir)   # the head's ssh config (host `gw`) + known_hosts
        fleet.config()          -> opsh config text: [groups] leaves, [topology] ssh_options

How the gateway host is set up (every "host" is this machine, as the test user):
- its own sshd on 127.0.2.2 with `SetEnv PATH=<gateway venv>/bin:...`, so the login's
  `python3` is the virtualenv that tests/setup.sh builds with ClusterShell in it (from the
  system Python, which the test user can execute: the suite's own Python may live under
  /root). The gateway runs `python3 -m ClusterShell.Gateway` there, as ClusterShell's tree mode
  does, logging to a directory of ours (CLUSTERSHELL_GW_LOG_DIR).
- what the gateway needs to reach the leaves is an ssh client config of its own (leaf names
  -> addresses, the leaves' port, a key the test user can read, their known_hosts), given to
  ClusterShell as `ssh_options = "-F FILE"` in opsh's [topology]: ClusterShell passes its ssh
  options on to the gateways, so nothing is written into the test user's ~/.ssh.
- the leaves are plain test sshd daemons (tests/servers/sshd.py), one per 16 addresses.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    # Imported where used: this plugin loads before tests.servers.sshd, which pytest must
    # import itself (to rewrite its asserts).
    from tests.servers.sshd import ClientFiles, SshHosts

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_ADDRESS_INDEX = 2 * 256 + 2  # 127.0.2.2
FIRST_LEAF_INDEX = 256 + 2  # 127.0.1.2
DOWN_ADDRESS = "127.0.1.250"  # nothing listens there


def gateway_venv() -> Path:
    """The virtualenv the gateway runs ClusterShell from (built by tests/setup.sh)."""
    venv = Path(os.environ.get("OPSH_GATEWAY_VENV") or ROOT / ".venv-gateway")
    if not (venv / "bin" / "python3").exists():
        pytest.fail(f"no gateway virtualenv at {venv}: run tests/run, which builds it", pytrace=False)
    return venv


@dataclass
class Fleet:
    gateway: SshHosts
    leaves: SshHosts
    leaf_names: list[str]
    down_name: str
    gateway_ssh_config: Path  # the gateway's own client config for the leaves
    workdir: Path

    @property
    def user(self) -> str:
        return self.leaves.user

    def address_of(self, name: str) -> str:
        return self.leaves.addresses[self.leaf_names.index(name)]

    def write_client(self, directory: Path, leaves: bool = False, extra: str = "") -> ClientFiles:
        """The head's side: `gw` in an ssh config, and its host key in known_hosts; with
        `leaves`, the leaves too (to compare a direct run with one through the gateway)."""
        from tests.servers.sshd import ClientFiles

        directory.mkdir(parents=True, exist_ok=True)
        blocks = [
            extra,
            f"Host gw\n    HostName {self.gateway.addresses[0]}\n    Port {self.gateway.port}\n"
            f"    User {self.user}\n    IdentityFile {self.gateway.key}\n",
        ]
        known_text = self.gateway.known_hosts_text()
        if leaves:
            blocks += [
                f"Host {n}\n    HostName {a}\n" for n, a in zip(self.leaf_names, self.leaves.addresses, strict=True)
            ]
            blocks.append(
                f"Host leaf*\n    Port {self.leaves.port}\n    User {self.user}\n    IdentityFile {self.leaves.key}\n"
            )
            known_text += self.leaves.known_hosts_text()
        config = directory / "ssh_config"
        config.write_text("\n".join(blocks))
        known = directory / "known_hosts"
        known.write_text(known_text)
        return ClientFiles(config, known)

    def config(self, extra: str = "") -> str:
        """opsh's config for the head: the leaves as a group, the gateway's ssh options."""
        width = len(self.leaf_names[-1]) - len("leaf")
        names = f"leaf[{1:0{width}d}-{len(self.leaf_names)}]"
        return f'[groups]\nleaves = "{names}"\n\n[topology]\nssh_options = "-F {self.gateway_ssh_config}"\n{extra}'

    def user_processes(self, pattern: str) -> list[str]:
        return self.leaves.user_processes(pattern)

    def chown(self, path: Path) -> None:
        """A file the gateway's side reads (as the test user): theirs, private."""
        from tests.servers.sshd import chown_to_test_user

        chown_to_test_user(path)
        path.chmod(0o600)


def _gateway_ssh_config(user_dir: Path, leaves: SshHosts, names: list[str], down: str, gateway_address: str) -> Path:
    """What the gateway's ssh reads (owned by and readable for the test user only)."""
    from tests.servers.sshd import chown_to_test_user

    user_dir.mkdir()
    key = user_dir / "id_ed25519"
    shutil.copyfile(leaves.key, key)
    known = user_dir / "known_hosts"
    known.write_text(leaves.known_hosts_text() + f"[{DOWN_ADDRESS}]:{leaves.port} {leaves.host_key_line}\n")
    blocks = [f"Host {name}\n    HostName {address}\n" for name, address in zip(names, leaves.addresses, strict=True)]
    blocks.append(f"Host {down}\n    HostName {DOWN_ADDRESS}\n")
    # BindAddress: a leaf sees the gateway's own address in $SSH_CONNECTION (proof of the
    # route); curve25519: the key exchange a direct run uses, cheaper than OpenSSH's default.
    blocks.append(
        f"Host *\n    Port {leaves.port}\n    User {leaves.user}\n    IdentityFile {key}\n"
        f"    IdentitiesOnly yes\n    UserKnownHostsFile {known}\n    StrictHostKeyChecking yes\n"
        f"    BindAddress {gateway_address}\n    KexAlgorithms curve25519-sha256\n"
    )
    config = user_dir / "ssh_config"
    config.write_text("\n".join(blocks))
    for path in (user_dir, key, known, config):
        chown_to_test_user(path)
    key.chmod(0o600)
    config.chmod(0o600)
    user_dir.chmod(0o700)
    return config


@contextmanager
def start_fleet(
    workdir: Path, leaves: int = 20, first_leaf: int = FIRST_LEAF_INDEX, leaf_hosts: SshHosts | None = None
) -> Iterator[Fleet]:
    """One gateway host and `leaves` leaf hosts (leaf01... or leaf001...), all sshd daemons we
    start; `leaf_hosts`: daemons already running to use as the leaves (the benchmark's)."""
    from tests.servers.sshd import chown_to_test_user, loopback_addresses, start_sshd

    venv = gateway_venv()
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        # The test user reads these itself: outside pytest's private (0700) temp tree.
        user_dir = Path(tempfile.mkdtemp(prefix="opsh-gateway-"))
        stack.callback(shutil.rmtree, user_dir, True)
        user_dir.chmod(0o755)
        log_dir = user_dir / "log"
        log_dir.mkdir()
        chown_to_test_user(log_dir)
        if leaf_hosts is None:
            leaf_hosts = stack.enter_context(start_sshd(workdir / "leaves", count=leaves, first=first_leaf))
        count = len(leaf_hosts.addresses)
        names = [f"leaf{n:0{max(2, len(str(count)))}d}" for n in range(1, count + 1)]
        down = "leafdown"
        gateway_address = loopback_addresses(1, GATEWAY_ADDRESS_INDEX)[0]
        gateway_config = _gateway_ssh_config(user_dir / "ssh", leaf_hosts, names, down, gateway_address)
        path = f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
        gateway = stack.enter_context(
            start_sshd(
                workdir / "gateway",
                count=1,
                first=GATEWAY_ADDRESS_INDEX,
                extra_config=f"SetEnv PATH={path} CLUSTERSHELL_GW_LOG_DIR={log_dir}\n",
            )
        )
        yield Fleet(gateway, leaf_hosts, names, down, gateway_config, workdir)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with start_fleet(tmp_path_factory.mktemp("fleet"), leaves=20) as hosts:
        yield hosts
