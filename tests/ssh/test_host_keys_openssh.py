"""Host keys side by side with OpenSSH: the same known_hosts, the same sshd (on a port other
than 22), `ssh -o BatchMode=yes` and `connect`, the same verdict.

`web01` is reached as `[ADDRESS]:PORT`; `aliased` is the same host with `HostKeyAlias
myalias`, which OpenSSH looks up as written, port or not. With StrictHostKeyChecking
accept-new, both add the same line. The one deliberate difference: a key revoked in the
entry without the port. OpenSSH 9.2 prints its warning and then treats the key as unknown (so
accept-new adds it under `[ADDRESS]:PORT`); opsh refuses it, as it refuses every revoked key.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import Shell
from tests.servers.sshd import ClientFiles, SshHosts

ALIASED = "Host aliased\n    HostName {address}\n    HostKeyAlias myalias\n"

CASES = [  # known_hosts, with {plain} the host without port, {port} `[ADDRESS]:PORT`
    "",
    "{plain} {key}",  # "found matching key w/out port"
    "127.0.0.* {key}",
    "{plain} {other}",
    "{plain} {ecdsa}",
    "{plain} {other}\n{plain} {key}",
    "127.0.0.*,!{plain} {key}",
    "{port} {ecdsa}",
    "{port} {ecdsa}\n{plain} {key}",
    "{port} {other}\n{plain} {key}",
    "@revoked {port} {other}\n{plain} {key}",
    "{plain} {key}\n@revoked * {key}",
    "myalias {key}",
    "MyAlias {key}",
    "[myalias]:{port_number} {key}",  # what opsh used to look up and write for `aliased`
    "{port} {key}",
]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Keys the sshd does not have: another ed25519 one and an ecdsa one."""
    found = {}
    for name, kind in (("other", "ed25519"), ("ecdsa", "ecdsa")):
        path = tmp_path_factory.mktemp("keys") / name
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
        found[name] = " ".join(path.with_name(name + ".pub").read_text().split()[:2])
    return found


def known_hosts_text(case: str, hosts: SshHosts, keys: dict[str, str]) -> str:
    address = hosts.addresses[0]
    fields = {"plain": address, "port": f"[{address}]:{hosts.port}", "port_number": hosts.port}
    return case.format(key=hosts.host_key_line, **fields, **keys) + "\n" if case else ""


def openssh(files: ClientFiles, host: str, *options: str) -> str:
    """OpenSSH's verdict: known (it logged in), changed, revoked or unknown."""
    argv = ["ssh", "-F", str(files.ssh_config), "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={files.known_hosts}"]
    argv += ["-o", "GlobalKnownHostsFile=/dev/null", "-o", "UpdateHostKeys=no", *options, host, "true"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode == 0:
        return "known"
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in done.stderr:
        return "changed"
    if "REVOKED HOST KEY" in done.stderr:
        return "revoked"
    assert "Host key verification failed" in done.stderr, done.stderr
    return "unknown"


def opsh(tmp_path: Path, host: str, *options: str) -> str:
    """opsh's verdict for `connect HOST` in a script (which cannot ask)."""
    shell = Shell(tmp_path / f"opsh-{host}")
    try:
        out = shell(f"connect {host} {' '.join(options)}")
    finally:
        shell.close()
    if out.ok:
        return "known"
    verdicts = {"HOST KEY CHANGED": "changed", "HOST KEY REVOKED": "revoked", "unknown host key": "unknown"}
    for words, verdict in verdicts.items():
        if words in out.err:
            return verdict
    raise AssertionError(out.err)


@pytest.mark.parametrize("case", CASES)
def test_the_same_verdict_as_openssh(client_files, sshd_hosts, keys, tmp_path, case):
    files = client_files(extra=ALIASED.format(address=sshd_hosts.addresses[0]))
    text = known_hosts_text(case, sshd_hosts, keys)
    for host in ("web01", "aliased"):
        files.known_hosts.write_text(text)
        theirs = openssh(files, host)
        files.known_hosts.write_text(text)
        assert opsh(tmp_path, host) == theirs, (host, text)
        assert files.known_hosts.read_text() == text  # nothing written without accept-new


@pytest.mark.parametrize(
    ("case", "host"),
    [("", "web01"), ("", "aliased"), ("{plain} {other}", "web01"), ("[myalias]:{port_number} {key}", "aliased")],
)
def test_accept_new_writes_the_line_openssh_writes(client_files, sshd_hosts, keys, tmp_path, case, host):
    files = client_files(extra=ALIASED.format(address=sshd_hosts.addresses[0]))
    text = known_hosts_text(case, sshd_hosts, keys)
    files.known_hosts.write_text(text)
    assert openssh(files, host, "-o", "StrictHostKeyChecking=accept-new") == "known"
    by_openssh = files.known_hosts.read_text()
    files.known_hosts.write_text(text)
    assert opsh(tmp_path, host, "--accept-new") == "known"
    assert files.known_hosts.read_text() == by_openssh
    assert by_openssh.startswith(text) and by_openssh != text


def test_a_key_revoked_without_the_port_is_refused_where_openssh_would_add_it(client_files, sshd_hosts, keys, tmp_path):
    files = client_files()
    text = known_hosts_text("@revoked {plain} {key}", sshd_hosts, keys)
    files.known_hosts.write_text(text)
    assert openssh(files, "web01", "-o", "StrictHostKeyChecking=accept-new") == "known"  # after its warning
    files.known_hosts.write_text(text)
    assert opsh(tmp_path, "web01", "--accept-new") == "revoked"
    assert files.known_hosts.read_text() == text
