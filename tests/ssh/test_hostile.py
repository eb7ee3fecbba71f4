"""Hostile host names, device files and odd servers: opsh runs nothing it was not asked to.

The blocker these repro: with `ProxyCommand sh -c "echo %h; exit 1"` in the ssh config, a host
name such as `x$(touch F)x` would reach a local shell through `%h`. OpenSSH refuses such names
("hostname contains invalid characters"); so does opsh, wherever a name comes from.
"""

from __future__ import annotations

import socket
import subprocess
import threading

import pytest

from tests.helpers import clean_env, opsh_binary

PROXY = 'Host *\n    ProxyCommand sh -c "echo %h; exit 1"\n'


@pytest.fixture
def proxied(client_files, tmp_path, monkeypatch):
    """An ssh config whose ProxyCommand hands the host name to `sh -c`; returns the marker
    file that an injected `touch INJECTED` would create (a ProxyCommand runs in opsh's
    working directory, made the test's)."""
    client_files(extra=PROXY)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "INJECTED"


@pytest.mark.parametrize(
    "name",
    ["x$(touch {F})x", "x`touch {F}`x", "x;touch {F};x", "x|touch {F}", "x&&touch {F}", "x\ttouch"],
)
def test_run_refuses_host_names_a_shell_would_read(sh, proxied, name):
    target = name.format(F="INJECTED")
    out = sh.fails(f"run '{target}' -- true", "contains invalid characters")
    assert out.exit_code == 2
    assert not proxied.exists()


def test_connect_copy_and_hosts_refuse_them_too(sh, proxied, tmp_path):
    evil = "x$(touch${IFS}INJECTED)x"
    sh.fails(f"connect 'ssh://{evil}'", "invalid characters")
    sh.fails("connect 'ssh://a;touch${IFS}INJECTED@web01'", "invalid characters")
    (tmp_path / "f.txt").write_text("x")
    sh.fails(f"copy f.txt '{evil}:/tmp/'", "invalid characters")
    sh.fails(f"copy '{evil}:/etc/hosts' here", "invalid characters")
    sh.fails(f"hosts add bad1 '{evil}'", "invalid characters")
    sh.fails("hosts add bad2 127.0.0.2 --user 'u;touch INJECTED'", "invalid characters")
    sh.fails(f"hosts show '{evil}'", "invalid characters")
    assert not proxied.exists()


def test_a_server_list_line_with_shell_syntax_is_refused(sh, proxied, tmp_path):
    (tmp_path / "list.txt").write_text("127.0.0.2 22 root pw\nx$(touch${IFS}INJECTED)x 22 root pw\n")
    sh.fails("hosts load list.txt", "list.txt:2: host name")
    assert not proxied.exists()
    assert "unknown group" in sh("run @list -- true").err  # nothing was loaded


def test_ssh_config_aliases_with_shell_syntax_are_not_offered(sh, client_files, tmp_path):
    marker = tmp_path / "INJECTED"
    client_files(extra=f"Host x$(touch${{IFS}}{marker})x\n    HostName 127.0.0.2\n\n{PROXY}")
    assert all("$(" not in row["name"] for row in sh.json("hosts"))
    sh.fails(f"connect 'x$(touch${{IFS}}{marker})x'", "")
    assert not marker.exists()


def test_a_proxy_jump_hop_is_checked_as_well(sh, client_files, tmp_path):
    marker = tmp_path / "INJECTED"
    client_files(extra=f"Host inner\n    HostName 127.0.0.3\n    ProxyJump x$(touch${{IFS}}{marker})x\n\n{PROXY}")
    sh.fails("run inner -- true", "invalid characters")
    assert not marker.exists()


def test_hosts_load_refuses_device_files_and_huge_ones(sh, ssh_client, tmp_path):
    sh.fails("hosts load /dev/zero", "not a regular file")
    fifo = tmp_path / "fifo"
    import os

    os.mkfifo(fifo)
    sh.fails("hosts load fifo", "not a regular file")  # and does not block on open
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(17 * 1024 * 1024)
    sh.fails("hosts load big.txt", "larger than 16 MiB")


# ---------------------------------------------------------------- servers that are not SSH


@pytest.fixture
def not_ssh():
    """A port that accepts TCP and answers HTTP, never an SSH banner."""
    sock = socket.socket()
    sock.bind(("127.0.0.252", 0))
    sock.listen(16)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield sock.getsockname()
    stop.set()
    sock.close()


def test_a_port_that_is_not_ssh_prints_one_clean_line(client_files, not_ssh, tmp_path):
    """Run as a user runs it (a process of its own, no pytest log capture): paramiko's
    tracebacks would go to stderr through Python's last-resort log handler."""
    address, port = not_ssh
    files = client_files(extra=f"Host http\n    HostName {address}\n    Port {port}\n")
    env = clean_env(tmp_path / "home", **files.env)
    for line in ("run http --timeout 3 -- true", f"connect ssh://{address}:{port}"):
        done = subprocess.run([opsh_binary(), "-c", line], capture_output=True, text=True, env=env, timeout=30)
        assert done.returncode == 1
        errors = [text for text in done.stderr.splitlines() if text.strip()]
        shown = done.stdout + done.stderr
        assert "Traceback" not in shown and "Exception" not in shown and "paramiko" not in shown
        assert "no SSH banner" in shown
        assert len(errors) <= 1, done.stderr  # `connect`'s error line; `run` reports in its table
