"""`signals` and `kill`. Signals go only to processes these tests start themselves; pid 1 and
opsh's own pid are only ever sent signal 0 (which checks and sends nothing)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsh.shell.completion import local_candidates
from tests.helpers import Shell

RECORDER = """
import signal, sys, time
log = open(sys.argv[1], "a", buffering=1)
def note(number, frame):
    log.write(signal.Signals(number).name + "\\n")
    if number == signal.SIGTERM:
        sys.exit(0)
for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGTERM):
    signal.signal(sig, note)
log.write("ready\\n")
while True:
    time.sleep(0.05)
"""


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A child that writes down every signal it receives (as the seed's handler example)."""
    log = tmp_path / "signals.log"
    proc = subprocess.Popen([sys.executable, "-c", RECORDER, str(log)])
    wait_for(lambda: log.exists() and "ready" in log.read_text())
    yield proc, log
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def received(log: Path) -> list[str]:
    return log.read_text().split()[1:]


def test_signals_table_has_platform_numbers_and_default_actions(sh):
    rows = {r["signal"]: r for r in sh.json("signals")}
    for name in (
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGABRT",
        "SIGFPE",
        "SIGKILL",
        "SIGSEGV",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGUSR1",
        "SIGUSR2",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
    ):
        assert rows[name]["number"] == int(getattr(signal, name)), name
    assert rows["SIGKILL"]["catchable"] is False and rows["SIGSTOP"]["catchable"] is False
    assert rows["SIGTERM"]["catchable"] is True
    assert rows["SIGKILL"]["action"] == "terminate"
    assert rows["SIGSEGV"]["action"] == "core dump"
    assert rows["SIGCHLD"]["action"] == "ignore"
    assert rows["SIGTSTP"]["action"] == "stop" and rows["SIGCONT"]["action"] == "continue"
    assert "SIGIOT" in rows["SIGABRT"]["aliases"]


def test_signals_filter_by_name_or_number(sh):
    assert [r["signal"] for r in sh.json("signals usr")] == ["SIGUSR1", "SIGUSR2"]
    assert [r["signal"] for r in sh.json("signals 9")] == ["SIGKILL"]


def test_kill_sends_named_and_numbered_signals(sh, recorder):
    proc, log = recorder
    usr1 = int(signal.SIGUSR1)
    lines = (
        f"kill -USR1 {proc.pid}",
        f"kill -s SIGUSR2 {proc.pid}",
        f"kill -hup {proc.pid}",
        f"kill -{usr1} {proc.pid}",
    )
    for count, line in enumerate(lines, 1):
        out = sh(line + " --format json")
        assert out.ok, out.err
        assert out.json[0]["result"] == "sent"
        # one at a time: a standard signal sent again before it is handled is merged into one
        wait_for(lambda count=count: len(received(log)) == count)
    assert received(log) == ["SIGUSR1", "SIGUSR2", "SIGHUP", "SIGUSR1"]
    rows = sh.json(f"kill {proc.pid}")
    assert rows == [{"pid": proc.pid, "signal": "SIGTERM", "command": rows[0]["command"], "result": "sent"}]
    assert proc.wait(timeout=5) == 0
    assert received(log)[-1] == "SIGTERM"


def test_kill_reports_each_pid_and_fails_if_one_failed(sh, sleepers):
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = sleepers[0]
    out = sh(f"kill -0 {alive.pid} {gone.pid} --format json")
    assert not out.ok and out.exit_code == 1
    assert [(r["pid"], r["result"]) for r in out.json] == [(alive.pid, "alive"), (gone.pid, "no such process")]
    assert out.json[0]["command"] == "sleep 60"


