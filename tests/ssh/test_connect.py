"""Logging in to the real sshd: keys, passwords, encrypted keys, the agent, host keys, jumps."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from opsh.commands.ssh.state import ssh_state
from tests.servers.base import wait_until
from tests.servers.sshd import start_sshd


def test_key_login_opens_ssh_mode(sh, ssh_client, sshd_hosts):
    out = sh("connect web01")
    assert out.ok, out.err
    assert sh.session.current_handle.kind == "ssh"
    assert sh("whoami").text == f"{sshd_hosts.user}\n"
    assert sh.session.current_handle.prompt_label() == "ssh:web01:~"


def test_connect_by_url_with_user_and_port(sh, ssh_client, sshd_hosts):
    out = sh(f"connect ssh://{sshd_hosts.user}@{sshd_hosts.addresses[3]}:{sshd_hosts.port} as box")
    assert out.ok, out.err
    assert sh("echo $SSH_CONNECTION").text.split()[2] == sshd_hosts.addresses[3]
    assert sh.session.current == "box"


def test_password_is_asked_hidden_and_accepted(asking, client_files, sshd_hosts):
    client_files(key=False)
    sh = asking(sshd_hosts.password)
    out = sh("connect web02")
    assert out.ok, out.err
    assert sh.io.asked == [f"{sshd_hosts.user}@{sshd_hosts.addresses[1]}'s password: "]
    assert sshd_hosts.password not in out.text + out.err
    assert sh("echo in").text == "in\n"


def test_wrong_password_is_refused_after_three_tries(asking, client_files, sshd_hosts):
    client_files(key=False)
    sh = asking("wrong-1", "wrong-2", "wrong-3")
    out = sh("connect web02")
    assert not out.ok
    assert "permission denied" in out.err and "password" in out.err
    assert len(sh.io.asked) == 3
    assert "wrong-1" not in out.err
    assert sh.session.handles == {}


def test_password_needed_in_a_script_fails_clearly(sh, client_files):
    client_files(key=False)
    out = sh("connect web02")
    assert not out.ok
    assert "permission denied" in out.err and "no terminal" in out.err


def test_encrypted_key_asks_for_its_passphrase_once(asking, client_files, sshd_hosts):
    client_files(identity=sshd_hosts.encrypted_key)
    sh = asking(sshd_hosts.passphrase)
    assert sh("connect web01").ok
    assert sh.io.asked == [f"passphrase for key {sshd_hosts.encrypted_key}: "]
    assert sh("\\q").ok
    assert sh("connect web02").ok  # the decrypted key is kept for the session
    assert len(sh.io.asked) == 1


def test_wrong_passphrase_falls_back_to_the_password(asking, client_files, sshd_hosts):
    client_files(identity=sshd_hosts.encrypted_key)
    sh = asking("nope", "nope", "nope", sshd_hosts.password)
    out = sh("connect web01")
    assert out.ok, out.err
    assert sh.io.asked[-1].endswith("'s password: ")


def test_ssh_agent_holds_the_encrypted_key_so_nothing_is_asked(sh, client_files, sshd_hosts, tmp_path, monkeypatch):
    client_files(identity=sshd_hosts.encrypted_key)
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)], stdout=subprocess.DEVNULL)
    try:
        wait_until(socket_path.exists, 10, "ssh-agent")
        askpass = tmp_path / "askpass.sh"
        askpass.write_text(f"#!/bin/sh\necho '{sshd_hosts.passphrase}'\n")
        askpass.chmod(0o700)
        env = dict(os.environ, SSH_AUTH_SOCK=str(socket_path), SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force")
        subprocess.run(["ssh-add", str(sshd_hosts.encrypted_key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))
        out = sh("connect web03")  # a script: it could not ask for the passphrase
        assert out.ok, out.err
        assert ssh_state(sh.session).keys.loaded[str(sshd_hosts.encrypted_key)].in_agent
    finally:
        agent.terminate()
        agent.wait()


# ---------------------------------------------------------------- host keys


def test_unknown_host_key_is_refused_in_a_script(sh, client_files, sshd_hosts):
    files = client_files(known=[])
    out = sh("connect web01")
    assert not out.ok
    assert f"unknown host key for web01 ([{sshd_hosts.addresses[0]}]:{sshd_hosts.port})" in out.err
    assert "SHA256:" in out.err and "--accept-new" in out.err
    assert files.known_hosts.read_text() == ""


def test_unknown_host_key_asked_interactively_shows_the_fingerprint(asking, client_files, sshd_hosts):
    files = client_files(known=[])
    sh = asking("n")
    out = sh("connect web01")
    assert not out.ok and "not trusted" in out.err
    assert "SHA256:" in sh.io.asked[0]
    assert files.known_hosts.read_text() == ""
    sh = asking("y")
    assert sh("connect web01").ok
    assert f"[{sshd_hosts.addresses[0]}]:{sshd_hosts.port} ssh-ed25519" in files.known_hosts.read_text()


def test_accept_new_appends_the_key_in_a_script(sh, client_files, sshd_hosts):
    files = client_files(known=[])
    out = sh("connect web01 --accept-new")
    assert out.ok, out.err
    assert files.known_hosts.read_text().split()[1:] == sshd_hosts.host_key_line.split()


def test_changed_host_key_is_always_refused_loudly(asking, client_files, sshd_hosts, tmp_path):
    files = client_files()
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    forged = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    before = files.known_hosts.read_text().replace(sshd_hosts.host_key_line, forged, 1)
    files.known_hosts.write_text(before)
    sh = asking("y")
    out = sh("connect web01 --accept-new")
    assert not out.ok
    assert "HOST KEY CHANGED for web01" in out.err and "ssh-keygen -R" in out.err
    assert sh.io.asked == []  # nobody is asked: a changed key is never accepted
    assert files.known_hosts.read_text() == before


# ---------------------------------------------------------------- routes


def test_proxy_jump_through_another_host(sh, client_files, sshd_hosts):
    target = sshd_hosts.addresses[5]
    client_files(extra=f"Host inner\n    HostName {target}\n    ProxyJump web01\n")
    out = sh("connect inner")
    assert out.ok, out.err
    assert sh("echo $SSH_CONNECTION").text.split()[2] == target


RELAY = """\
import os, selectors, socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
loop = selectors.DefaultSelector()
loop.register(0, selectors.EVENT_READ, sock.sendall)
loop.register(sock, selectors.EVENT_READ, lambda data: os.write(1, data))
while True:
    for key, _ in loop.select():
        data = os.read(0, 65536) if key.fileobj == 0 else sock.recv(65536)
        if not data:
            sys.exit(0)
        key.data(data)
