"""SSH mode with a terminal, driven in a real pty as a person types, against the real sshd.

A pyte screen is fed everything opsh prints (and answers the cursor-position questions
prompt_toolkit asks, from where its cursor really is), so a test can look at what the person
sees: a full-screen program, then the screen it gives back.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import termios
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pyte
import pytest

from tests.e2e.term import Term
from tests.helpers import clean_env, opsh_binary
from tests.servers.base import wait_until
from tests.servers.sshd import SshHosts
from tests.ssh.conftest import web_aliases

pytestmark = pytest.mark.e2e

ROWS, COLUMNS = 30, 100


ALTERNATE = {1049, 1047, 47}  # the private modes that switch to the alternate screen


class AnsweringScreen(pyte.Screen):  # type: ignore[misc]
    """Answers a cursor-position request the way a terminal does, from its own cursor, and
    keeps the normal screen aside while a program uses the alternate one (as xterm does;
    pyte alone draws both on one)."""

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.child: pexpect.spawn | None = None
        self.normal: tuple[object, object] | None = None

    def write_process_input(self, data: str) -> None:
        if self.child is not None:
            self.child.send(data)

    def select_graphic_rendition(self, *attrs: int, **kwargs: object) -> None:
        if not kwargs.get("private"):  # `CSI ? ... m` (a key-modifier query) is not a colour
            super().select_graphic_rendition(*attrs)

    def set_mode(self, *modes: int, **kwargs: object) -> None:
        if kwargs.get("private") and ALTERNATE & set(modes):
            self.normal = (copy.deepcopy(self.buffer), copy.copy(self.cursor))
            self.erase_in_display(2)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: object) -> None:
        if kwargs.get("private") and ALTERNATE & set(modes) and self.normal is not None:
            (self.buffer, self.cursor), self.normal = self.normal, None
            self.dirty.update(range(self.lines))
        super().reset_mode(*modes, **kwargs)


class ScreenTerm(Term):
    """Term with a screen; its expectations leave the cursor queries to the screen."""

    def __init__(self, child: pexpect.spawn) -> None:
        super().__init__(child)
        rows, columns = child.getwinsize()
        self.screen = AnsweringScreen(columns, rows)
        self.screen.child = child
        self.stream = pyte.Stream(self.screen)
        child.logfile_read = self

    def write(self, text: str) -> None:  # pexpect's logfile_read: everything opsh printed
        self.stream.feed(text)

    def flush(self) -> None:
        pass

    def _expect(self, pattern: str | type[pexpect.EOF], timeout: float | None, exact: bool) -> str:
        target = re.escape(pattern) if exact and isinstance(pattern, str) else pattern
        try:
            self.child.expect(target, timeout=timeout or self.child.timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            raise AssertionError(f"{type(exc).__name__} waiting for {pattern!r}; the screen:\n{self.shown()}") from None
        return str(self.child.before)

    def resize(self, rows: int, columns: int) -> None:
        self.screen.resize(rows, columns)
        self.child.setwinsize(rows, columns)

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def shown(self) -> str:
        return "\n".join(self.lines()).rstrip()

    def wait_for_screen(self, text: str, timeout: float = 10) -> None:
        """Until `text` is on the screen (reading what opsh prints meanwhile)."""

        def seen() -> bool:
            try:
                self.child.expect(pexpect.TIMEOUT, timeout=0.1)
            except pexpect.EOF:
                pass
            return text in self.shown()

        try:
            wait_until(seen, timeout, f"{text!r} on the screen")
        except RuntimeError:
            raise AssertionError(f"{text!r} never showed; the screen:\n{self.shown()}") from None


@pytest.fixture
def client_env(tmp_path: Path, sshd_hosts: SshHosts) -> dict[str, str]:
    files = sshd_hosts.write_client(tmp_path / "ssh", aliases=web_aliases(sshd_hosts))
    return {**files.env, "TMPDIR": str(_private_tmp(tmp_path))}


def _private_tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "systmp"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def term(tmp_path: Path, client_env: dict[str, str]) -> Iterator[ScreenTerm]:
    session = ScreenTerm.start(tmp_path / "home", cwd=tmp_path, rows=ROWS, columns=COLUMNS, **client_env)
    session.expect_prompt()
    yield session
    session.close()


def on_host(term: ScreenTerm, host: str = "web01") -> None:
    term.run(f"connect {host}")
    term.run("clear")


def test_a_line_gets_a_pty_of_the_terminals_size_that_follows_resizes(term):
    on_host(term)
    out = term.run("tty; stty size; echo $TERM $LC_ALL")
    assert re.search(r"^/dev/pts/\d+$", out, re.M), out
    assert f"\n{ROWS} {COLUMNS}\n" in out and "xterm C.UTF-8" in out  # TERM, and LC_* as SendEnv
    term.send("read -r line; stty size\r")
    term.pause(1)
    term.resize(24, 80)
    term.send("go\r")
    assert "24 80" in term.expect_prompt()


def test_output_sent_to_a_file_or_a_pipe_has_no_terminal(term, tmp_path):
    on_host(term)
    term.run("tty \\> where.txt")
    assert (tmp_path / "where.txt").read_text() == "not a tty\n"
    assert "NOT A TTY" in term.run("tty \\| tr a-z A-Z")


def test_keys_go_through_raw_and_the_status_comes_back(term, sshd_hosts):
    on_host(term)
    term.send("sleep 46.2; echo not reached\r")
    wait_until(lambda: sshd_hosts.user_processes("^sleep 46.2"), 10, "the remote sleep")
    term.ctrl("c")  # the byte goes to the remote pty, which interrupts the sleep
    out = term.expect_prompt(timeout=10)
    assert not re.search(r"^not reached$", out, re.M) and "killed by a signal" in out
    wait_until(lambda: not sshd_hosts.user_processes("^sleep 46.2"), 10, "the sleep to end")
    term.send("cat -v\r")
    term.pause(0.5)
    term.send("x\x1b[A\r")  # an arrow key reaches cat as its escape sequence
    term.expect(r"x\^\[\[A")
    term.ctrl("d")  # Ctrl-D is the end of cat's input, not the end of opsh
    term.expect_prompt()
    assert "exit 3" in term.run("cd /tmp; (exit 3)")
    assert "/tmp" in term.run("pwd") and "ssh:web01:/tmp>" in term.shown()
    assert "exit 3" not in term.run("true") and "__opsh_" not in term.shown()


def test_a_password_prompt_reads_the_typed_password_unechoed(term, sshd_hosts):
    on_host(term, "web02")
    term.send("sudo -k; sudo id -u\r")
    term.expect(r"\[sudo\] password for")
    term.send(sshd_hosts.password + "\r")
    out = term.expect_prompt(timeout=15)
    assert re.search(r"^0$", out, re.M) and sshd_hosts.password not in out
    assert sshd_hosts.password not in term.shown()


def test_less_takes_the_screen_and_q_gives_the_old_one_back(term, sshd_hosts):
    on_host(term, "web03")
    remote = sshd_hosts.remote_dir()
    listing = remote / "long.txt"
    listing.write_text("".join(f"line {n} of the file\n" for n in range(1, 200)))
    listing.chmod(0o644)
    term.run("echo before-less")
    term.send(f"less {listing}\r")
    term.wait_for_screen("line 20 of the file")
    assert "before-less" not in term.shown()  # less has the whole screen
    term.send("q")
    term.expect_prompt()
    screen = term.lines()
    assert any(line == "before-less" for line in screen) and "line 20 of the file" not in term.shown()
    assert "after" in term.run("echo after")  # the terminal is back in cooked mode for opsh
    shutil.rmtree(remote, ignore_errors=True)


def test_top_draws_and_q_returns_to_the_prompt(term):
    on_host(term, "web04")
    term.send("top -d 1\r")
    term.wait_for_screen("load average")
    first = term.lines()[:8]
    print("\n".join(["top's first lines, as the pyte screen shows them:", *first]))
    assert first[0].startswith("top - ") and "Tasks:" in first[1]
    assert any("PID USER" in line for line in first)
    term.send("q")
    term.expect_prompt()
    assert "still-here" in term.run("echo still-here")


def test_the_local_erase_key_reaches_the_remote_terminal(tmp_path, client_env):
    def erase_is_ctrl_h() -> None:
        attrs = termios.tcgetattr(0)
        attrs[6][termios.VERASE] = b"\x08"
        termios.tcsetattr(0, termios.TCSANOW, attrs)

    session = ScreenTerm.start(tmp_path / "home", cwd=tmp_path, preexec_fn=erase_is_ctrl_h, **client_env)
    try:
        session.expect_prompt()
        on_host(session, "web05")
        assert "erase = ^H" in session.run("stty -a")
    finally:
        session.close()


def test_tilde_dot_ends_a_command_that_ignores_every_key(term, sshd_hosts):
    on_host(term, "web06")
    term.send("bash -c \"trap '' INT QUIT TSTP; sleep 46.3\"\r")
    wait_until(lambda: sshd_hosts.user_processes("^sleep 46.3"), 10, "the remote sleep")
    term.ctrl("c")
    term.pause(0.5)
    assert sshd_hosts.user_processes("^sleep 46.3")
    term.send("\r~.")
    out = term.expect_prompt(timeout=10)
    assert "ended with ~." in out
    wait_until(lambda: not sshd_hosts.user_processes("^sleep 46.3"), 10, "the sleep to be stopped")
    assert "ok" in term.run("echo ok")


def test_a_dropped_connection_restores_the_terminal_and_reconnects(term, sshd_hosts):
    on_host(term, "web07")
    term.send("less /etc/services\r")
    term.wait_for_screen("Network services")
    sshd_hosts.cut_connections()
    out = term.expect_prompt(timeout=15)
    assert "connection lost while the command ran" in out
    assert "Network services" not in term.shown()  # the alternate screen was left
    assert "back" in term.run("echo back")  # cooked mode, and a new connection


def test_sudo_edit_from_ssh_mode_asks_and_writes(sshd_hosts, tmp_path, client_env):
    remote = sshd_hosts.remote_dir()
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/80/8080/' \"$1\"\n")
    editor.chmod(0o755)
    term = ScreenTerm.start(tmp_path / "home", cwd=tmp_path, EDITOR=str(editor), **client_env)
    try:
        conf = remote / "conf"
        conf.write_text("listen 80\n")
        conf.chmod(0o600)
        term.expect_prompt()
        on_host(term, "web08")
        term.send(f"\\edit web08:{conf} --sudo\r")
        term.expect(r"\[sudo\] password for")
        term.send(sshd_hosts.password + "\r")
        term.expect(r"Write these changes")
        assert "+listen 8080" in term.shown() and sshd_hosts.password not in term.shown()
        term.send("y\r")
        term.expect_prompt(timeout=15)
        assert conf.read_text() == "listen 8080\n" and conf.stat().st_uid == 0
        assert (remote / "conf~").read_text() == "listen 80\n"
        assert list((tmp_path / "systmp").iterdir()) == []
    finally:
        term.close()
        shutil.rmtree(remote, ignore_errors=True)


def test_batch_runs_have_no_terminal(tmp_path, client_env):
    import subprocess

    env = clean_env(tmp_path / "home", **client_env)
    proc = subprocess.run(
        [opsh_binary(), "-c", "connect web09; tty"], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.stdout == "not a tty\n" and proc.returncode == 1
    child = pexpect.spawn(opsh_binary(), ["-c", "connect web09; tty"], env=env, encoding="utf-8", timeout=20)
    child.expect(pexpect.EOF)  # at a terminal, but -c is a batch run: as `ssh host cmd`
    assert "not a tty" in child.before


def test_a_host_that_refuses_a_terminal_runs_lines_without_one(tmp_path, client_env, sshd_hosts):
    """As `ssh -t` goes on when the server refuses the pty (sshd's PermitTTY no): said once."""
    from tests.servers.sshd import start_sshd

    with start_sshd(tmp_path / "notty", count=1, first=40, extra_config="PermitTTY no") as strict:
        files = strict.write_client(tmp_path / "notty-client", aliases={"strict": strict.addresses[0]})
        term = ScreenTerm.start(tmp_path / "home", cwd=tmp_path, **{**client_env, **files.env})
        try:
            term.expect_prompt()
            term.run("connect strict")
            out = term.run("tty")
            assert "not a tty" in out and "strict refused a terminal (sshd's PermitTTY?)" in out
            out = term.run("echo fine")
            assert "fine" in out and "refused" not in out
        finally:
            term.close()


def test_ctrl_c_in_the_editor_leaves_nothing_behind(sshd_hosts, tmp_path, client_env):
    """Ctrl-C goes to the editor (opsh waits for it); when it dies of it nothing is written and
    the private copy is gone."""
    remote = sshd_hosts.remote_dir()
    editor = tmp_path / "slow-editor.sh"
    editor.write_text('#!/bin/sh\necho changed > "$1"\nsleep 30\n')
    editor.chmod(0o755)
    term = ScreenTerm.start(tmp_path / "home", cwd=tmp_path, EDITOR=str(editor), **client_env)
    try:
        conf = remote / "conf"
        conf.write_text("original\n")
        os.chown(conf, os.stat(remote).st_uid, os.stat(remote).st_gid)
        term.expect_prompt()
        term.send(f"edit web09:{conf}\r")
        wait_until(lambda: any((tmp_path / "systmp").iterdir()), 10, "the private copy")
        term.pause(0.5)
        term.ctrl("c")
        out = term.expect_prompt(timeout=10)
        assert "the editor was stopped by signal 2: nothing written" in out
        assert conf.read_text() == "original\n" and list((tmp_path / "systmp").iterdir()) == []
        assert sorted(p.name for p in remote.iterdir()) == ["conf"]
    finally:
        term.close()
        shutil.rmtree(remote, ignore_errors=True)
