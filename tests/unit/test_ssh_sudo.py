"""Reading sudo's side of a run without a terminal (commands/ssh/sudo.py), as sudo 1.9 writes
it with `-S -p PROMPT`, whatever the pieces the channel delivers; and the parts of `edit`
that need no host."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time

import pytest

from opsh.commands.ssh.editing import diff_lines, split_location
from opsh.commands.ssh.sudo import INCORRECT, Event, Markers, SudoDialog, sudo_command
from opsh.shell.errors import UsageError

M = Markers("00ff00ff00ff00ff")
PROMPT, STARTED = M.prompt, M.started


def dialog_of(*pieces: bytes) -> tuple[SudoDialog, list[Event], bytes]:
    dialog = SudoDialog(M)
    events: list[Event] = []
    passed = b""
    for piece in pieces:
        found, rest = dialog.feed(piece)
        events += found
        passed += rest
    return dialog, events, passed


def in_pieces(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def test_nopasswd_starts_without_a_prompt():
    _, events, passed = dialog_of(STARTED + b"the command's own stderr\n")
    assert events == [Event.STARTED] and passed == b"the command's own stderr\n"


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_a_prompt_then_the_start_in_any_pieces(size):
    stream = b"sudo: unable to resolve host x\n" + PROMPT + STARTED + b"warning from the command\n"
    dialog, events, passed = dialog_of(*in_pieces(stream, size))
    assert events == [Event.PASSWORD, Event.STARTED]
    assert passed == b"warning from the command\n"
    assert b"unable to resolve" in dialog.said and PROMPT not in dialog.said


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_a_second_prompt_means_the_password_was_wrong(size):
    stream = PROMPT + b"Sorry, try again.\n" + PROMPT + b"\nsudo: no password was provided\n"
    stream += b"sudo: 1 incorrect password attempt\n"
    dialog, events, passed = dialog_of(*in_pieces(stream, size))
    assert events == [Event.PASSWORD, Event.WRONG] and passed == b""
    assert dialog.failure(1) == INCORRECT == "sudo: incorrect password"


def test_a_user_who_may_not_gets_sudos_own_reason():
    said = b"Sorry, user deploy is not allowed to execute '/usr/bin/sh -c id' as postgres on web1.\n"
    dialog, events, _ = dialog_of(PROMPT, said)
    assert events == [Event.PASSWORD]
    assert dialog.failure(1) == said.decode().strip()
    dialog, _, _ = dialog_of(PROMPT, b"deploy is not in the sudoers file.\n")
    assert dialog.failure(1) == "deploy is not in the sudoers file."
    lecture = b"\nWe trust you have received the usual lecture from the local System\nAdministrator.\n\n"
    dialog, _, _ = dialog_of(lecture, PROMPT, said)
    assert dialog.failure(1) == said.decode().strip()


def test_the_first_of_sudos_own_lines_says_why():
    said = b"sudo: unknown user nosuch\nsudo: error initializing audit plugin sudoers_audit\n"
    dialog, _, _ = dialog_of(said)
    assert dialog.failure(1) == "sudo: unknown user nosuch"


def test_sudo_missing_or_silent_is_said_plainly():
    dialog, _, _ = dialog_of(b"sh: 1: sudo: not found\n")
    assert dialog.failure(127) == "sh: 1: sudo: not found"
    assert SudoDialog(M).failure(None) == "sudo ended without running the command (killed by a signal)"


def test_the_command_may_print_text_like_sudos_own_prompt():
    """Only opsh's random markers count: sudo's localized words are just text."""
    _, events, passed = dialog_of(b"[sudo] password for u: ", STARTED, b"Passwort: " + PROMPT[:-1] + b"\n")
    assert events == [Event.STARTED] and passed == b"Passwort: " + PROMPT[:-1] + b"\n"


def test_the_wrapped_command_runs_the_whole_line_in_sh_with_fresh_markers():
    words = shlex.split(sudo_command("systemctl restart nginx && echo 'ok'", M, "root"))
    assert words[:7] == ["sudo", "-S", "-p", PROMPT.decode(), "-u", "root", "--"]
    assert words[7:9] == ["sh", "-c"]
    assert words[9].startswith(f"printf '%s\\n' {STARTED.decode().strip()} >&2; ") and "\n" not in words[9]
    assert words[10:] == ["opsh-sudo", "systemctl restart nginx && echo 'ok'"]
    assert "%" not in PROMPT.decode()  # sudo expands %u, %h in -p
    assert Markers().token != Markers().token


def wrapped_here(line: str) -> subprocess.Popen[bytes]:
    """What sudo would run (`sh -c WRAPPER opsh-sudo LINE`), run here without sudo."""
    words = shlex.split(sudo_command(line, M))
    return subprocess.Popen(
        words[words.index("--") + 1 :], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_the_wrapper_passes_on_input_output_and_the_exit_status():
    proc = wrapped_here("read -r word; echo got $word; echo oops >&2; exit 3")
    out, err = proc.communicate(b"hello\n", timeout=10)
    assert (out, err, proc.returncode) == (b"got hello\n", STARTED + b"oops\n", 3)


def test_term_to_the_wrapper_ends_the_whole_line_not_only_its_shell():
    """sudo passes TERM to its child only: the wrapper must take the line's children along."""
    proc = wrapped_here("sleep 47.3; echo never")
    try:
        deadline = time.monotonic() + 10
        while not _sleeping("sleep 47.3") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _sleeping("sleep 47.3")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert out == b"" and proc.returncode == 143
        time.sleep(0.2)
        assert _sleeping("sleep 47.3") == []
    finally:
        proc.kill()


def _sleeping(args: str) -> list[int]:
    """PIDs of this test's own processes running exactly `args`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f.read().replace(b"\0", b" ").strip() == args.encode():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_edit_locations_follow_scps_rule():
    assert split_location("web1:/etc/hosts") == ("web1", "/etc/hosts")
    assert split_location("deploy@web1:app.conf") == ("deploy@web1", "app.conf")
    assert split_location("[::1]:/tmp/x") == ("[::1]", "/tmp/x")
    assert split_location("./a:b") == (None, "./a:b")
    assert split_location("notes.txt") == (None, "notes.txt")
    with pytest.raises(UsageError):
        split_location("web1:")


def test_the_diff_marks_what_changed():
    lines = diff_lines(b"a=1\nb=2\n", b"a=1\nb=20\n", "conf (as read)", "conf (edited)")
    text = ["".join(part for _, part in line) if isinstance(line, list) else line for line in lines]
    assert text == ["--- conf (as read)", "+++ conf (edited)", "@@ -1,2 +1,2 @@", " a=1", "-b=2", "+b=20"]
    assert lines[-1] == [("ok", "+b=20")] and lines[-2] == [("error", "-b=2")]
