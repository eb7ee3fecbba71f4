"""A terminal for one remote command, as `ssh -t host CMD` gives it.

The remote side gets a pseudo-terminal with the local terminal's type, size and modes (the
erase and interrupt keys, IUTF8...) and the locale variables OpenSSH's `SendEnv LANG LC_*`
sends; sshd applies those only where its AcceptEnv allows them (Debian's and Ubuntu's default
sshd_config does), elsewhere the host's own locale applies, silently, as with ssh.

The local terminal is put in raw mode while the command runs, so every key (Ctrl-C, Ctrl-Z,
Ctrl-D, arrows) goes to the remote pty and the remote side decides what it means; a window
resize becomes the channel's window-change request. `~.` typed at the start of a line ends
the command from here, as OpenSSH's escape does (`~~` sends one `~`), for a remote program
that no key stops. Whatever ends the command (its exit, the escape, a dropped connection, an
exception), the terminal's modes are restored, and a full-screen program cut off mid-way has
its alternate screen, hidden cursor, keypad and mouse modes undone.

The caller's report (SSH mode's exit status and directory, printed last by the remote shell)
shares the one output stream a pty has: MarkerCut takes it out before anything reaches the
screen.
"""

from __future__ import annotations

import errno
import os
import re
import select
import signal
import struct
import termios
import threading
import time
import tty
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paramiko import Channel

RECV = 65536
LOCALE_PREFIXES = ("LANG", "LC_")  # what `SendEnv LANG LC_*` sends

# RFC 4254 section 8 (and RFC 8160 for IUTF8): opcode -> termios attribute. Control characters
# are read from c_cc, flags from the flag word each belongs to.
_CHARS = {
    1: "VINTR", 2: "VQUIT", 3: "VERASE", 4: "VKILL", 5: "VEOF", 6: "VEOL", 7: "VEOL2", 8: "VSTART",
    9: "VSTOP", 10: "VSUSP", 11: "VDSUSP", 12: "VREPRINT", 13: "VWERASE", 14: "VLNEXT",
    15: "VFLUSH", 16: "VSWTCH", 17: "VSTATUS", 18: "VDISCARD",
}  # fmt: skip
_IFLAGS = {
    30: "IGNPAR", 31: "PARMRK", 32: "INPCK", 33: "ISTRIP", 34: "INLCR", 35: "IGNCR", 36: "ICRNL",
    37: "IUCLC", 38: "IXON", 39: "IXANY", 40: "IXOFF", 41: "IMAXBEL", 42: "IUTF8",
}  # fmt: skip
_LFLAGS = {
    50: "ISIG", 51: "ICANON", 52: "XCASE", 53: "ECHO", 54: "ECHOE", 55: "ECHOK", 56: "ECHONL",
    57: "NOFLSH", 58: "TOSTOP", 59: "IEXTEN", 60: "ECHOCTL", 61: "ECHOKE", 62: "PENDIN",
}  # fmt: skip
_OFLAGS = {70: "OPOST", 71: "OLCUC", 72: "ONLCR", 73: "OCRNL", 74: "ONOCR", 75: "ONLRET"}
_CFLAGS = {90: "CS7", 91: "CS8", 92: "PARENB", 93: "PARODD"}
_ISPEED, _OSPEED, _END = 128, 129, 0
_DISABLED = 255  # how the protocol says "no character" (Linux's _POSIX_VDISABLE is 0)

# The alternate screen of full-screen programs, switched on (h) and off (l); and escape
# sequences at the end of output, which say nothing about where the cursor's line is.
_ALT_SCREEN = re.compile(rb"\x1b\[\?(?:1049|1047|47)([hl])")
_TRAILING_ESCAPES = re.compile(rb"(?:\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78])+$")
# What undoes the modes a full-screen program may leave behind when it is cut off.
_RESET_MODES = b"\x1b[0m\x1b[?25h\x1b[?1l\x1b>\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l"


@dataclass(frozen=True)
class PtyRequest:
    """What the remote pseudo-terminal is asked for."""

    term: str
    columns: int
    rows: int
    modes: bytes = b""
    env: dict[str, str] = field(default_factory=dict)


