"""Batch semantics, written as the repros that showed them missing: a failing `| command` fails
the line as under `bash -o pipefail -e`, `${x}` after `|` is expanded as data, and Ctrl-C ends
a batch run with 130 whatever it interrupted (an SQL statement, or run and scan, which catch it
and show what finished)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Shell, clean_env, opsh_binary
from tests.servers.base import wait_until


def opsh_c(tmp_path: Path, line: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp_path / "home")
    argv = [opsh_binary(), "-c", line]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)


# ---------------------------------------------------------------- a failing pipe


def test_a_failing_pipe_stops_the_batch_with_1_as_bash_pipefail_does(tmp_path):
    line = "hash --text abc | tee /nonexistent/x; echo AFTER"
    reference = ["bash", "-o", "pipefail", "-e", "-c", line.replace("hash --text", "echo")]
    bash = subprocess.run(reference, capture_output=True, cwd=tmp_path)
    assert bash.returncode == 1 and b"AFTER" not in bash.stdout  # the reference
    out = opsh_c(tmp_path, line)
    assert out.returncode == 1 and "AFTER" not in out.stdout
    assert "error: | tee /nonexistent/x: exit status 1\n" in out.stderr


def test_a_pipe_command_that_cannot_start_fails_the_line(tmp_path):
    out = opsh_c(tmp_path, "echo hi | no-such-command-here; echo AFTER")
    assert out.returncode == 1 and "AFTER" not in out.stdout
    assert "error: | no-such-command-here: exit status 127 (the command was not found)" in out.stderr


def test_a_pipe_command_killed_by_a_signal_fails_the_line(tmp_path):
    out = opsh_c(tmp_path, "echo hi | kill -TERM $$; echo AFTER")
    assert out.returncode == 1 and "AFTER" not in out.stdout
    assert "error: | kill -TERM $$: killed by SIGTERM" in out.stderr


def test_a_reader_that_stops_early_is_no_failure(tmp_path):
    """`| head -1` leaves most of a 2 MB listing unread and exits 0: pipefail's rule counts the
    command's status, so the line succeeds."""
    (tmp_path / "big.txt").write_text("".join(f"line {n}\n" for n in range(200_000)))
    out = opsh_c(tmp_path, "cat big.txt | head -1; echo AFTER")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "line 0\nAFTER\n"


def test_in_a_mode_a_failing_backslash_pipe_fails_too(tmp_path):
    out = opsh_c(tmp_path, "connect sqlite:///t.db\nselect 1 as n \\| grep -q nothing-like-this\n\\echo AFTER")
    assert out.returncode == 1 and "AFTER" not in out.stdout
    assert "error: | grep -q nothing-like-this: exit status 1" in out.stderr


def test_at_the_prompt_the_toolbar_says_the_pipe_failed(tmp_path):
    sh = Shell(tmp_path)
    failed = sh.fails("echo hi | false", "| false: exit status 1", exit_code=1)
    assert "error: | false: exit status 1" in failed.err
    assert sh.session.last.status == "error: | false: exit status 1"
    assert sh.ok("echo still here").text == "still here\n"  # the session goes on


# ---------------------------------------------------------------- ${x} after a pipe


def test_a_variable_after_a_pipe_is_expanded(tmp_path):
    out = opsh_c(tmp_path, "set x hello; echo hello | sed s/h/${x}-/")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello-ello\n"


def test_a_variable_after_a_pipe_is_data_never_shell_syntax(tmp_path):
    out = opsh_c(tmp_path, "set x 'a; touch PWNED'; echo hello | sed s/h/${x}-/")
    assert out.stdout == "a; touch PWNED-ello\n"
    assert not (tmp_path / "PWNED").exists()


def test_in_a_mode_the_target_of_a_backslash_pipe_is_data_too(tmp_path):
    out = opsh_c(tmp_path, "set x 'v; touch PWNED'\nconnect sqlite:///t.db\nselect 1 \\| echo ${x}\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "v; touch PWNED\n"
    assert not (tmp_path / "PWNED").exists()


# ---------------------------------------------------------------- Ctrl-C in a batch


def interrupted(tmp_path: Path, text: str, started: Callable[[int], bool]) -> tuple[int, str]:
    """`opsh -c TEXT` sent SIGINT (what Ctrl-C sends) once `started(pid)` says the command runs."""
    env = clean_env(tmp_path / "home")
    proc = subprocess.Popen(
        [opsh_binary(), "-c", text], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path
    )
    try:
        wait_until(lambda: started(proc.pid), 30, "the command to start")
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, out


def has_children(pid: int) -> bool:
    tasks = Path(f"/proc/{pid}/task")
    return any((task / "children").read_text().split() for task in tasks.iterdir())


def test_an_interrupted_sql_statement_exits_130(tmp_path):
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c;"
    text = f"connect sqlite:///t.db\n{endless}\n\\echo AFTER"
    code, out = interrupted(tmp_path, text, lambda pid: (tmp_path / "t.db").exists())
    assert code == 130 and "error: cancelled" in out and "AFTER" not in out


def test_an_interrupted_run_exits_130(tmp_path):
    code, out = interrupted(tmp_path, "run local -- sleep 31.7; echo AFTER", has_children)
    assert code == 130, out
    assert "cancelled" in out and "AFTER" not in out  # the summary of what finished, then the stop


def test_an_interrupted_scan_exits_130(tmp_path):
    """A scan of 8 x 65,535 loopback probes forks a worker (a child): it is running."""
    code, out = interrupted(tmp_path, "scan 127.0.0.1,127.77.0.1-7 1-65535; echo AFTER", has_children)
    assert code == 130, out
    assert "AFTER" not in out


@pytest.mark.parametrize("keep_going", [False, True])
def test_a_failure_that_is_no_interrupt_still_exits_1(tmp_path, keep_going):
    line = "run local -- false; echo AFTER"
    env = clean_env(tmp_path / "home")
    argv = [opsh_binary(), *(["--keep-going"] if keep_going else []), "-c", line]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert out.returncode == 1 and ("AFTER" in out.stdout) == keep_going
