"""sudo on a host without a terminal: the password goes to sudo's stdin, never anywhere else.

A command is wrapped as `sudo -S -p PROMPT [-u USER] -- sh -c 'printf STARTED >&2; ...' CMD`.
PROMPT and STARTED are opsh's own markers, random for each wrapping, so neither sudo's
localized prompt text nor anything the command prints can be mistaken for them. The dialog
reads the command's stderr:

- PROMPT: sudo wants the password; it is written to the channel's stdin (so it is never in a
  process's arguments, on either machine, nor in the output);
- PROMPT a second time: sudo said "Sorry, try again": the password was wrong. stdin is closed
  at once (sudo then gives up instead of waiting) and the run fails with `sudo: incorrect
  password`;
- STARTED: sudo let the command run (with or without asking: NOPASSWD rules never ask); what
  follows on stderr is the command's own;
- the end of the output with neither: sudo refused (the user may not sudo, may not run it as
  that user...), and its own words are the reason given.

SudoDialog is that reading, with no I/O of its own, so any loop that reads channels can drive
it; `authenticate()` drives it on one channel for the callers that wait (SSH mode, `edit`, `run --sudo`,
`copy --sudo`).
sudo's lecture and other words before STARTED are dropped when the command runs.

Stopping: the signal opsh sends (OpenSSH's `signal` request, TERM then KILL) reaches sudo, not
the root processes under it, and sudo passes TERM on to its child only; a line such as
`sleep 60; date` would outlive it. So CMD runs in a session of its own (setsid) under a root
shell that, on TERM, signals that whole group, then KILLs it half a second later (KILL to sudo
itself cannot be passed on). A host without setsid runs CMD as before.
"""

from __future__ import annotations

import enum
import os
import secrets
import select
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from opsh.shell.errors import Cancelled, OpshError

if TYPE_CHECKING:
    from paramiko import Channel

    from opsh.shell.session import Session

RECV = 65536
INCORRECT = "sudo: incorrect password"


class SudoFailed(OpshError):
    """sudo did not run the command: wrong password, not allowed, no answer."""


class Event(enum.Enum):
    PASSWORD = "password"  # the first prompt: send the password
    WRONG = "wrong"  # a second prompt: the password was refused
    STARTED = "started"  # the command runs


@dataclass(frozen=True)
class Markers:
    """The prompt sudo is told to print and the line the command prints first."""

    token: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def prompt(self) -> bytes:
        return f"[opsh-sudo-{self.token}]".encode()

    @property
    def started(self) -> bytes:
        return f"opsh-sudo-started-{self.token}\n".encode()


# `sh -c GROUP opsh-sudo CMD` under sudo: CMD in a process group of its own that TERM ends
# (its input passed through fd 3: a command started with `&` would get /dev/null instead).
GROUP = "; ".join(  # one line: sudo quotes it in its refusals, which are read as one line
    [
        "printf '%s\\n' {started} >&2",
        'command -v setsid >/dev/null 2>&1 || exec sh -c "$1"',
        "trap 'kill -TERM -$child 2>/dev/null; sleep 0.5; kill -KILL -$child 2>/dev/null; exit 143' HUP INT TERM",
        "exec 3<&0",
        'setsid sh -c "$1" 0<&3 3<&- & child=$!',
        "exec 3<&-",
        "wait $child",
    ]
)


def sudo_command(command: str, markers: Markers, user: str | None = None) -> str:
    """`command` (a shell line) wrapped to run under sudo as `user` (root by default)."""
    inner = GROUP.format(started=markers.started.decode().strip())
    words = ["sudo", "-S", "-p", markers.prompt.decode()]
    if user:
        words += ["-u", user]
    return shlex.join([*words, "--", "sh", "-c", inner, "opsh-sudo", command])


class SudoDialog:
    """Reads sudo's side of the conversation from the command's stderr bytes."""

    def __init__(self, markers: Markers) -> None:
        self.markers = markers
        self.buffer = b""
        self.said = b""  # sudo's own words before the command started (markers removed)
        self.prompts = 0
        self.started = False

    def feed(self, data: bytes) -> tuple[list[Event], bytes]:
        """The events in `data` and the stderr bytes that are the command's own (after STARTED)."""
        if self.started:
            return [], data
        self.buffer += data
        events: list[Event] = []
        while True:
            prompt = self.buffer.find(self.markers.prompt)
            start = self.buffer.find(self.markers.started)
            if start >= 0 and (prompt < 0 or start < prompt):
                self.said += self.buffer[:start]
                rest, self.buffer = self.buffer[start + len(self.markers.started) :], b""
                self.started = True
                events.append(Event.STARTED)
                return events, rest
            if prompt < 0:
                break
            self.said += self.buffer[:prompt]
            self.buffer = self.buffer[prompt + len(self.markers.prompt) :]
            self.prompts += 1
            events.append(Event.PASSWORD if self.prompts == 1 else Event.WRONG)
        keep = max(_overlap(self.buffer, self.markers.prompt), _overlap(self.buffer, self.markers.started))
        cut = len(self.buffer) - keep
        self.said, self.buffer = self.said + self.buffer[:cut], self.buffer[cut:]
        return events, b""

    def failure(self, exit_status: int | None) -> str:
        """Why the command never started, once the output has ended without STARTED."""
        if self.prompts > 1:
            return INCORRECT
        words = (self.said + self.buffer).decode("utf-8", "replace")
        lines = [line.strip() for line in words.splitlines() if line.strip()]
        lines = [line for line in lines if line != "Sorry, try again."]
        own = [line for line in lines if line.startswith("sudo:")]
        if own:  # the first says why (`unknown user`); what follows is its consequences
            return own[0]
        if lines:  # "Sorry, user ... is not allowed", after the lecture if there was one
            return lines[-1]
        status = "killed by a signal" if exit_status is None else f"exit {exit_status}"
        return f"sudo ended without running the command ({status})"


