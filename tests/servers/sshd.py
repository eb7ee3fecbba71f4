"""Real OpenSSH daemons on 127.0.0.x for the SSH tests and the fan-out benchmark.

    with start_sshd(workdir, count=20) as hosts:     # 20 loopback "hosts", one port
        hosts.addresses   -> ["127.0.0.2", ..., "127.0.0.21"]
        files = hosts.write_client(tmpdir)           # ssh config + known_hosts for opsh
        files.env         -> {"OPSH_SSH_CONFIG": ..., "OPSH_KNOWN_HOSTS": ...}

One sshd listens on at most 16 addresses, so 20 hosts are two daemons and 100 are seven. The
daemons run in the foreground as our children (stopped by PID), with throwaway ed25519 host
keys, a test user (`opshtest`, or $OPSH_TEST_SSH_USER; made with useradd + chpasswd when missing: the tests run as
root), a client ed25519 key, an encrypted one, and authorized keys in a directory the user can
read. `sshd_hosts` is the session-wide pytest fixture (20 hosts).

sudo on the hosts: the test user may run anything as any user with its password; a second
user (`opshtest-nopw`, or $OPSH_TEST_SSH_USER2), with the same keys and password, may run
anything as root with no password and nothing as another user. The rules are files in
/etc/sudoers.d/, checked with `visudo -cf` before they are put in place.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers.base import ServerProcess, free_port, port_open, require_binary, wait_until

# One user per checkout is possible (OPSH_TEST_SSH_USER): two suites running at once on one
# machine then never see each other's remote processes.
TEST_USER = os.environ.get("OPSH_TEST_SSH_USER", "opshtest")
# The second user: sudo without a password (NOPASSWD), as root only.
NOPASSWD_USER = os.environ.get("OPSH_TEST_SSH_USER2", TEST_USER + "-nopw")
# Known to the tests (password login is one of the things tested); the daemons listen on
# loopback only and let no other user in.
TEST_PASSWORD = "opsh-Test-pw-7c2e91"
KEY_PASSPHRASE = "opsh-key-pass-41b0"
MAX_LISTEN = 16  # sshd's MAX_LISTEN_SOCKS


@dataclass
class ClientFiles:
    """What opsh needs to reach the test hosts without touching the real ~/.ssh."""

    ssh_config: Path
    known_hosts: Path

    @property
    def env(self) -> dict[str, str]:
        return {"OPSH_SSH_CONFIG": str(self.ssh_config), "OPSH_KNOWN_HOSTS": str(self.known_hosts)}


@dataclass
class SshHosts:
    addresses: list[str]
    port: int
    user: str
    password: str
    key: Path  # client ed25519 key, no passphrase
    encrypted_key: Path  # client ed25519 key protected by KEY_PASSPHRASE
    host_key_line: str  # "ssh-ed25519 AAAA..." of every daemon
    workdir: Path
    logs: list[Path] = field(default_factory=list)
    daemons: list[int] = field(default_factory=list)  # PIDs of the listening sshd processes

    @property
    def passphrase(self) -> str:
        return KEY_PASSPHRASE

    @property
    def nopasswd_user(self) -> str:
        """The second test user: same keys and password, sudo as root without a password."""
        return NOPASSWD_USER

    def known_hosts_text(self, addresses: list[str] | None = None) -> str:
        chosen = self.addresses if addresses is None else addresses
        return "".join(f"[{a}]:{self.port} {self.host_key_line}\n" for a in chosen)

    def write_client(
        self,
        directory: Path,
        aliases: Mapping[str, str] | None = None,
        identity: Path | None = None,
        key: bool = True,
        known: list[str] | None = None,
        extra: str = "",
    ) -> ClientFiles:
        """An ssh config (every host on our port, as our user, with `identity` or the plain
        test key unless `key` is False) and a known_hosts trusting the `known` addresses
        (default: all). `aliases` maps names such as web01 to addresses; `extra` comes before
        the catch-all block (first match wins)."""
        directory.mkdir(parents=True, exist_ok=True)
        lines = []
        for name, address in (aliases or {}).items():
            lines += [f"Host {name}", f"    HostName {address}", ""]
        lines += [
            extra,
            "Host *",
            f"    Port {self.port}",
            f"    User {self.user}",
        ]
        identity = identity if identity is not None else (self.key if key else None)
        if identity:
            lines.append(f"    IdentityFile {identity}")
        config = directory / "ssh_config"
        config.write_text("\n".join(lines) + "\n")
        known_hosts = directory / "known_hosts"
        known_hosts.write_text(self.known_hosts_text(known if known is not None else self.addresses))
        return ClientFiles(config, known_hosts)

    def remote_dir(self) -> Path:
        """A fresh directory the test user owns (the "remote" side is this very machine)."""
        path = Path(tempfile.mkdtemp(prefix="opsh-remote-"))
        user = pwd.getpwnam(self.user)
        os.chown(path, user.pw_uid, user.pw_gid)
        path.chmod(0o755)
        return path

    def cut_connections(self) -> int:
        """Kill the sshd processes serving the current connections (as if the server died
        under them), never the listening daemons: what a test does to cut a transfer short."""
        import signal

        def children(pid: int) -> list[int]:
            out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
            return [int(p) for p in out.stdout.split()]

        doomed = [pid for daemon in self.daemons for pid in children(daemon)]  # [priv] monitors
        doomed += [pid for monitor in doomed for pid in children(monitor)]  # their user halves
        for pid in doomed:
            os.kill(pid, signal.SIGKILL)
        return len(doomed)

    def user_processes(self, pattern: str) -> list[str]:
        """Command lines of the test user's processes matching `pattern` (remote leftovers)."""
        out = subprocess.run(["pgrep", "-u", self.user, "-a", "-f", pattern], capture_output=True, text=True)
        return out.stdout.splitlines()