"""


def test_proxy_command(sh, client_files, sshd_hosts, tmp_path):
    """One process relays (paramiko ends a ProxyCommand with TERM: nothing may outlive it)."""
    relay = tmp_path / "relay.py"
    relay.write_text(RELAY)
    proxy = f"{sys.executable} {relay} %h %p"
    client_files(extra=f"Host viaproxy\n    HostName {sshd_hosts.addresses[6]}\n    ProxyCommand {proxy}\n")
    out = sh("connect viaproxy")
    assert out.ok, out.err
    assert sh("echo $SSH_CONNECTION").text.split()[2] == sshd_hosts.addresses[6]
    sh.close()
    wait_until(lambda: relays(str(relay)) == [], 10, "the relay to end")


def relays(pattern: str) -> list[str]:
    found = subprocess.run(["pgrep", "-a", "-f", pattern], capture_output=True, text=True)
    return found.stdout.splitlines()


def test_down_host_fails_fast_with_a_clear_error(sh, ssh_client):
    out = sh("connect ssh://127.0.0.250:1")
    assert not out.ok
    assert out.err == "error: cannot reach 127.0.0.250:1: connection refused (is sshd running there, on that port?)\n"


def test_a_down_inventory_host_is_named_with_its_address_and_port(sh, ssh_client):
    """The repro: `connect down1` said only "connection refused"."""
    sh.ok("hosts add down1 127.0.0.250 --port 1")
    out = sh.fails("connect down1")
    hint = "is sshd running there, on that port?"
    assert out.err == f"error: cannot reach down1 at 127.0.0.250:1: connection refused ({hint})\n"


@pytest.mark.parametrize("target", ["nosuchname", "ssh://"])
def test_bad_targets(sh, ssh_client, target):
    out = sh(f"connect {target}")
    assert not out.ok and out.err.startswith("error:")


@pytest.fixture(scope="module")
def pam_host(tmp_path_factory):
    """A daemon that takes passwords only through PAM keyboard-interactive (a common setup)."""
    config = "UsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\n"
    with start_sshd(tmp_path_factory.mktemp("sshd-pam"), count=1, first=230, extra_config=config) as hosts:
        yield hosts


def test_keyboard_interactive_password(asking, client_files, pam_host):
    files = client_files(key=False, extra=f"Host pam\n    HostName {pam_host.addresses[0]}\n    Port {pam_host.port}\n")
    files.known_hosts.write_text(pam_host.known_hosts_text())
    sh = asking(pam_host.password)
    out = sh("connect pam")
    assert out.ok, out.err
    assert len(sh.io.asked) == 1
    assert sh("whoami").text == f"{pam_host.user}\n"
