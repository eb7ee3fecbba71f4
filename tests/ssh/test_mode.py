"""SSH mode: each line runs on the host, the remote directory carries over, status is kept."""

from __future__ import annotations

import os
import signal
import time

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document


@pytest.fixture
def web01(sh, ssh_client):
    out = sh("connect web01")
    assert out.ok, out.err
    return sh


def test_exit_status_and_stderr(web01):
    out = web01("echo to-out; echo to-err >&2; exit 3")
    assert not out.ok
    assert sorted(out.lines) == ["to-err", "to-out"]
    handle = web01.session.current_handle
    assert handle.last_exit == 3
    assert "exit 3" in handle.toolbar()
    assert web01("true").ok and handle.last_exit == 0


def test_remote_directory_persists_across_lines(web01, remote_dir):
    assert web01(f"cd {remote_dir}").ok
    assert web01("pwd").text == f"{remote_dir}\n"
    web01.ok("mkdir -p sub/deeper && cd sub/deeper")
    assert web01("pwd").text == f"{remote_dir}/sub/deeper\n"
    assert web01.session.current_handle.prompt_label().endswith(f"{remote_dir}/sub/deeper")
    web01.fails("cd ..; exit 4")  # a line that exits early keeps the previous directory
    assert web01("pwd").text == f"{remote_dir}/sub/deeper\n"
    web01.ok("cd; cd -")  # `cd -` has no memory across lines, but must not break anything
    assert web01("cd ~ && pwd").text.startswith("/home/")
    assert web01.session.current_handle.prompt_label() == "ssh:web01:~"


def test_a_vanished_directory_falls_back_with_a_warning(web01, remote_dir, sshd_hosts):
    web01.ok(f"mkdir {remote_dir}/tmpdir; cd {remote_dir}/tmpdir")
    web01.ok(f"rmdir {remote_dir}/tmpdir")
    out = web01("pwd")
    assert f"opsh: {remote_dir}/tmpdir is gone, running in /home/" in out.text
    assert f"/home/{sshd_hosts.user}" in out.lines and len(out.lines) == 2
    assert web01.session.current_handle.prompt_label() == "ssh:web01:~"


def test_output_without_trailing_newline_and_quoting(web01):
    assert web01("printf abc").text == "abc\n"
    assert web01("echo 'a;b' \"c  d\" | tr a z").text == "z;b c  d\n"
    assert web01("for i in 1 2 3; do echo $i; done | wc -l").text.strip() == "3"


def test_long_output_streams_every_line(web01):
    out = web01("seq 1 20000")
    assert out.lines[0] == "1" and out.lines[-1] == "20000" and len(out.lines) == 20000


def test_dropped_connection_is_reestablished(web01):
    handle = web01.session.current_handle
    handle.transport.close()
    assert "dropped" in handle.state()
    out = web01("echo back")
    assert out.text == "back\n"
    assert handle.reconnects == 1


def test_shell_commands_still_work_inside_the_mode(web01):
    out = web01("\\status --format json")
    rows = {r["name"]: r for r in out.json}
    assert rows["web01"]["kind"] == "ssh" and rows["web01"]["latency_ms"] is not None
    assert web01("\\q").ok and web01.session.current is None


def test_remote_paths_complete_over_sftp(web01, remote_dir):
    (remote_dir / "alpha.txt").write_text("x")
    (remote_dir / "alps").mkdir()
    web01.ok(f"cd {remote_dir}")
    completer = web01.session.current_handle.completer(web01.session)
    found = [c.text for c in completer.get_completions(Document("cat al"), CompleteEvent(completion_requested=True))]
    assert found == ["alpha.txt", "alps/"]
    found = [c.text for c in completer.get_completions(Document("ls /tm"), CompleteEvent(completion_requested=True))]
    assert "/tmp/" in found


def test_a_background_job_does_not_hold_the_prompt(web01, sshd_hosts):
    started = time.monotonic()
    out = web01("sleep 33.3 & echo started")
    assert out.ok and out.text == "started\n"
    assert time.monotonic() - started < 5
    leftovers = sshd_hosts.user_processes("^sleep 33.3")
    assert leftovers, "the job keeps running on the host"
    for line in leftovers:
        os.kill(int(line.split()[0]), signal.SIGTERM)


def test_lines_are_split_at_newlines_only(web01):
    handle = web01.session.current_handle
    first = handle.next_statement("echo a; echo b\nls")
    assert (first.text, first.rest) == ("echo a; echo b", "ls")
    assert handle.next_statement("echo a \\") is None
    joined = handle.next_statement("echo a \\\nb\n")
    assert (joined.text, joined.rest) == ("echo a b", "")
    assert web01("echo one; echo two").lines == ["one", "two"]
