"""The SSH files pointed at /dev/zero or a fifo: an error line at once, never a read that does
not end.

The repro of issue 24: `OPSH_SSH_CONFIG=/dev/zero` or `OPSH_KNOWN_HOSTS=/dev/zero` read until
MemoryError, and a fifo blocked forever; the same held for an Include'd file, UserKnownHostsFile
and an IdentityFile. Each line runs in its own `opsh -c` with a timeout and a memory limit
(tests/unit/test_device_files.py), so a regression fails here instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import clean_env, opsh_binary
from tests.servers.sshd import SshHosts
from tests.unit.test_device_files import limited

BOX = "Host box\n    HostName 127.0.0.250\n    Port 2422\n"  # nothing listens there


def opsh_c(line: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [opsh_binary(), "--no-history", "-c", line],
        cwd=cwd,
        env=clean_env(cwd / "home", **env),
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=limited,
    )


@pytest.fixture(params=["device", "fifo"])
def special(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """/dev/zero (never ends) or a fifo nobody writes to (blocks the reader forever)."""
    if request.param == "device":
        return Path("/dev/zero")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def kind_of(path: Path) -> str:
    return "a character device" if str(path).startswith("/dev/") else "a fifo (named pipe)"


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ssh_config"
    path.write_text(text)
    return str(path)


def test_ssh_config(tmp_path, special):
    done = opsh_c("hosts show box", tmp_path, OPSH_SSH_CONFIG=str(special), OPSH_KNOWN_HOSTS=os.devnull)
    assert done.returncode != 0
    assert done.stderr.startswith(f"error: ssh config {special} is {kind_of(special)}, not a regular file")
    assert done.stderr.count("\n") == 1


def test_a_file_the_ssh_config_includes(tmp_path, special):
    ssh_config = config(tmp_path, f"Include {special}\n{BOX}")
    done = opsh_c("hosts show box", tmp_path, OPSH_SSH_CONFIG=ssh_config, OPSH_KNOWN_HOSTS=os.devnull)
    assert done.stderr.startswith(f"error: ssh config {special} is {kind_of(special)}")


def test_known_hosts(tmp_path, special):
    done = opsh_c("hosts show box", tmp_path, OPSH_SSH_CONFIG=config(tmp_path, BOX), OPSH_KNOWN_HOSTS=str(special))
    assert done.stderr.startswith(f"error: known_hosts {special} is {kind_of(special)}, not a regular file")
    assert "/dev/null to keep no host keys" in done.stderr


def test_user_known_hosts_file_from_the_ssh_config(tmp_path, special):
    ssh_config = config(tmp_path, f"{BOX}    UserKnownHostsFile {special}\n")
    done = opsh_c("hosts show box", tmp_path, OPSH_SSH_CONFIG=ssh_config)
    assert done.stderr.startswith(f"error: known_hosts {special} is {kind_of(special)}")


def test_known_hosts_at_dev_null_is_still_the_way_to_keep_none(tmp_path):
    done = opsh_c("hosts show box", tmp_path, OPSH_SSH_CONFIG=config(tmp_path, BOX), OPSH_KNOWN_HOSTS=os.devnull)
    assert done.returncode == 0, done.stderr
    assert "host keys on file" in done.stdout


def test_an_identity_file_is_skipped_like_any_unreadable_key(tmp_path, special, sshd_hosts: SshHosts):
    files = sshd_hosts.write_client(tmp_path / "ssh", aliases={"web01": sshd_hosts.addresses[0]}, identity=special)
    done = opsh_c("connect web01", tmp_path, **files.env)
    assert done.stderr.startswith("error: permission denied (password)")  # no other key, no terminal to ask
    assert done.stderr.count("\n") == 1


def test_the_key_ring_says_why_such_a_key_was_not_loaded(special):
    code = (
        "from opsh.commands.ssh.transport.keys import KeyRing;"
        f"print(KeyRing().prepare([{str(special)!r}], None)[0].note)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, preexec_fn=limited)
    assert done.stdout == f"{special} is {kind_of(special)}, not a regular file\n"


def test_the_hosts_file(tmp_path, special):
    home = tmp_path / "home"
    home.mkdir()
    os.symlink(special, home / "hosts.toml")
    done = opsh_c("hosts", tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"is {kind_of(special)}" in done.stderr, done.stderr
