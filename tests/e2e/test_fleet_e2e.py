"""Ctrl-C during `run --via`, in a real terminal and for `opsh -c`: the shell stays, the
commands on the leaves behind the gateway go (tests/servers/gateway.py)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.term import Term
from tests.helpers import clean_env, opsh_binary
from tests.servers.base import wait_until
from tests.servers.gateway import Fleet

pytestmark = pytest.mark.e2e

# Ignores TERM, INT and HUP (its `sleep` inherits that): only a KILL of its group ends it.
STUBBORN = "bash -c \"trap '' TERM INT HUP; sleep {secs}\""


def head_home(tmp_path: Path, fleet: Fleet) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(fleet.config())
    return home, fleet.write_client(tmp_path / "ssh").env


@pytest.fixture
def term(tmp_path: Path, fleet: Fleet) -> Iterator[Term]:
    home, env = head_home(tmp_path, fleet)
    session = Term.start(home, cwd=tmp_path, **env)
    session.expect_prompt()
    yield session
    session.close()


def gone(fleet: Fleet, pattern: str) -> None:
    wait_until(lambda: not fleet.user_processes(pattern), 10, f"the leaves' `{pattern}` to end")


def test_ctrl_c_stops_the_commands_on_every_leaf(term, fleet):
    quick = 'case $SSH_CONNECTION in *" 127.0.1.2 "*) echo quick;; *) sleep 41.3;; esac'
    term.send(f"run @leaves --via gw -- '{quick}'\r")
    term.expect("leaf01 \\| quick", timeout=20)
    wait_until(lambda: len(fleet.user_processes("^sleep 41.3")) == 19, 20, "nineteen sleeps on the leaves")
    term.ctrl("c")
    out = term.expect_prompt(timeout=15)
    assert "interrupted" in out and "cancelled" in out
    assert "| leaf01" in out and "| leaf20" in out
    gone(fleet, "sleep 41.3")
    assert "leaf02" in term.run("hosts @failed")
    assert "leaf01" not in term.run("hosts @failed")
    assert "alive" in term.run("echo alive")


def sessions_of_children(pid: int) -> set[int]:
    """The session ids of `pid`'s child processes (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:  # ppid, then pgrp, then session
            found.add(int(fields[3]))
    return found


def test_ctrl_c_kills_leaf_commands_that_ignore_term(term, fleet):
    term.send(f"run leaf[01-03] --via gw -- '{STUBBORN.format(secs=156.1)}'\r")
    wait_until(lambda: len(fleet.user_processes("^sleep 156.1")) == 3, 20, "three sleeps on the leaves")
    # The terminal's Ctrl-C reaches opsh alone: an ssh to the gateway that died of it first
    # made its leaves look "not reached" (a CI run); opsh's own abort ends the ssh.
    assert os.getsid(term.child.pid) not in sessions_of_children(term.child.pid)
    term.ctrl("c")
    out = term.expect_prompt(timeout=15)
    assert "interrupted" in out and "cancelled" in out
    gone(fleet, "sleep 156.1")
    assert "alive" in term.run("echo alive")


def test_interrupting_opsh_c_stops_the_leaves_too(tmp_path, fleet):
    home, env = head_home(tmp_path, fleet)
    line = f"run leaf[04-06] --via gw -- '{STUBBORN.format(secs=156.2)}'"
    proc = subprocess.Popen([opsh_binary(), "-c", line], env=clean_env(home, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_until(lambda: len(fleet.user_processes("^sleep 156.2")) == 3, 20, "three sleeps on the leaves")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "cancelled" in out  # an interrupt, not a failed host
    gone(fleet, "sleep 156.2")