def test_kill_reports_permission_denied(tmp_path, sleepers):
    """An unprivileged opsh (a forked child that dropped to `nobody`) signalling our sleeper."""
    if os.geteuid() != 0:
        pytest.fail("this test drops privileges and needs root (CI runs as root)")
    target = sleepers[0].pid
    shell = Shell(tmp_path, history=False)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        try:
            os.close(reader)
            os.setgid(65534)
            os.setuid(65534)
            out = shell(f"kill -TERM {target} --format json")
            os.write(writer, out.text.encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        text = pipe.read()
    os.waitpid(child, 0)
    assert '"result": "permission denied"' in text
    assert sleepers[0].poll() is None


def test_many_pids_ask_first_and_no_means_nothing_is_sent(tmp_path, sleepers):
    pids = " ".join(str(p.pid) for p in sleepers)
    shell = Shell(tmp_path, answers=["n"])
    out = shell(f"kill {pids}")
    assert not out.ok and "not confirmed" in out.err
    assert shell.io.asked == [f"Send SIGTERM to 4 processes ({pids.replace(' ', ', ')})?"]
    time.sleep(0.1)
    assert all(p.poll() is None for p in sleepers)


def test_many_pids_confirmed_are_all_signalled(tmp_path, sleepers):
    pids = " ".join(str(p.pid) for p in sleepers)
    out = Shell(tmp_path, answers=["y"])(f"kill {pids} --format json")
    assert out.ok and [r["result"] for r in out.json] == ["sent"] * 4
    assert [p.wait(timeout=5) for p in sleepers] == [-signal.SIGTERM] * 4


def test_scripts_need_yes_for_many_pids(sh, sleepers):
    pids = " ".join(str(p.pid) for p in sleepers)
    refused = sh(f"kill -0 {pids}")
    assert not refused.ok and "add --yes to allow it in scripts" in refused.err
    allowed = sh(f"kill -0 {pids} --yes --format json")
    assert allowed.ok and [r["result"] for r in allowed.json] == ["alive"] * 4


def test_three_pids_need_no_confirmation(sh, sleepers):
    pids = " ".join(str(p.pid) for p in sleepers[:3])
    assert sh(f"kill -0 {pids}").ok


def test_pid_1_asks_first(tmp_path):
    shell = Shell(tmp_path, answers=["n"])
    out = shell("kill -0 1")
    assert not out.ok and "not confirmed" in out.err
    assert shell.io.asked[0].startswith("Send signal 0 (check only) to pid 1 (")


def test_own_pid_asks_first(tmp_path):
    shell = Shell(tmp_path, answers=["y"])
    out = shell(f"kill -0 {os.getpid()} --format json")
    assert out.ok and out.json[0]["result"] == "alive"
    assert shell.io.asked == [f"Send signal 0 (check only) to opsh itself (pid {os.getpid()})?"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("kill nginx", "not a pid: 'nginx'"),
        ("kill 0", "pid 0 means opsh's whole process group"),
        ("kill -TERM 12 -34", "process groups (negative pids) are refused"),
        ("kill -BOGUS 12", "unknown signal: 'BOGUS'"),
        ("kill -s TERM -9 12", "give the signal once"),
        ("kill -USR1", "which process?"),
        ("kill -RTMAX+1 12", "real-time signal out of range"),
    ],
)
def test_kill_bad_input(sh, line, message):
    out = sh(line)
    assert out.exit_code == 2 and message in out.err


def test_kill_list(sh):
    assert sh.json("kill -l 9 15") == [{"number": 9, "signal": "SIGKILL"}, {"number": 15, "signal": "SIGTERM"}]
    names = {r["signal"] for r in sh.json("kill -l")}
    assert {"SIGHUP", "SIGUSR1", "SIGKILL"} <= names


def bash_kill_l() -> list[tuple[int, str]]:
    """bash's `kill -l`: `34) SIGRTMIN  35) SIGRTMIN+1 ...`, the real-time signals included."""
    out = subprocess.run(["bash", "-c", "kill -l"], capture_output=True, text=True, check=True).stdout
    return [(int(n), name) for n, name in re.findall(r"(\d+)\) (SIG\S+)", out)]


def test_kill_list_matches_bash_kill_l_real_time_signals_included(sh):
    reference = bash_kill_l()
    assert (int(signal.SIGRTMAX), "SIGRTMAX") in reference  # the reference does list them
    assert [(r["number"], r["signal"]) for r in sh.json("kill -l")] == reference


def test_signals_table_lists_every_signal_kill_l_lists(sh):
    rows = {r["number"]: r for r in sh.json("signals")}
    for number, name in bash_kill_l():
        assert rows[number]["signal"] == name
    rtmin = int(signal.SIGRTMIN)
    assert rows[rtmin + 1]["action"] == "terminate" and rows[rtmin + 1]["catchable"] is True
    assert "real-time" in rows[rtmin + 1]["meaning"]


@pytest.mark.parametrize("name", ["RTMIN+1", "SIGRTMAX-14", "rtmax", "RTMIN+15"])
def test_real_time_names_read_as_bash_reads_them(sh, name):
    expected = subprocess.run(["bash", "-c", f"kill -l {name}"], capture_output=True, text=True, check=True)
    assert sh.json(f"kill -l {name}")[0]["number"] == int(expected.stdout)


def test_kill_sends_a_real_time_signal(sh, sleepers):
    pid = sleepers[0].pid
    out = sh.json(f"kill -RTMIN+2 {pid}")
    assert out[0]["signal"] == "SIGRTMIN+2" and out[0]["result"] == "sent"
    sleepers[0].wait(timeout=5)
    assert sleepers[0].returncode == -(int(signal.SIGRTMIN) + 2)  # real-time signals terminate by default


@pytest.mark.parametrize(
    "line",
    [
        "kill " + "9" * 38,
        "kill " + "9" * 5000,
        "kill -" + "9" * 5000 + " 12",
        "kill -s " + "9" * 5000 + " 12",
        "kill -l " + "9" * 5000,
        "kill ²",
        "signals " + "9" * 5000,
    ],
)
def test_huge_or_odd_numbers_are_one_error_line(sh, line):
    out = sh(line)
    if line.startswith("signals"):
        assert out.ok and out.text.count("\n") <= 4  # no row matches: an empty table
        return
    assert not out.ok and out.err.count("\n") == 1 and out.err.startswith("error: ")
    assert len(out.err) < 200


def test_kill_completes_signal_names_and_pids(sh, sleepers):
    assert [w for w, _, _ in local_candidates(sh.session, "kill -US")] == ["-USR1", "-USR2"]
    pid = str(sleepers[0].pid)
    assert pid in [w for w, _, _ in local_candidates(sh.session, f"kill {pid}")]
