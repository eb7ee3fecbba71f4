"""One command on a remote host: an exec channel read as lines of stdout and stderr.

Both the parallel runner (worker threads) and SSH mode (the main thread) drive a
RemoteCommand in short slices, so a timeout or Ctrl-C is noticed within a tenth of a second.
Stopping sends the OpenSSH `signal` channel request (the session's process group gets it,
as Ctrl-C in an ssh -t session would) before closing the channel: closing alone leaves a
command without a terminal running on the server.

A thousand commands at once (a `run` on kept connections) is what this is tuned for: the
exec request is not waited for (its answer comes before the output anyway: one round trip
less, as OpenSSH's ssh does it), and waiting for output costs no file descriptor and no pipe
write per packet (Wakeup, instead of select() on paramiko's pipe per channel).
"""

from __future__ import annotations

import codecs
import select
import threading
import time
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from paramiko import Channel, Transport

RECV = 262144  # as much as the channel holds: one piece per wake-up, not one per packet

MAX_LINE = 65536  # a "line" longer than this is passed on in pieces


class Chunker:
    """Bytes in, text out in whole lines: each piece `feed` returns ends with a newline (or is
    a piece of a line longer than MAX_LINE), so pieces can be prefixed and shown as they come,
    and their concatenation is exactly what the host sent. Invalid UTF-8 becomes U+FFFD."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.partial = ""

    def feed(self, data: bytes) -> str:
        text = self.decoder.decode(data)
        cut = text.rfind("\n") + 1
        if not cut:
            self.partial += text
            if len(self.partial) <= MAX_LINE:
                return ""
            text, self.partial = self.partial, ""
            return text
        done, self.partial = self.partial + text[:cut], text[cut:]
        return done

    def flush(self) -> str:
        """The last line when the output did not end with a newline."""
        text = self.partial + self.decoder.decode(b"", final=True)
        self.partial = ""
        return text


def split_lines(text: str) -> list[str]:
    """The lines of a piece of output (a final newline ends the last one; `\r\n` is one)."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


class LineSplitter:
    """Bytes in, complete text lines out (SSH mode and `local` read lines)."""

    def __init__(self) -> None:
        self.chunker = Chunker()

    def feed(self, data: bytes) -> list[str]:
        return split_lines(self.chunker.feed(data))

    def flush(self) -> list[str]:
        return split_lines(self.chunker.flush())


class Wakeup:
    """Set while a channel has stdout or stderr to read, or has ended: what a reader waits on.

    paramiko's own way to wait for a channel (Channel.fileno: a pipe, for select()) costs
    two descriptors per running command and a write and a read on the pipe for every packet.
    A channel's two buffers take any object with an Event's set() and clear() instead
    (BufferedPipe.set_event, what fileno() uses itself): one flag per buffer, one condition."""

    def __init__(self, channel: Channel) -> None:
        self.cond = threading.Condition()
        self.flags = (_Flag(self), _Flag(self))
        self.watch(channel)

    def watch(self, channel: Channel) -> None:
        """(Again, after something select()ed on the channel: fileno() took the buffers.)"""
        channel.in_buffer.set_event(self.flags[0])
        channel.in_stderr_buffer.set_event(self.flags[1])

    def wait(self, timeout: float) -> None:
        with self.cond:
            self.cond.wait_for(lambda: any(f.is_set() for f in self.flags), timeout)


class _Flag(threading.Event):
    """One buffer's flag: setting it wakes the Wakeup's waiter."""

    def __init__(self, wakeup: Wakeup) -> None:
        super().__init__()
        self.wakeup = wakeup

    def set(self) -> None:
        super().set()
        with self.wakeup.cond:
            self.wakeup.cond.notify_all()


