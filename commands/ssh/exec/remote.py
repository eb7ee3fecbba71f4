"""One command on a remote host: an exec channel read as lines of stdout and stderr.

Both the parallel runner (worker threads) and SSH mode (the main thread) drive a
RemoteCommand in short slices, so a timeout or Ctrl-C is noticed within a tenth of a second.
Stopping sends the OpenSSH `signal` channel request (the session's process group gets it,
as Ctrl-C in an ssh -t session would) before closing the channel: closing alone leaves a
command without a terminal running on the server.
"""

from __future__ import annotations

import codecs
import select
import time
from typing import TYPE_CHECKING

from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from paramiko import Channel, Transport

MAX_LINE = 65536  # a "line" longer than this is passed on in pieces


class LineSplitter:
    """Bytes in, complete text lines out; invalid UTF-8 becomes U+FFFD, never an error."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = self.partial + self.decoder.decode(data)
        lines = text.split("\n")
        self.partial = lines.pop()
        if len(self.partial) > MAX_LINE:
            lines.append(self.partial)
            self.partial = ""
        return [line[:-1] if line.endswith("\r") else line for line in lines]

    def flush(self) -> list[str]:
        """The last line when the output did not end with a newline."""
        text = self.partial + self.decoder.decode(b"", final=True)
        self.partial = ""
        return [text] if text else []


class RemoteCommand:
    """An exec'd command; `read()` returns [(stream, line)] as output arrives."""

    def __init__(self, transport: Transport, command: str, open_timeout: float | None = None) -> None:
        self.started = time.monotonic()
        self.channel: Channel = transport.open_session(timeout=open_timeout)
        self.channel.exec_command(command)
        self.channel.shutdown_write()  # no stdin: `cat` with no file ends at once
        self.out = LineSplitter()
        self.err = LineSplitter()
        self.done = False
        self.exit_status: int | None = None

    def read(self, wait: float = 0.1) -> list[tuple[str, str]]:
        """Lines that arrived within `wait` seconds; sets `done` (and `exit_status`) at the end."""
        channel = self.channel
        if not (channel.recv_ready() or channel.recv_stderr_ready() or self._at_end()):
            select.select([channel], [], [], wait)
        lines: list[tuple[str, str]] = []
        while channel.recv_ready():
            lines += [("out", line) for line in self.out.feed(channel.recv(65536))]
        while channel.recv_stderr_ready():
            lines += [("err", line) for line in self.err.feed(channel.recv_stderr(65536))]
        if self._at_end() and not channel.recv_ready() and not channel.recv_stderr_ready():
            lines += [("out", line) for line in self.out.flush()]
            lines += [("err", line) for line in self.err.flush()]
            self.exit_status = self._exit_status()
            self.done = True
        return lines

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

    def stop(self, grace: float = 0.5) -> None:
        """TERM, a short wait for the command to go, KILL, then close the channel."""
        if self.channel.closed:
            return
        self.signal("TERM")
        deadline = time.monotonic() + grace
        while not self._at_end() and time.monotonic() < deadline:
            select.select([self.channel], [], [], 0.05)
            while self.channel.recv_ready():
                self.channel.recv(65536)
            while self.channel.recv_stderr_ready():
                self.channel.recv_stderr(65536)
        if not self._at_end():
            self.signal("KILL")
        self.close()

    def close(self) -> None:
        try:
            self.channel.close()
        except Exception:  # noqa: BLE001 - the transport may already be gone
            swallowed("closing a command's channel")


def send_signal(channel: Channel, name: str) -> None:
    """RFC 4254 6.9 "signal" request: paramiko has no method for it, so the message goes out
    through a private one (tests/unit/test_ssh_paramiko_private.py watches it)."""
    import paramiko
    from paramiko.common import cMSG_CHANNEL_REQUEST

    if channel.closed or not channel.transport or not channel.transport.is_active():
        return
    message = paramiko.Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("signal")
    message.add_boolean(False)
    message.add_string(name)
    try:
        channel.transport._send_user_message(message)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a dead connection has nothing left to stop
        swallowed(f"sending signal {name} to a remote command")
