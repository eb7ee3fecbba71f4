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