def ensure_test_user(name: str = TEST_USER, password: str = TEST_PASSWORD) -> None:
    """The test user exists, can log in (a useradd'ed user is locked) and has a home."""
    if os.geteuid() != 0:
        pytest.fail("the SSH tests run as root (they create a test user): run tests/run as root", pytrace=False)
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, capture_output=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)


# The rules each test user gets (a file name with a dot would be skipped by sudo's includedir).
SUDO_RULES = {
    TEST_USER: f"{TEST_USER} ALL=(ALL:ALL) ALL\n",
    NOPASSWD_USER: f"{NOPASSWD_USER} ALL=(root) NOPASSWD: ALL\n",
}


def ensure_sudo_rules() -> None:
    """Both test users exist with their sudo rule in /etc/sudoers.d/opsh-test-USER, each file
    validated by visudo before it replaces the old one (a broken file would break sudo)."""
    visudo = require_binary("visudo")
    require_binary("sudo")
    for user, rule in SUDO_RULES.items():
        ensure_test_user(user)
        target = Path("/etc/sudoers.d") / f"opsh-test-{user}".replace(".", "_")
        if target.exists() and target.read_text() == rule:
            continue
        target.parent.mkdir(mode=0o750, exist_ok=True)
        draft = target.with_name(f".{target.name}.new")  # a dotted name: sudo ignores it meanwhile
        draft.write_text(rule)
        draft.chmod(0o440)
        check = subprocess.run([visudo, "-cf", str(draft)], capture_output=True, text=True)
        if check.returncode != 0:
            draft.unlink()
            raise RuntimeError(f"visudo rejected the sudo rule for {user}: {check.stdout}{check.stderr}")
        draft.replace(target)


