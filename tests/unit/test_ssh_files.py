"""The SSH area's files: server lists, the hosts file, ~/.ssh/config with Include, known_hosts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import subprocess
from pathlib import Path

import pytest

from opsh.commands.ssh.hosts.inventory import (
    HostEntry,
    parse_server_list,
    read_hosts_file,
    server_list_names,
    write_hosts_file,
)
from opsh.commands.ssh.hosts.sshconf import concrete_hosts, load_config
from opsh.commands.ssh.transport.hostkeys import KnownHosts, fingerprint, known_name
from opsh.commands.ssh.transport.keys import read_public_blob
from opsh.shell.errors import UsageError

SERVERLIST = """\
# the study sheet's serverlist.conf
10.0.0.1 22 root s3cret#1
10.0.0.2 2222 deploy pw

10.0.0.3
10.0.0.1 2200 root other
"""


def test_server_list_lines_and_names():
    lines = parse_server_list(SERVERLIST, "serverlist.conf")
    assert [(x.host, x.port, x.user, x.password) for x in lines] == [
        ("10.0.0.1", 22, "root", "s3cret#1"),
        ("10.0.0.2", 2222, "deploy", "pw"),
        ("10.0.0.3", 22, None, None),
        ("10.0.0.1", 2200, "root", "other"),
    ]
    assert server_list_names(lines) == ["10.0.0.1-22", "10.0.0.2", "10.0.0.3", "10.0.0.1-2200"]


@pytest.mark.parametrize("bad", ["h x root pw", "h 22 u p extra", "h 70000"])
def test_server_list_rejects_bad_lines_with_their_number(bad):
    with pytest.raises(UsageError, match="list.txt:2"):
        parse_server_list("ok 22\n" + bad, "list.txt")


def test_hosts_file_round_trip(tmp_path):
    path = tmp_path / "hosts.toml"
    entries = {
        "web01": HostEntry("web01", "10.0.0.11", 22, "deploy", ["web", "prod"]),
        "odd name.x": HostEntry("odd name.x", None, None, None, []),
    }
    write_hosts_file(path, entries)
    back = read_hosts_file(path)
    assert back["web01"] == entries["web01"]
    assert back["odd name.x"].address is None
    assert "password" not in path.read_text()


def test_ssh_config_include_wildcards_and_tokens(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "lab.conf").write_text("Host lab*\n    User labuser\n    Port 2201\n")
    (tmp_path / "config").write_text(
        "Include conf.d/*.conf\n"
        "Host bastion\n    HostName 192.0.2.1\n\n"
        "Host web?\n    ProxyJump bastion\n    IdentityFile ~/.ssh/web_%h\n\n"
        "Host *\n    User fallback\n"
    )
    config = load_config(tmp_path / "config")
    assert config.lookup("lab3")["user"] == "labuser"
    assert config.lookup("lab3")["port"] == "2201"
    web = config.lookup("web1")
    assert web["proxyjump"] == "bastion" and web["user"] == "fallback"
    assert web["identityfile"][0].endswith("/.ssh/web_web1")
    assert concrete_hosts(config) == ["bastion"]
    web["user"] = "changed"  # lookups are remembered, but each caller gets its own copy
    assert config.lookup("web1")["user"] == "fallback"


def test_missing_ssh_config_is_empty(tmp_path):
    assert load_config(tmp_path / "nope").lookup("x")["hostname"] == "x"


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_name(path.name + ".pub").read_text().split()[1]


def _pkey(blob: str):  # noqa: ANN202 - paramiko.PKey
    import paramiko

    return paramiko.PKey.from_type_string("ssh-ed25519", base64.b64decode(blob))


def _hashed(name: str, salt: bytes) -> str:
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"


def test_known_hosts_plain_hashed_wildcard_changed_and_revoked(tmp_path):
    good, other, bad = (_keygen(tmp_path / n) for n in ("a", "b", "c"))
    path = tmp_path / "known_hosts"
    path.write_text(
        f"plain.example ssh-ed25519 {good}\n"
        f"{_hashed('[hashed.example]:2222', b'0123456789abcdef0123')} ssh-ed25519 {good}\n"
        f"*.lab,!gw.lab ssh-ed25519 {good}\n"
        f"@revoked * ssh-ed25519 {bad}\n"
        "garbage line\n"
    )
    known = KnownHosts(path)
    assert known.check("plain.example", _pkey(good)).status == "known"
    assert known.check(known_name("hashed.example", 2222), _pkey(good)).status == "known"
    assert known.check("db.lab", _pkey(good)).status == "known"
    assert known.check("gw.lab", _pkey(good)).status == "unknown"
    changed = known.check("plain.example", _pkey(other))
    assert changed.status == "changed" and changed.expected == fingerprint(_pkey(good))
    assert known.check("anything", _pkey(bad)).status == "revoked"


def test_known_hosts_add_appends_and_is_found_again(tmp_path):
    blob = _keygen(tmp_path / "k")
    path = tmp_path / "sub" / "known_hosts"
    known = KnownHosts(path)
    known.add("[10.0.0.1]:2222", _pkey(blob))
    known.add("hidden", _pkey(blob), hashed=True)
    assert KnownHosts(path).check("[10.0.0.1]:2222", _pkey(blob)).status == "known"
    assert KnownHosts(path).check("hidden", _pkey(blob)).status == "known"
    assert "hidden" not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_fingerprint_matches_ssh_keygen(tmp_path):
    blob = _keygen(tmp_path / "k")
    printed = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")], capture_output=True, text=True)
    assert fingerprint(_pkey(blob)) == printed.stdout.split()[1]


def test_public_blob_of_an_encrypted_key_without_its_passphrase(tmp_path):
    key = tmp_path / "enc"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "pass phrase", "-f", str(key)], check=True)
    (tmp_path / "enc.pub").unlink()  # the blob comes from the private key file itself
    blob, encrypted = read_public_blob(str(key))
    assert encrypted
    assert blob is not None and b"ssh-ed25519" in blob


def test_match_exec_works_although_paramiko_skips_invoke_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO())  # paramiko runs the command through invoke
    (tmp_path / "config").write_text('Match exec "test 1 = 1"\n    User matched\nHost *\n    User other\n')
    assert load_config(tmp_path / "config").lookup("any")["user"] == "matched"


def test_a_missing_known_hosts_file_is_taken_as_empty_and_logged_for_debug(tmp_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="opsh")
    assert KnownHosts(tmp_path / "missing").entries_for("web1") == []
    assert "ignored while reading known hosts" in caplog.text and "no such file" in caplog.text