def locale_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if k == "LANG" or k.startswith("LC_")}


def window_size(fd: int) -> tuple[int, int]:
    """(columns, rows) of the terminal on `fd`; 80x24 when it cannot say."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return 80, 24
    return size.columns or 80, size.lines or 24


def encode_modes(attrs: list[Any]) -> bytes:
    """termios attributes (as termios.tcgetattr returns them) in the pty-req encoding."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = attrs
    out = bytearray()

    def put(opcode: int, value: int) -> None:
        out.extend(struct.pack(">BI", opcode, value))

    for opcode, name in _CHARS.items():
        index = getattr(termios, name, None)
        if index is not None and index < len(cc):
            char = cc[index]
            value = char[0] if isinstance(char, bytes) else int(char)
            put(opcode, value if value else _DISABLED)
    for table, word in ((_IFLAGS, iflag), (_LFLAGS, lflag), (_OFLAGS, oflag), (_CFLAGS, cflag)):
        for opcode, name in table.items():
            bit = getattr(termios, name, None)
            if bit is not None:
                put(opcode, 1 if word & bit else 0)
    put(_ISPEED, _baud(ispeed))
    put(_OSPEED, _baud(ospeed))
    out.append(_END)
    return bytes(out)


def _baud(speed: int) -> int:
    """termios speeds are B-constants; the protocol wants bits per second."""
    for name in dir(termios):
        if name.startswith("B") and name[1:].isdigit() and getattr(termios, name) == speed:
            return int(name[1:])
    return 38400


def local_request(in_fd: int | None, out_fd: int | None) -> PtyRequest:
    """The pty to ask for: this terminal's type, size and modes, or (no local terminal: a pty
    forced for a script, as `ssh -tt`) TERM from the environment and a default size."""
    term = os.environ.get("TERM") or "dumb"
    if in_fd is None or out_fd is None:
        return PtyRequest(term, 80, 24, b"", locale_env())
    columns, rows = window_size(out_fd)
    try:
        modes = encode_modes(termios.tcgetattr(in_fd))
    except termios.error:
        modes = b""
    return PtyRequest(term, columns, rows, modes, locale_env())


def request_pty(channel: Channel, request: PtyRequest) -> None:
    """RFC 4254 "pty-req" with the terminal modes (paramiko's get_pty sends none, so the remote
    pty would have its defaults, not this terminal's erase key or IUTF8), then the locale as
    "env" requests. The private calls are the ones get_pty makes itself (watched by
    tests/unit/test_ssh_terminal.py)."""
    import paramiko
    from paramiko.common import cMSG_CHANNEL_REQUEST

    message = paramiko.Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("pty-req")
    message.add_boolean(True)
    message.add_string(request.term)
    message.add_int(request.columns)
    message.add_int(request.rows)
    message.add_int(0)
    message.add_int(0)
    message.add_string(request.modes)
    transport = channel.transport
    if transport is None:
        raise ConnectionError("the connection closed before the terminal was set up")
    channel._event_pending()  # type: ignore[attr-defined]
    transport._send_user_message(message)  # type: ignore[attr-defined]
    channel._wait_for_event()  # type: ignore[attr-defined]
    for name, value in request.env.items():
        channel.set_environment_variable(name, value)


