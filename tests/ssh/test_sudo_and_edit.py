"""sudo without a terminal and `edit`, against the suite's real sshd and sudo.

The test user may sudo with its password, the second user (`opshtest-nopw`) as root without
one (tests/servers/sshd.py); the hosts are this machine, so a file a test makes is the file
the host sees.
"""

from __future__ import annotations

import os
import pwd
import stat
import tempfile
import time
from pathlib import Path

import pytest

from tests.servers.sshd import SshHosts


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where `edit` makes its private copies during the test (checked empty afterwards)."""
    folder = tmp_path / "systmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """editor(shell_lines) sets EDITOR to a script doing those lines to the file ("$1")."""

    def make(script: str) -> Path:
        path = tmp_path / "editor.sh"
        path.write_text("#!/bin/sh\n" + script + "\n")
        path.chmod(0o755)
        monkeypatch.setenv("EDITOR", str(path))
        monkeypatch.delenv("VISUAL", raising=False)
        return path

    return make


def conf_in(directory: Path, text: str = "port=80\nuser=www\n", mode: int = 0o640) -> Path:
    """A file owned like `directory` (the test user's), with its own group."""
    owner = pwd.getpwuid(os.stat(directory).st_uid)
    path = directory / "conf"
    path.write_text(text)
    os.chown(path, owner.pw_uid, owner.pw_gid)
    path.chmod(mode)
    return path


# ---------------------------------------------------------------- \sudo in SSH mode


def test_sudo_asks_once_hidden_and_the_password_is_nowhere_in_the_output(asking, ssh_client, sshd_hosts):
    shell = asking(sshd_hosts.password)
    shell.ok("connect web01")
    out = shell.ok("\\sudo id -u; ps -eo args")
    assert out.lines[0] == "0"
    assert sshd_hosts.password not in out.text + out.err
    assert any("sudo -S -p [opsh-sudo-" in line for line in out.lines)  # sudo itself, in ps
    assert shell.io.asked == [f"[sudo] password for {sshd_hosts.user}@{sshd_hosts.addresses[0]}: "]
    assert shell.ok("\\sudo -u root id -un").text == "root\n"  # remembered: no second question
    assert len(shell.io.asked) == 1
    assert shell.ok("pwd").text.startswith("/home/")  # the remote directory still carries over


def test_nopasswd_never_asks(asking, ssh_client, sshd_hosts):
    shell = asking()  # any question would fail the line: no answer is scripted
    shell.ok(f"connect ssh://{sshd_hosts.nopasswd_user}@web02")
    assert shell.ok("\\sudo id -u && whoami").text == "0\nroot\n"
    assert shell.io.asked == []


def test_a_wrong_password_fails_at_once_and_is_forgotten(asking, ssh_client, sshd_hosts):
    shell = asking("not-the-password", sshd_hosts.password)
    shell.ok("connect web03")
    started = time.monotonic()
    shell.fails("\\sudo id -u", "sudo: incorrect password")
    assert time.monotonic() - started < 10  # sudo's retries never wait for an answer
    assert shell.ok("\\sudo id -u").text == "0\n"  # asked again, the right one this time
    assert len(shell.io.asked) == 2


def test_a_user_who_may_not_gets_sudos_reason(asking, ssh_client, sshd_hosts):
    shell = asking(sshd_hosts.password)
    shell.ok(f"connect ssh://{sshd_hosts.nopasswd_user}@web04")
    out = shell.fails(f"\\sudo -u {sshd_hosts.user} id", "is not allowed to execute")
    assert f"user {sshd_hosts.nopasswd_user}" in out.err and "\n" not in out.err.strip()


def test_sudo_in_a_script_without_a_terminal_says_how_to_give_the_password(sh, ssh_client):
    sh.ok("connect web05")
    sh.fails("\\sudo id -u", "there is no terminal to ask on")


# ---------------------------------------------------------------- the tty setting without a terminal


def test_lines_have_no_terminal_in_a_script_unless_tty_on(sh, ssh_client):
    sh.ok("connect web06")
    assert "not here" in sh.ok("\\tty").text
    assert sh("tty").text == "not a tty\n"
    sh.ok("\\tty on")
    out = sh.ok("tty; echo $TERM; cat")  # cat ends at once: the pty gets the end of input
    assert out.lines[0].startswith("/dev/pts/") and out.lines[1] == os.environ.get("TERM", "dumb")
    sh.ok("\\set tty off")
    assert sh("tty").text == "not a tty\n"
    sh.fails("\\tty sometimes", "sometimes")


# ---------------------------------------------------------------- edit


def test_edit_shows_the_diff_asks_and_writes_keeping_mode_owner_and_a_backup(
    asking, ssh_client, remote_dir, editor, private_tmp
):
    conf = conf_in(remote_dir)
    before = os.stat(conf)
    editor("sed -i 's/^port=80$/port=8080/' \"$1\"")
    shell = asking("y")
    out = shell.ok(f"edit web01:{conf}")
    assert "-port=80\n+port=8080\n" in out.text and f"--- web01:{conf} (as read)" in out.text
    assert shell.io.asked == [f"Write these changes to web01:{conf}?"]
    assert conf.read_text() == "port=8080\nuser=www\n"
    after = os.stat(conf)
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o640, before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # a new file renamed into place, not rewritten
    assert Path(f"{conf}~").read_text() == "port=80\nuser=www\n"
    assert sorted(p.name for p in remote_dir.iterdir()) == ["conf", "conf~"]  # no temporary left
    assert list(private_tmp.iterdir()) == []


def test_edit_answered_no_or_unchanged_writes_nothing(asking, ssh_client, remote_dir, editor, private_tmp):
    conf = conf_in(remote_dir)
    editor("sed -i 's/80/81/' \"$1\"")
    shell = asking("n")
    shell.fails(f"edit web02:{conf}", "not confirmed")
    editor("true")
    shell.ok(f"edit web02:{conf} --no-backup")
    assert shell.session.last.status == f"no changes: web02:{conf} left as it was"
    assert conf.read_text() == "port=80\nuser=www\n"
    assert sorted(p.name for p in remote_dir.iterdir()) == ["conf"]
    assert list(private_tmp.iterdir()) == []


def test_edit_refuses_when_the_host_changed_the_file_meanwhile(
    asking, ssh_client, remote_dir, editor, private_tmp, tmp_path
):
    conf = conf_in(remote_dir)
    editor(f"sed -i 's/www/nginx/' \"$1\"; echo 'workers=4' >> {conf}")  # someone else writes
    shell = asking("y")
    out = shell.fails(f"edit web03:{conf}", "changed while you edited it")
    assert "+workers=4" in out.text  # what changed on the host is shown
    assert conf.read_text() == "port=80\nuser=www\nworkers=4\n"  # theirs stays
    assert not Path(f"{conf}~").exists()
    assert (tmp_path / "conf.edited").read_text() == "port=80\nuser=nginx\n"  # ours is kept
    assert f"your version is in {tmp_path / 'conf.edited'}" in out.err
    assert list(private_tmp.iterdir()) == []


def test_edit_sudo_writes_a_root_owned_private_file(asking, ssh_client, sshd_hosts, remote_dir, editor):
    secret = conf_in(remote_dir, "password=old\n", 0o600)
    os.chown(secret, 0, 0)
    shell = asking()
    editor("sed -i 's/old/new/' \"$1\"")
    shell.fails(f"edit web04:{secret}", "permission denied")  # the login user cannot read it
    shell = asking(sshd_hosts.password, "y")
    out = shell.ok(f"edit web04:{secret} --sudo")
    assert "+password=new" in out.text and sshd_hosts.password not in out.text + out.err
    info = os.stat(secret)
    assert (secret.read_text(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == ("password=new\n", 0o600, 0, 0)
    backup = os.stat(f"{secret}~")
    assert (stat.S_IMODE(backup.st_mode), backup.st_uid) == (0o600, 0)


def test_edit_sudo_in_a_script_takes_the_password_from_the_named_variable(
    sh, ssh_client, sshd_hosts, remote_dir, editor, monkeypatch
):
    secret = conf_in(remote_dir, "a\n", 0o600)
    os.chown(secret, 0, 0)
    editor('echo b >> "$1"')
    monkeypatch.setenv("SUDO_PW_FOR_TEST", sshd_hosts.password)
    sh.fails(f"edit web05:{secret} --sudo --sudo-password-env SUDO_PW_FOR_TEST", "add --yes")
    sh.ok(f"edit web05:{secret} --sudo --sudo-password-env SUDO_PW_FOR_TEST --no-backup --yes")
    assert secret.read_text() == "a\nb\n" and not Path(f"{secret}~").exists()
    monkeypatch.setenv("SUDO_PW_FOR_TEST", "wrong")
    sh.fails(f"edit web06:{secret} --sudo --sudo-password-env SUDO_PW_FOR_TEST --yes", "sudo: incorrect password")


def test_edit_a_local_file(asking, tmp_path, editor, private_tmp):
    local = tmp_path / "notes.txt"
    local.write_text("one\ntwo\n")
    local.chmod(0o604)
    editor("sed -i 's/two/2/' \"$1\"")
    out = asking("y").ok("edit notes.txt")
    assert "+2" in out.text and local.read_text() == "one\n2\n"
    assert stat.S_IMODE(local.stat().st_mode) == 0o604
    assert (tmp_path / "notes.txt~").read_text() == "one\ntwo\n"
    assert list(private_tmp.iterdir()) == []


def test_an_editor_that_fails_writes_nothing(asking, tmp_path, editor, private_tmp):
    local = tmp_path / "notes.txt"
    local.write_text("one\n")
    editor('echo changed > "$1"; exit 1')
    asking().fails("edit notes.txt", "the editor exited with status 1: nothing written")
    assert local.read_text() == "one\n" and list(private_tmp.iterdir()) == []


def test_edit_refuses_what_it_cannot_edit(sh, ssh_client, remote_dir):
    sh.fails(f"edit web07:{remote_dir}/missing", "no such file")
    sh.fails(f"edit web07:{remote_dir}", "not a regular file")
    sh.fails("edit missing.txt --sudo", "--sudo is for a host's file")


def test_sshd_hosts_have_the_sudo_rules(sshd_hosts: SshHosts):
    rules = Path("/etc/sudoers.d") / f"opsh-test-{sshd_hosts.nopasswd_user}"
    assert "NOPASSWD" in rules.read_text() and stat.S_IMODE(rules.stat().st_mode) == 0o440