def _overlap(data: bytes, marker: bytes) -> int:
    """How many bytes at the end of `data` begin `marker` (held until the next piece)."""
    for size in range(min(len(marker) - 1, len(data)), 0, -1):
        if data.endswith(marker[:size]):
            return size
    return 0


class SudoPassword(Protocol):
    """Where the password comes from when sudo asks (PasswordSource here; one per host in a
    fan-out: exec/fleetsudo.py), and what it learns from sudo's verdict."""

    def __call__(self) -> str: ...

    def worked(self) -> None: ...

    def refused(self) -> None: ...


def authenticate(channel: Channel, dialog: SudoDialog, password: SudoPassword, timeout: float) -> bytes:
    """Answer sudo on `channel` (the wrapped command already exec'd, stdin open) until the
    command starts; returns the stderr bytes that already belong to the command. Raises
    SudoFailed with the reason when it does not start, or when sudo says nothing that opsh
    knows for `timeout` seconds (a prompt of sudo's own, e.g. passprompt_override set)."""
    try:
        rest = _answer(channel, dialog, password, timeout)
    except SudoFailed as exc:
        if exc.message == INCORRECT:
            password.refused()
        raise
    password.worked()
    return rest


def _answer(channel: Channel, dialog: SudoDialog, password: Callable[[], str], timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        if channel.recv_stderr_ready():
            events, rest = dialog.feed(channel.recv_stderr(RECV))
            for event in events:
                if event is Event.PASSWORD:
                    channel.sendall((password() + "\n").encode())
                    deadline = time.monotonic() + timeout  # the time spent typing does not count
                elif event is Event.WRONG:
                    channel.shutdown_write()  # sudo gives up at the end of its input
                else:
                    return rest
            continue
        if (channel.eof_received or channel.closed) and not channel.recv_stderr_ready():
            raise SudoFailed(dialog.failure(_status(channel)))
        if time.monotonic() > deadline:
            raise SudoFailed(
                f"sudo said nothing opsh understands within {timeout:g}s",
                "does the host's sudoers set passprompt_override?",
            )
        select.select([channel], [], [], 0.1)


def _status(channel: Channel) -> int | None:
    deadline = time.monotonic() + 2
    while not channel.exit_status_ready() and time.monotonic() < deadline:
        channel.status_event.wait(0.05)
    status = channel.recv_exit_status() if channel.exit_status_ready() else -1
    return None if status == -1 else status


@dataclass
class SudoPasswords:
    """sudo passwords that worked, by (login user, host, port): in memory for the session."""

    known: dict[tuple[str, str, int], str] = field(default_factory=dict)


def sudo_passwords(session: Session) -> SudoPasswords:
    return session.area("sudo", SudoPasswords)


class PasswordSource:
    """The sudo password for one host, fetched only when sudo asks: a remembered one, else the
    environment variable named by `--sudo-password-env`, else asked (hidden)."""

    def __init__(self, session: Session, key: tuple[str, str, int], env_var: str | None = None) -> None:
        self.session = session
        self.key = key
        self.env_var = env_var
        self.given: str | None = None

    def __call__(self) -> str:
        known = sudo_passwords(self.session).known.get(self.key)
        if known is not None:
            self.given = known
        elif self.env_var:
            value = os.environ.get(self.env_var)
            if value is None:
                raise SudoFailed(f"{self.env_var} is not set", "it names the variable holding the sudo password")
            self.given = value
        else:
            self.given = self._ask()
        return self.given

    def _ask(self) -> str:
        user, host, _ = self.key
        try:
            return self.session.secret(f"[sudo] password for {user}@{host}: ")
        except Cancelled:
            raise
        except OpshError:
            raise SudoFailed(
                f"sudo on {host} asks for {user}'s password and there is no terminal to ask on",
                "in a script, name a variable holding it with --sudo-password-env VAR",
            ) from None

    def worked(self) -> None:
        """The command started: a password that was given is kept for the next time."""
        if self.given is not None:
            sudo_passwords(self.session).known[self.key] = self.given

    def refused(self) -> None:
        sudo_passwords(self.session).known.pop(self.key, None)