class MarkerCut:
    """Output bytes in, the bytes to show out, with the report line (`MARKER...` up to its
    newline) taken out wherever it lands; bytes that may be the start of the marker are held
    until the next piece says. Also notes whether a full-screen program's alternate screen is
    on, for the clean-up after an abnormal end."""

    def __init__(self, marker: bytes) -> None:
        self.marker = marker
        self.held = b""
        self.in_report = False
        self.partial_report = b""
        self.report: bytes | None = None
        self.reported_at: float | None = None
        self.alt_screen = False
        self.last_byte = b"\n"  # the last character shown on the normal screen
        self.before_alt = b"\n"

    def feed(self, data: bytes) -> bytes:
        if self.report is not None:
            return self._shown(data)  # what a background job prints after the report
        data, self.held = self.held + data, b""
        if self.in_report:
            before, after = b"", data
        elif self.marker in data:
            before, _, after = data.partition(self.marker)
            self.in_report = True
        else:
            keep = _prefix_overlap(data, self.marker)
            if keep:
                data, self.held = data[:-keep], data[-keep:]
            return self._shown(data)
        line, newline, rest = after.partition(b"\n")
        self.partial_report += line
        if not newline:
            return self._shown(before)
        self.report = self.partial_report.rstrip(b"\r")
        self.reported_at = time.monotonic()
        return self._shown(before + rest)

    def flush(self) -> bytes:
        held, self.held = self.held, b""
        return self._shown(held)

    def _shown(self, data: bytes) -> bytes:
        """`data` as it goes to the screen, noting the alternate screen and the last character
        on the normal one (leaving the alternate screen brings back the line it left)."""
        at = 0
        for switch in _ALT_SCREEN.finditer(data):
            self._note_text(data[at : switch.start()])
            on = switch.group(1) == b"h"
            if on and not self.alt_screen:
                self.before_alt = self.last_byte
            elif not on and self.alt_screen:
                self.last_byte = self.before_alt
            self.alt_screen = on
            at = switch.end()
        self._note_text(data[at:])
        return data

    def _note_text(self, data: bytes) -> None:
        text = _TRAILING_ESCAPES.sub(b"", data)
        if text and not self.alt_screen:
            self.last_byte = text[-1:]


def _prefix_overlap(data: bytes, marker: bytes) -> int:
    """How many bytes at the end of `data` are the beginning of `marker`."""
    for size in range(min(len(marker) - 1, len(data)), 0, -1):
        if data.endswith(marker[:size]):
            return size
    return 0


class EscapeKeys:
    """OpenSSH's escape, on the keys going out: `~.` at the start of a line ends the session,
    `~~` sends one `~`; a `~` followed by anything else is sent as typed."""

    def __init__(self) -> None:
        self.line_start = True
        self.tilde = False

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to send, whether the escape was typed)."""
        out = bytearray()
        for byte in data:
            char = bytes([byte])
            if self.tilde:
                self.tilde = False
                if char == b".":
                    return bytes(out), True
                out += b"~" if char == b"~" else b"~" + char
            elif self.line_start and char == b"~":
                self.tilde = True
                continue
            else:
                out += char
            self.line_start = char in (b"\r", b"\n")
        return bytes(out), False


class RawMode:
    """The local terminal in raw mode (every key goes out as typed, no local echo, no signal
    keys, no output processing) until exit, whatever ends the block."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.saved: list[Any] | None = None

    def __enter__(self) -> RawMode:
        self.saved = termios.tcgetattr(self.fd)
        tty.setraw(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.restore()

    def restore(self) -> None:
        if self.saved is None:
            return
        saved, self.saved = self.saved, None
        try:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)
        except termios.error:
            termios.tcsetattr(self.fd, termios.TCSANOW, saved)


class WindowWatch:
    """SIGWINCH while the command runs: the handler only writes a byte to a pipe (safe in a
    signal handler), which the forwarding loop selects on; the previous handler comes back."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        self.previous: Any = None
        self.installed = False

    def __enter__(self) -> WindowWatch:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGWINCH, self._changed)
            self.installed = True
        return self

    def _changed(self, signum: int, frame: FrameType | None) -> None:
        try:
            os.write(self.write_fd, b"w")
        except OSError:
            pass  # the pipe is full: a change is already waiting

    def drain(self) -> None:
        try:
            os.read(self.read_fd, 4096)
        except BlockingIOError:
            pass

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.installed:
            signal.signal(signal.SIGWINCH, self.previous)
        os.close(self.read_fd)
        os.close(self.write_fd)


@dataclass
class Ending:
    """How the remote command's terminal session ended."""

    exit_status: int | None = None
    escaped: bool = False  # `~.` was typed
    lost: bool = False  # the connection died under it
    report: bytes | None = None


