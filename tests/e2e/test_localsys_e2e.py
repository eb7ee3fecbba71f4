"""Local toolbox commands in a real terminal: Ctrl-C during a scan, kill's confirmation."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from opsh.commands.scan.model import DEFAULT_CONCURRENCY
from opsh.commands.scan.workers import worker_count

pytestmark = pytest.mark.e2e


def children_of(pid: int) -> set[int]:
    return {int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()}


def test_ctrl_c_stops_a_long_scan_and_shows_what_it_found(term):
    # 200 loopback hosts x 55,537 ports is minutes of work; the listener's port comes first.
    # The scan is shared by worker processes (one per CPU); Ctrl-C reaches them all, as the
    # terminal signals the whole foreground process group, and none of them outlives the scan.
    server = socket.socket()
    server.bind(("127.3.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        term.send(f"scan 127.3.0.1-200 {port},10000-65535\r")
        term.expect(r"scan \[[#.]+\]", timeout=15)  # the progress bar is drawn
        workers = children_of(term.child.pid)
        term.pause(0.5)
        term.ctrl("c")
        out = term.expect_prompt(timeout=15)
    finally:
        server.close()
    assert re.search(rf"127\.3\.0\.1\s*\|\s*{port}\s*\|\s*open", out), out
    assert "interrupted after" in out and "Traceback" not in out
    assert len(workers) == worker_count(200 * 55537, DEFAULT_CONCURRENCY) - 1
    assert children_of(term.child.pid) == set() and not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert "alive" in term.run("echo alive")


def test_kill_of_many_processes_asks_in_the_terminal(term, sleepers):
    pids = " ".join(str(p.pid) for p in sleepers)
    term.send(f"kill {pids}\r")
    term.expect(r"Send SIGTERM to 4 processes .*\[y/N\]")
    term.send("n\r")
    assert "not confirmed, nothing done" in term.expect_prompt()
    assert all(p.poll() is None for p in sleepers)
    term.send(f"kill {pids}\r")
    term.expect(r"\[y/N\]")
    term.send("y\r")
    out = term.expect_prompt()
    assert out.count("| sent ") == 4 or len(re.findall(r"\|\s*sent\s*\|", out)) == 4, out
    assert [p.wait(timeout=5) for p in sleepers] == [-15] * 4


def test_scan_then_connect_tab_completes_the_url_found(term, redis_server):
    """The issue's story: scan, `connect <Tab>` on what was found, and Enter connects."""
    out = term.run(f"scan 127.0.0.1 {redis_server.port} --banner")
    assert f"redis://127.0.0.1:{redis_server.port}" in out and "PONG" in out
    term.send("connect redis://127")
    term.pause(0.4)
    term.send("\t")  # one found URL: the first Tab completes it
    term.expect(str(redis_server.port))
    term.pause(0.3)
    term.run("")
    assert "PONG" in term.run("PING")
