"""known_hosts read as OpenSSH 9.2 reads it: the names it looks up, which entry decides, and
files that are not files.

Each case below was first run through the real `ssh -o BatchMode=yes` against the suite's
sshd on a non-22 port (tests/ssh/test_host_keys_openssh.py does that on every run); here the
same rules are checked on KnownHosts alone, with throwaway keys.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from opsh.commands.ssh.transport.hostkeys import KnownHosts, fingerprint
from opsh.shell.fileread import NotRegularFile

HOST = "10.0.0.5"
NAME = f"[{HOST}]:2422"  # how OpenSSH names the host on port 2422


def keypair(tmp_path: Path, name: str, kind: str = "ed25519") -> tuple[str, object]:
    """("TYPE BASE64" as known_hosts holds it, the paramiko public key)."""
    import paramiko

    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    key_type, blob = path.with_name(name + ".pub").read_text().split()[:2]
    return f"{key_type} {blob}", paramiko.PKey.from_type_string(key_type, base64.b64decode(blob))


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[str, object]]:
    kinds = {"good": "ed25519", "other": "ed25519", "ecdsa": "ecdsa"}
    return {name: keypair(tmp_path, name, kind) for name, kind in kinds.items()}


CASES = [  # (known_hosts lines, what OpenSSH 9.2 made of the server's "good" key on port 2422)
    ("{HOST} {good}", "known"),  # "found matching key w/out port"
    ("10.0.0.* {good}", "known"),
    ("{hashed} {good}", "known"),
    ("{HOST} {other}\n{HOST} {good}", "known"),  # the matching entry wins
    ("{HOST} {other}", "unknown"),  # a different key without the port changes nothing
    ("{HOST} {ecdsa}", "unknown"),
    ("10.0.0.*,!{HOST} {good}", "unknown"),  # negated
    ("[{HOST}]:2422 {ecdsa}", "changed"),  # a key of another type on file is a changed key
    ("[{HOST}]:2422 {ecdsa}\n{HOST} {good}", "changed"),  # the name with the port decides first
    ("[{HOST}]:2422 {other}\n{HOST} {good}", "changed"),
    ("@revoked [{HOST}]:2422 {other}\n{HOST} {good}", "known"),
    ("@revoked {HOST} {good}", "revoked"),  # OpenSSH warns, then takes it as unknown: refused here
]


@pytest.mark.parametrize(("lines", "status"), CASES)
def test_a_non_22_port_falls_back_to_the_entry_without_port_as_openssh_does(tmp_path, keys, lines, status):
    text = lines.format(HOST=HOST, hashed=hashed_name(HOST), **{k: line for k, (line, _) in keys.items()})
    (tmp_path / "known_hosts").write_text(text + "\n")
    known = KnownHosts(tmp_path / "known_hosts")
    assert known.check(NAME, keys["good"][1], without_port=HOST).status == status


def test_without_a_second_name_the_plain_entry_is_not_read(tmp_path, keys):
    """HostKeyAlias or port 22: OpenSSH looks up one name only."""
    (tmp_path / "known_hosts").write_text(f"{HOST} {keys['good'][0]}\n")
    assert KnownHosts(tmp_path / "known_hosts").check(NAME, keys["good"][1]).status == "unknown"


def test_a_changed_key_of_another_type_says_which_key_is_on_file(tmp_path, keys):
    (tmp_path / "known_hosts").write_text(f"{NAME} {keys['ecdsa'][0]}\n")
    verdict = KnownHosts(tmp_path / "known_hosts").check(NAME, keys["good"][1])
    assert verdict.status == "changed"
    assert verdict.expected == f"ecdsa-sha2-nistp256 {fingerprint(keys['ecdsa'][1])}"


def test_host_names_compare_without_case_as_openssh_lowercases_them(tmp_path, keys):
    (tmp_path / "known_hosts").write_text(f"MyAlias {keys['good'][0]}\n")
    assert KnownHosts(tmp_path / "known_hosts").check("myalias", keys["good"][1]).status == "known"


def hashed_name(name: str) -> str:
    import hashlib
    import hmac

    salt = b"0123456789abcdef0123"
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"


# ---------------------------------------------------------------- the names a host is looked up by


def show(sh, name: str) -> dict[str, object]:
    return {row["field"]: row["value"] for row in sh.json(f"hosts show {name}")}


def test_host_key_alias_is_used_as_written_whatever_the_port(sh, tmp_path, monkeypatch):
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host aliased\n    HostName {HOST}\n    Port 2422\n    HostKeyAlias MyAlias\n\n"
        f"Host plain\n    HostName {HOST}\n    Port 2422\n\nHost standard\n    HostName {HOST}\n"
    )
    monkeypatch.setenv("OPSH_SSH_CONFIG", str(config))
    monkeypatch.setenv("OPSH_KNOWN_HOSTS", str(tmp_path / "known_hosts"))
    assert show(sh, "aliased")["known as"] == "myalias"  # was [MyAlias]:2422, a line ssh never reads
    assert show(sh, "plain")["known as"] == NAME
    assert show(sh, "standard")["known as"] == HOST


# ---------------------------------------------------------------- files that are not files


def test_known_hosts_at_dev_null_keeps_no_keys_and_is_never_written(tmp_path, keys):
    """UserKnownHostsFile /dev/null: the usual "trust for now, remember nothing"."""
    known = KnownHosts(Path(os.devnull))
    assert known.check(NAME, keys["good"][1]).status == "unknown"
    known.add(NAME, keys["good"][1])  # kept for the session, not written
    assert known.check(NAME, keys["good"][1]).status == "known"


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_known_hosts_at_dev_zero_or_a_fifo_is_a_clear_error_not_a_hang(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    with pytest.raises(NotRegularFile, match=f"known_hosts {path} is a") as caught:
        KnownHosts(path)
    assert "/dev/null" in (caught.value.hint or "")


def test_a_known_hosts_that_became_a_fifo_is_not_written_to(tmp_path, keys):
    path = tmp_path / "known_hosts"
    known = KnownHosts(path)
    os.mkfifo(path)  # nobody reads it: an open for writing would block forever
    with pytest.raises(NotRegularFile, match="the key was not saved"):
        known.add(NAME, keys["good"][1])