def keygen(path: Path, passphrase: str = "", comment: str = "opsh-test") -> str:
    """A new ed25519 key at `path`; returns the public key line."""
    binary = require_binary("ssh-keygen")
    for old in (path, path.with_name(path.name + ".pub")):
        old.unlink(missing_ok=True)
    subprocess.run(
        [binary, "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_name(path.name + ".pub").read_text().strip()


def sshd_config(addresses: list[str], port: int, host_key: Path, auth_dir: Path, extra: str = "") -> str:
    """`extra` comes first: for sshd the first value given for a keyword wins."""
    listen = "".join(f"ListenAddress {a}:{port}\n" for a in addresses)
    return (
        extra
        + "\n"
        + listen
        + f"""HostKey {host_key}
PidFile none
AuthorizedKeysFile {auth_dir}/%u
AllowUsers {TEST_USER} {NOPASSWD_USER}
AcceptEnv LANG LC_*
PermitRootLogin no
UsePAM no
PasswordAuthentication yes
PubkeyAuthentication yes
KbdInteractiveAuthentication no
StrictModes no
UseDNS no
MaxStartups 200:30:400
MaxSessions 64
MaxAuthTries 10
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
"""
    )


def loopback_addresses(count: int, first: int = 2) -> list[str]:
    """127.0.0.2, 127.0.0.3, ... (the whole of 127.0.0.0/8 answers locally)."""
    out = []
    for n in range(first, first + count):
        out.append(f"127.0.{n // 256}.{n % 256}")
    return out


@contextmanager
def start_sshd(workdir: Path, count: int = 20, first: int = 2, extra_config: str = "") -> Iterator[SshHosts]:
    """`count` loopback hosts served by ceil(count/16) daemons sharing one port."""
    sshd = require_binary("sshd")
    ensure_test_user()
    ensure_sudo_rules()
    workdir.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    host_key = workdir / "ssh_host_ed25519_key"
    host_pub = keygen(host_key, comment="opsh-test-host")
    key = workdir / "id_ed25519"
    pub = keygen(key)
    encrypted_key = workdir / "id_ed25519_enc"
    enc_pub = keygen(encrypted_key, KEY_PASSPHRASE, comment="opsh-test-encrypted")
    # The user reads its authorized keys itself: outside pytest's private (0700) temp tree.
    auth_dir = Path(tempfile.mkdtemp(prefix="opsh-sshd-auth-"))
    auth_dir.chmod(0o755)
    for user in (TEST_USER, NOPASSWD_USER):
        (auth_dir / user).write_text(f"{pub}\n{enc_pub}\n")
        (auth_dir / user).chmod(0o644)
    addresses = loopback_addresses(count, first)
    port = free_port(addresses)
    hosts = SshHosts(
        addresses=addresses,
        port=port,
        user=TEST_USER,
        password=TEST_PASSWORD,
        key=key,
        encrypted_key=encrypted_key,
        host_key_line=" ".join(host_pub.split()[:2]),
        workdir=workdir,
    )
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, auth_dir, True)
        for index in range(0, count, MAX_LISTEN):
            chunk = addresses[index : index + MAX_LISTEN]
            conf = workdir / f"sshd_config.{index // MAX_LISTEN}"
            conf.write_text(sshd_config(chunk, port, host_key, auth_dir, extra_config))
            check = subprocess.run([sshd, "-t", "-f", str(conf)], capture_output=True, text=True)
            if check.returncode != 0:
                raise RuntimeError(f"sshd -t rejected {conf}: {check.stderr.strip()}")
            log = workdir / f"sshd.{index // MAX_LISTEN}.log"
            hosts.logs.append(log)
            process = ServerProcess.spawn("sshd", [sshd, "-D", "-f", str(conf), "-E", str(log)], log)
            stack.callback(process.stop)
            hosts.daemons.append(process.proc.pid if process.proc else 0)
        for address in addresses:
            wait_until(lambda a=address: port_open(a, port), 15, f"sshd on {address}:{port}", hosts.logs[-1])
        yield hosts


def chown_to_test_user(path: Path) -> None:
    """The user is made here too: the fleet's files are handed over before any sshd starts."""
    ensure_test_user()
    user = pwd.getpwnam(TEST_USER)
    os.chown(path, user.pw_uid, grp.getgrgid(user.pw_gid).gr_gid)


@pytest.fixture(scope="session")
def sshd_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshHosts]:
    with start_sshd(tmp_path_factory.mktemp("sshd"), count=20) as hosts:
        yield hosts