class TerminalSession:
    """One command on `channel` (pty already requested, command exec'd) with the local
    terminal attached: `run()` forwards until the command is over."""

    def __init__(self, channel: Channel, in_fd: int, out_fd: int, cut: MarkerCut, grace: float) -> None:
        self.channel = channel
        self.in_fd = in_fd
        self.out_fd = out_fd
        self.cut = cut
        self.grace = grace
        self.keys = EscapeKeys()
        self.reading_keys = True

    def run(self) -> Ending:
        ending = Ending()
        clean = False
        try:
            with RawMode(self.in_fd), WindowWatch() as window:
                ending.escaped = self._forward(window)
            clean = not ending.escaped
        finally:
            self._write(self.cut.flush())
            cut_off = self.channel.closed and not self.channel.exit_status_ready()
            if not clean or cut_off:
                self._undo_screen()
            elif self.cut.last_byte not in (b"\n", b""):
                self._write(b"\r\n")  # the prompt starts on a line of its own, as fish does
        ending.report = self.cut.report
        ending.exit_status = None if ending.escaped else _exit_status(self.channel)
        ending.lost = ending.exit_status is None and not _transport_alive(self.channel)
        return ending

    def _forward(self, window: WindowWatch) -> bool:
        """Until the command ends (or only its background jobs hold the output): True when
        the escape ended it."""
        channel = self.channel
        while True:
            if self.cut.reported_at is not None and time.monotonic() - self.cut.reported_at > self.grace:
                return False
            watched: list[Any] = [channel, window.read_fd] + ([self.in_fd] if self.reading_keys else [])
            try:
                ready, _, _ = select.select(watched, [], [], 0.2)
            except InterruptedError:
                ready = []
            if window.read_fd in ready:
                window.drain()
                self._resize()
            if self.in_fd in ready and self._keys():
                return True
            self._show_output()
            if (channel.eof_received or channel.closed) and not channel.recv_ready():
                return False

    def _keys(self) -> bool:
        try:
            data = os.read(self.in_fd, 4096)
        except BlockingIOError:
            return False
        if not data:
            self.reading_keys = False  # the terminal went away: the command still finishes
            return False
        out, escaped = self.keys.feed(data)
        if out and not channel_closed(self.channel):
            try:
                self.channel.sendall(out)
            except OSError:
                pass  # the channel closed meanwhile: the loop sees it and ends
        return escaped

    def _resize(self) -> None:
        """The window changed: the remote pty follows (SIGWINCH reaches its programs)."""
        import paramiko

        columns, rows = window_size(self.out_fd)
        try:
            self.channel.resize_pty(columns, rows)
        except (paramiko.SSHException, OSError):
            pass  # the command is ending: nothing left to resize

    def _show_output(self) -> None:
        channel = self.channel
        while channel.recv_ready():
            self._write(self.cut.feed(channel.recv(RECV)))
        while channel.recv_stderr_ready():  # a pty merges them; a server may still send some
            self._write(channel.recv_stderr(RECV))

    def _undo_screen(self) -> None:
        alternate = self.cut.alt_screen
        self._write((b"\x1b[?1049l" if alternate else b"") + _RESET_MODES + b"\r\n")

    def _write(self, data: bytes) -> None:
        while data:
            try:
                written = os.write(self.out_fd, data)
            except BlockingIOError:
                select.select([], [self.out_fd], [], 1)
                continue
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EPIPE):
                    return  # the terminal is gone
                raise
            data = data[written:]


def channel_closed(channel: Channel) -> bool:
    return bool(channel.closed or not channel.transport or not channel.transport.is_active())


def _transport_alive(channel: Channel) -> bool:
    transport = channel.get_transport()
    return transport is not None and transport.is_active()


def _exit_status(channel: Channel, wait: float = 2.0) -> int | None:
    """The exit status the server sent (it comes just before the close); None when the
    command was killed by a signal or the connection went first."""
    deadline = time.monotonic() + wait
    while not channel.exit_status_ready() and not channel.closed and time.monotonic() < deadline:
        channel.status_event.wait(0.05)
    if not channel.exit_status_ready():
        return None
    status = channel.recv_exit_status()
    return None if status == -1 else status
