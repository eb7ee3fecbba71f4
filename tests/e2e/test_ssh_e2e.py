"""Ctrl-C during long remote commands, in a real terminal: the shell stays, the remote
processes go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import Term
from tests.servers.base import wait_until
from tests.servers.sshd import SshHosts
from tests.ssh.conftest import web_aliases

pytestmark = pytest.mark.e2e


@pytest.fixture
def term(tmp_path: Path, sshd_hosts: SshHosts) -> Iterator[Term]:
    files = sshd_hosts.write_client(tmp_path / "ssh", aliases=web_aliases(sshd_hosts))
    session = Term.start(tmp_path / "home", cwd=tmp_path, **files.env)
    session.expect_prompt()
    yield session
    session.close()


def gone(sshd_hosts: SshHosts, pattern: str) -> None:
    wait_until(lambda: not sshd_hosts.user_processes(pattern), 10, f"remote `{pattern}` to end")


def test_ctrl_c_stops_a_parallel_run_and_reports_what_finished(term, sshd_hosts):
    term.run("hosts add web[01-05] --group lab")
    term.run("hosts add web[06-08] --group lab")
    term.send("run @all -- 'case $SSH_CONNECTION in *\" 127.0.0.2 \"*) echo quick;; *) sleep 31.7;; esac'\r")
    term.expect("web01 \\| quick", timeout=15)
    wait_until(lambda: len(sshd_hosts.user_processes("^sleep 31.7")) == 7, 10, "seven remote sleeps")
    term.ctrl("c")
    out = term.expect_prompt(timeout=10)
    assert "interrupted" in out and "cancelled" in out
    assert "| web01" in out and "| web08" in out
    gone(sshd_hosts, "^sleep 31.7")
    assert "web02" in term.run("hosts @failed")
    assert "alive" in term.run("echo alive")


def test_ctrl_c_in_ssh_mode_returns_to_the_prompt_on_the_same_host(term, sshd_hosts):
    term.run("connect web03")
    term.send("sleep 32.3\r")
    wait_until(lambda: sshd_hosts.user_processes("sleep 32.3"), 10, "the remote sleep")
    term.ctrl("c")
    term.expect_prompt(timeout=10)
    gone(sshd_hosts, "sleep 32.3")
    out = term.run("echo still $((40+2))")
    assert "still 42" in out
    term.ctrl("d")
    assert term.exit_status() == 0


# A command that ignores TERM, INT and HUP (its `sleep` inherits the ignored signals): only a
# KILL of its process group ends it.
STUBBORN = "bash -c \"trap '' TERM INT HUP; sleep {secs}\""


def test_ctrl_c_kills_a_run_whose_commands_ignore_term(term, sshd_hosts):
    term.send(f"run web[01-03] -- '{STUBBORN.format(secs=155.1)}'\r")
    wait_until(lambda: len(sshd_hosts.user_processes("^sleep 155.1")) == 3, 10, "three remote sleeps")
    term.ctrl("c")
    out = term.expect_prompt(timeout=10)
    assert "interrupted" in out and "cancelled" in out
    gone(sshd_hosts, "sleep 155.1")
    assert "alive" in term.run("echo alive")


def test_ctrl_c_kills_an_ssh_mode_command_that_ignores_term(term, sshd_hosts):
    """Without a terminal (`tty off`, as in a script) Ctrl-C is opsh's to act on; with one the
    key belongs to the remote program, as over ssh -t (test_ssh_terminal_e2e: `~.`)."""
    term.run("connect web02")
    term.run("\\tty off")
    term.send(STUBBORN.format(secs=155.2) + "\r")
    wait_until(lambda: sshd_hosts.user_processes("^sleep 155.2"), 10, "the remote sleep")
    term.ctrl("c")
    term.expect_prompt(timeout=10)
    gone(sshd_hosts, "sleep 155.2")
    assert "still 42" in term.run("echo still $((40+2))")


def test_interrupting_opsh_c_leaves_nothing_on_the_hosts(tmp_path, sshd_hosts):
    """`opsh -c 'run ...'` interrupted (SIGINT, as Ctrl-C in a shell sends): opsh exits only
    after the hosts' process groups are killed."""
    import signal
    import subprocess

    from tests.helpers import clean_env, opsh_binary

    files = sshd_hosts.write_client(tmp_path / "ssh", aliases=web_aliases(sshd_hosts))
    line = f"run web[04-06] -- '{STUBBORN.format(secs=155.3)}'"
    proc = subprocess.Popen([opsh_binary(), "-c", line], env=clean_env(tmp_path / "home", **files.env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_until(lambda: len(sshd_hosts.user_processes("^sleep 155.3")) == 3, 15, "three remote sleeps")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "cancelled" in out  # an interrupt, not a failed host
    assert sshd_hosts.user_processes("sleep 155.3") == []  # already gone when opsh has exited


def test_an_interrupted_opsh_c_copy_exits_130_and_runs_nothing_after(tmp_path, sshd_hosts):
    """A wrapper must tell Ctrl-C from a failed host: `copy` catches it and shows what
    finished, and `opsh -c` still ends as interrupted (130), as an SQL statement does."""
    import os
    import shutil
    import signal
    import subprocess

    from tests.helpers import clean_env, opsh_binary

    files = sshd_hosts.write_client(tmp_path / "ssh", aliases=web_aliases(sshd_hosts))
    remote = sshd_hosts.remote_dir()
    (tmp_path / "huge.bin").write_bytes(os.urandom(1_000_000) * 400)  # 400 MB: seconds to send
    line = f"copy huge.bin web[01-02]:{remote}/; echo AFTER"
    proc = subprocess.Popen([opsh_binary(), "-c", line], env=clean_env(tmp_path / "home", **files.env),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_until(lambda: any(p.name.endswith(".part") for p in remote.iterdir()), 15, "the upload to start")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
        shutil.rmtree(remote, ignore_errors=True)
    assert proc.returncode == 130, out
    assert "cancelled" in out and "AFTER" not in out  # the table of what finished, then the stop


def test_ctrl_c_mid_copy_leaves_no_file_under_its_final_name(term, sshd_hosts, tmp_path):
    import os
    import shutil

    remote = sshd_hosts.remote_dir()
    try:
        (tmp_path / "huge.bin").write_bytes(os.urandom(1_000_000) * 400)  # 400 MB: seconds to send
        term.send(f"copy huge.bin web[01-02]:{remote}/\r")
        wait_until(lambda: any(p.name.endswith(".part") for p in remote.iterdir()), 15, "the upload to start")
        term.ctrl("c")
        out = term.expect_prompt(timeout=15)
        assert "interrupted" in out
        assert os.listdir(remote) == []  # neither huge.bin nor a partial file
        assert "alive" in term.run("echo alive")
    finally:
        shutil.rmtree(remote, ignore_errors=True)