class RemoteCommand:
    """An exec'd command; `read()` returns [(stream, line)] as output arrives."""

    wakeup: Wakeup | None = None  # (a subclass that adopts a channel may go without)

    def __init__(
        self, transport: Transport, command: str, open_timeout: float | None = None, *, stdin: bool = False
    ) -> None:
        """`stdin`: its input stays open (sudo reads a password there) until `began()`."""
        self.started = time.monotonic()
        self.transport = transport
        self.channel: Channel = transport.open_session(timeout=open_timeout)
        self.wakeup = Wakeup(self.channel)
        request_exec(self.channel, command)
        if not stdin:
            self.channel.shutdown_write()  # no stdin: `cat` with no file ends at once
        self.out = Chunker()
        self.err = Chunker()
        self.early = ""  # stderr read before the reading began (see began())
        self.done = False
        self.exit_status: int | None = None

    def began(self, stderr: bytes = b"", end_input: bool = True) -> None:
        """sudo let the command run: its clock starts now, its input ends (as without sudo,
        unless the caller has more to send), and `stderr` (already read from the channel) is
        the first of its own."""
        self.started = time.monotonic()
        if self.wakeup is not None:
            self.wakeup.watch(self.channel)  # sudo's dialog select()ed on the channel
        if end_input:
            self.channel.shutdown_write()
        self.early = self.err.feed(stderr)

    def read_text(self, wait: float = 0.1) -> list[tuple[str, str]]:
        """[(stream, text)] that arrived within `wait` seconds, in whole lines (see Chunker);
        sets `done` (and `exit_status`) at the end."""
        channel = self.channel
        if not (self.early or channel.recv_ready() or channel.recv_stderr_ready() or self._at_end()):
            self.wait(wait)
        pieces: list[tuple[str, str]] = []
        out, err = [], [self.early]
        self.early = ""
        while channel.recv_ready():
            out.append(self.out.feed(channel.recv(RECV)))
        while channel.recv_stderr_ready():
            err.append(self.err.feed(channel.recv_stderr(RECV)))
        if self._at_end() and not channel.recv_ready() and not channel.recv_stderr_ready():
            out.append(self.out.flush())
            err.append(self.err.flush())
            self.exit_status = self._exit_status()
            self.done = True
        for stream, texts in (("out", out), ("err", err)):
            text = "".join(texts)
            if text:
                pieces.append((stream, text))
        return pieces

    def read(self, wait: float = 0.1) -> list[tuple[str, str]]:
        """[(stream, line)]: `read_text` cut into lines."""
        return [(stream, line) for stream, text in self.read_text(wait) for line in split_lines(text)]

    def wait(self, timeout: float) -> None:
        """Until output (or stderr) arrives, or `timeout` passes."""
        if self.wakeup is not None:
            self.wakeup.wait(timeout)
        else:
            select.select([self.channel], [], [], timeout)

    def _at_end(self) -> bool:
        return bool(self.channel.eof_received or self.channel.closed)

    def _exit_status(self) -> int | None:
        """The exit status (sent just before the channel closes); None if killed by a signal."""
        deadline = time.monotonic() + 5
        while not self.channel.exit_status_ready() and not self.channel.closed and time.monotonic() < deadline:
            self.channel.status_event.wait(0.1)
        if not self.channel.exit_status_ready():
            return None
        status = self.channel.recv_exit_status()
        return None if status == -1 else status

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def signal(self, name: str = "TERM") -> None:
        """Send a signal to the remote command's process group (OpenSSH >= 7.9 honours it)."""
        send_signal(self.channel, name)

    def interrupt(self) -> None:
        """Ctrl-C in a run: TERM now (the fan-out sends KILL if it is still running later)."""
        self.signal("TERM")

    def stop(self, grace: float = 0.5) -> None:
        """TERM, a short wait for the command to go, KILL, then close the channel."""
        if self.channel.closed:
            return
        self.signal("TERM")
        deadline = time.monotonic() + grace
        while not self._at_end() and time.monotonic() < deadline:
            self.wait(0.05)
            while self.channel.recv_ready():
                self.channel.recv(65536)
            while self.channel.recv_stderr_ready():
                self.channel.recv_stderr(65536)
        if not self._at_end():
            self.signal("KILL")
        self.close()

    def kill(self) -> None:
        """KILL to the command's process group, then the channel closes (Ctrl-C's last step)."""
        if not self.channel.closed:
            self.signal("KILL")
        self.close()

    @property
    def ending(self) -> str | None:
        """Why the command ended without an exit status, when that is known."""
        transport = self.channel.get_transport()
        if transport is None or not transport.is_active():
            return "connection lost while the command ran"
        if not self.channel.event_ready:  # (see request_exec)
            return "the server refused to run the command"
        return None

    def close(self) -> None:
        try:
            self.channel.close()
        except Exception:  # noqa: BLE001 - the transport may already be gone
            swallowed("closing a command's channel")


def request_exec(channel: Channel, command: str) -> None:
    """Channel.exec_command without waiting for the server's answer, as OpenSSH's ssh does:
    the answer comes before any output, so waiting costs a round trip for nothing. A refusal
    closes the channel (paramiko's _request_failed) with no exit status; `event_ready`
    stays False then, so the command's `ending` can say why. Private parts: the message as
    exec_command builds it, `Channel._event_pending()` (tests/unit/test_ssh_paramiko_private.py)."""
    message = _channel_request(channel, "exec", True, command)
    channel._event_pending()  # type: ignore[attr-defined]
    channel.transport._send_user_message(message)  # type: ignore[union-attr]


def send_signal(channel: Channel, name: str) -> None:
    """RFC 4254 6.9 "signal" request: paramiko has no method for it, so the message goes out
    through a private one (tests/unit/test_ssh_paramiko_private.py watches it)."""
    if channel.closed or not channel.transport or not channel.transport.is_active():
        return
    message = _channel_request(channel, "signal", False, name)
    try:
        channel.transport._send_user_message(message)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a dead connection has nothing left to stop
        swallowed(f"sending signal {name} to a remote command")


def _channel_request(channel: Channel, kind: str, want_reply: bool, value: str) -> Any:
    """A CHANNEL_REQUEST message with one string argument (RFC 4254 6.5, 6.9)."""
    import paramiko
    from paramiko.common import cMSG_CHANNEL_REQUEST

    message = paramiko.Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string(kind)
    message.add_boolean(want_reply)
    message.add_string(value)
    return message
