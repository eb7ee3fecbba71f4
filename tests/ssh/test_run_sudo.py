"""`run HOSTS --sudo -- CMD` against the suite's real sshd and sudo: the password asked once
and only when a host's sudo wants it, given to each host's sudo on its standard input and
nowhere else.

The test user may sudo with its password, `opshtest-nopw` as root without one
(tests/servers/sshd.py). Every host is this machine, so `ps` here is `ps` on the hosts.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

ASKED = "[sudo] password for {user} on web[01-05] (given to every host of this run that asks): "


def files_holding(root: Path, secret: str) -> list[Path]:
    """Every file under `root` whose bytes contain `secret`."""
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_the_password_is_asked_once_and_every_host_runs_the_command_as_root(asking, ssh_client, sshd_hosts):
    sh = asking(sshd_hosts.password)
    out = sh.ok("run web[01-05] --sudo -- id -u")
    assert sorted(out.lines[:5]) == [f"web0{n} | 0" for n in range(1, 6)]
    assert sh.io.asked == [ASKED.format(user=sshd_hosts.user)]
    assert sshd_hosts.password not in out.text + out.err
    rows = sh.json("run web[01-05] --sudo --user nobody -- id -un")  # remembered: no question
    assert [r["stdout"] for r in rows] == ["nobody\n"] * 5 and len(sh.io.asked) == 1


def test_hosts_that_ask_later_get_the_same_answer(asking, ssh_client, sshd_hosts):
    sh = asking(sshd_hosts.password)
    rows = sh.json("run web[01-06] --sudo --fanout 2 -- id -u")  # four hosts start after the question
    assert [r["stdout"] for r in rows] == ["0\n"] * 6 and len(sh.io.asked) == 1


def test_hosts_whose_sudo_needs_no_password_never_cause_a_question(asking, ssh_client, sshd_hosts):
    sh = asking()  # a question would fail the hosts: no answer is scripted
    out = sh.ok(f"run {sshd_hosts.nopasswd_user}@web[01-05] --sudo -- 'id -u; whoami >&2'")
    assert sorted(line.split(None, 1)[1] for line in out.lines[:10]) == ["! root"] * 5 + ["| 0"] * 5
    assert sh.io.asked == []


def test_a_wrong_password_fails_every_host_with_sudos_message_at_once(asking, ssh_client, sshd_hosts):
    sh = asking("not-the-password")
    started = time.monotonic()
    out = sh("run web[01-05] --sudo --timeout 20 --format json -- id -u")
    assert time.monotonic() - started < 15  # sudo's retries are not waited for
    assert [(r["exit"], r["error"]) for r in out.json] == [(None, "sudo: incorrect password")] * 5
    assert len(sh.io.asked) == 1 and out.exit_code == 1


def test_failed_hosts_are_run_again_with_the_right_password_and_grouped(asking, ssh_client, sshd_hosts):
    sh = asking("not-the-password", sshd_hosts.password)
    sh.fails("run web[01-03] --sudo -- id -u")
    out = sh.ok("run @failed --sudo --group -- id -u")
    assert out.lines[:4] == ["----------------", "web[01-03] (3)", "----------------", "0"]
    assert len(sh.io.asked) == 2  # the wrong one was not kept


def test_a_user_who_may_not_sudo_gets_sudos_own_reason(asking, ssh_client, sshd_hosts):
    sh = asking(sshd_hosts.password)  # sudo asks before it says no
    rows = sh(f"run {sshd_hosts.nopasswd_user}@web[01-02] --sudo -u {sshd_hosts.user} --format json -- id").json
    for row in rows:
        assert row["exit"] is None and "is not allowed to execute" in row["error"]
        assert row["error"].startswith("Sorry, user") or row["error"].startswith("sudo:")


def test_scripts_take_the_password_from_the_named_variable_only(sh, ssh_client, sshd_hosts, monkeypatch):
    row = sh("run web01 --sudo --format json -- id -u").json[0]
    assert "there is no terminal to ask on (in a script, name a variable" in row["error"]
    assert "--sudo-password-env VAR" in row["error"]
    sh.fails("run web01 --sudo --sudo-password-env OPSH_TEST_UNSET_PW -- id -u", "OPSH_TEST_UNSET_PW is not set", 2)
    monkeypatch.setenv("OPSH_TEST_SUDO_PW", sshd_hosts.password)
    rows = sh.json("run web[01-03] --sudo --sudo-password-env OPSH_TEST_SUDO_PW -- id -u")
    assert [r["stdout"] for r in rows] == ["0\n"] * 3
    sh.fails("run web01 --user root -- id -u", "go with --sudo", 2)
    sh.fails("run local,web01 --sudo -- id -u", "not `local`", 2)


def test_the_password_is_in_no_file_no_output_and_no_process_arguments(asking, ssh_client, sshd_hosts, tmp_path):
    sh = asking(sshd_hosts.password)
    seen: list[str] = []
    stop = threading.Event()

    def watch_ps() -> None:
        while not stop.is_set():
            seen.extend(
                subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
            )
            time.sleep(0.05)

    watcher = threading.Thread(target=watch_ps, daemon=True)
    sh.ok(f"record start {tmp_path / 'session.opsh'} --transcript")
    watcher.start()
    try:
        out = sh.ok("run web[01-03] --sudo -- 'sleep 1.5; id -u'")
    finally:
        stop.set()
        watcher.join()
    sh.ok("record stop")
    assert any("sudo -S -p [opsh-sudo-" in line and "sleep 1.5" in line for line in seen)  # it was watched
    assert not [line for line in seen if sshd_hosts.password in line]
    assert sshd_hosts.password not in out.text + out.err
    assert "run web[01-03] --sudo" in (tmp_path / "session.opsh").read_text()
    assert "web01 | 0" in (tmp_path / "session.transcript").read_text()
    assert files_holding(tmp_path, sshd_hosts.password) == []  # the home, history, recording...


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_structured_formats_have_the_commands_own_output_only(asking, ssh_client, sshd_hosts, fmt):
    sh = asking(sshd_hosts.password)
    out = sh(f"run web[01-02] --sudo --format {fmt} -- 'echo to-err >&2; id -u'")
    assert out.ok, out.err
    assert "opsh-sudo" not in out.text and "[sudo]" not in out.text and out.text.count("to-err") == 2
