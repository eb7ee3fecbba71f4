"""SSH mode: `connect ssh://user@host` (or `connect web1`), then every line runs on that host.

Each line is its own exec channel on one kept connection, wrapped so the remote shell reports
its exit status and working directory after the command; the next line starts with a `cd`
there. The report is a random marker printed last on stdout, found wherever it lands (output
without a final newline included), so `cd`, `pushd` and scripts that change directory all
carry over, while a line that fails or exits early simply keeps the previous directory.
A dropped connection is reopened on the next line.

When opsh runs at a terminal, a line gets a remote pseudo-terminal with the local terminal
attached (terminal.py), as `ssh -t host CMD` does; scripts, `-c` and pipes keep lines without
one, as `ssh host CMD` does; the `tty` setting (`\\tty auto|on|off`) forces either. Whether the
output goes to the terminal is only known once the renderer picks the destination (`\\> file`
or `\\| cmd` never get the terminal), so the choice is made there, in `present`.
`\\sudo LINE` runs the line as root: with the terminal sudo asks on it, without one opsh
answers sudo itself (sudo.py).
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from opsh.commands.ssh import sudo as sudo_
from opsh.commands.ssh.exec.remote import Chunker, RemoteCommand
from opsh.commands.ssh.hosts.hostspec import HostSpec, resolve
from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.transport import setup
from opsh.commands.ssh.transport.conn import ConnectOptions, open_transport
from opsh.commands.ssh.transport.prompting import Prompter
from opsh.shell.errors import ConnectError, UsageError, describe, swallowed
from opsh.shell.handles import ConnectRequest, Handle
from opsh.shell.lineparse import Lookup, expand_for_shell
from opsh.shell.result import Block, Result, StyledLine
from opsh.shell.statement import Statement

# After the line reported its status, how long its output may stay open (a job started with
# `&` keeps it open): then the line is over and the job goes on without us.
BACKGROUND_GRACE = 0.5

TTY_CHOICES = ("auto", "on", "off")

if TYPE_CHECKING:
    from paramiko import Channel, SFTPClient, Transport
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.commands.ssh.state import SshState
    from opsh.shell.output import Sink
    from opsh.shell.session import Session


class SshHandle(Handle):
    kind = "ssh"
    meta_commands = ("\\tty", "\\sudo", "\\?")

    def __init__(self, name: str, spec: HostSpec, transport: Transport, options: ConnectOptions) -> None:
        super().__init__(name, spec.endpoint)
        self.spec = spec
        self.transport: Transport | None = transport
        self.options = options
        self.marker = "__opsh_" + secrets.token_hex(8) + "__"
        self.home: str | None = None
        self.cwd: str | None = None
        self.last_exit: int | None = None
        self.running: RemoteCommand | None = None
        self.sftp: SFTPClient | None = None  # opened by the first remote path completion
        self.reconnects = 0
        self.pty_refused = False  # the server refused a terminal once: not asked again

    # -- connection
    def ensure(self, session: Session) -> Transport:
        """The live transport, reopened (same spec, same questions) when it was dropped."""
        if self.transport is not None and self.transport.is_active():
            return self.transport
        self._drop()
        self.options.prompter = Prompter(session)
        self.transport = open_transport(ssh_state(session), self.spec, self.options)
        self.reconnects += 1
        return self.transport

    def _drop(self) -> None:
        self.sftp = None
        if self.transport is not None:
            try:
                self.transport.close()
            except Exception:  # noqa: BLE001 - it is being dropped anyway
                swallowed("closing a dropped SSH mode connection")
        self.transport = None

    def ping(self) -> None:
        if self.transport is None or not self.transport.is_active():
            raise ConnectError("connection dropped", "the next line reconnects")
        self.transport.global_request("keepalive@openssh.com", wait=True)

    def state(self) -> str:
        if self.transport is None or not self.transport.is_active():
            return "dropped (reconnects on next line)"
        return f"open, cwd {self.cwd or '~'}"

    def close(self) -> None:
        self._drop()

    # -- mode
    def prompt_label(self) -> str:
        return f"ssh:{self.name}:{self.short_cwd()}"

    def short_cwd(self) -> str:
        cwd = self.cwd or "~"
        if self.home and (cwd == self.home or cwd.startswith(self.home.rstrip("/") + "/")):
            cwd = "~" + cwd[len(self.home.rstrip("/")) :]
        return cwd

    def toolbar(self) -> str:
        status = "" if self.last_exit is None else f" · exit {self.last_exit}"
        return f"{self.spec.endpoint}{status}"

    def expand(self, text: str, lookup: Lookup) -> str:
        """The line goes to the remote shell: a variable's value stays one literal word."""
        return expand_for_shell(text, lookup)

    def lexer(self) -> Lexer | None:
        from prompt_toolkit.lexers import PygmentsLexer
        from pygments.lexers.shell import BashLexer

        return PygmentsLexer(BashLexer)

    def completer(self, session: Session) -> Completer | None:
        from opsh.commands.ssh.remotecomplete import RemotePathCompleter

        return RemotePathCompleter(self)

    def next_statement(self, text: str) -> Statement | None:
        """One line is one command (`;`, `&&` and `|` belong to the remote shell); a line
        ending in a backslash continues on the next."""
        line, newline, rest = text.partition("\n")
        while line.endswith("\\") and newline:
            more, newline, rest = rest.partition("\n")
            line = line[:-1] + more
        if line.endswith("\\") and not line.endswith("\\\\"):
            return None  # Enter after a trailing backslash continues the line
        return Statement.cut(line, rest, newline)

    def wrap(self, line: str) -> str:
        """The line as the remote shell runs it: in the kept directory, reporting back.

        The shell traps TERM (a handler, which its children do not inherit, unlike an ignored
        signal): on Ctrl-C it outlives a command that ignores TERM, and so sshd still knows the
        session's process and delivers the KILL that follows to the whole group. Without it the
        shell would die at once, sshd would forget the process, and the command would stay."""
        prefix = "trap 'exit 143' TERM; "
        if self.cwd:
            quoted = shlex.quote(self.cwd)
            gone = f"printf 'opsh: %s is gone, running in %s\\n' {quoted} \"$PWD\" >&2"
            prefix += f"cd -- {quoted} 2>/dev/null || {gone}; "
        report = f'__opsh_rc=$?; printf \'%s%s %s\\n\' {self.marker} "$__opsh_rc" "$(pwd)"'
        return f"{prefix}eval {shlex.quote(line)}\n{report}"

    def execute(self, session: Session, statement: str) -> Result:
        line = statement.strip()
        if not line:
            return Result.empty()
        word, _, rest = line.partition(" ")
        if word == "\\?":
            return Result.of_text(MODE_HELP)
        if word == "\\tty":
            return self._tty(session, rest.strip())
        sudo_user: str | None = None
        sudo = word == "\\sudo"
        if sudo:
            sudo_user, line = _sudo_words(rest)
        outcome: dict[str, Any] = {}
        plan = _LinePlan(self, session, line, sudo, sudo_user, outcome)
        return Result.of_stream(plan.lines(), then=lambda: self._finished(outcome), present=plan.present)

    def _tty(self, session: Session, value: str) -> Result:
        """`\\tty [auto|on|off]`: set the `tty` setting, or say what it is and what it means here."""
        if value:
            session.settings.set("tty", value)
        chosen = str(session.settings.get("tty"))
        here = terminal_here(session)
        meaning = {
            "on": "every line gets a terminal (as ssh -t; without a local terminal as ssh -tt)",
            "off": "lines run without a terminal (as ssh host cmd)",
            "auto": "lines get a terminal when opsh runs at one: "
            + ("yes here" if here else "not here (a script, -c or a pipe)"),
        }[chosen]
        return Result.of_text(f"tty {chosen}: {meaning}\n")

    def channel(self, session: Session) -> Channel:
        """A new session channel on the live connection, reconnecting once when the kept one
        turns out to be dead."""
        transport = self.ensure(session)
        try:
            return transport.open_session(timeout=session.timeout)
        except Exception:
            if transport.is_active():
                raise
            swallowed("opening a channel on a connection that died (reconnecting)")
            return self.ensure(session).open_session(timeout=session.timeout)

    def _start(self, session: Session, wrapped: str) -> RemoteCommand:
        transport = self.ensure(session)
        try:
            return RemoteCommand(transport, wrapped, session.timeout)
        except Exception:
            if transport.is_active():
                raise
            swallowed("opening a channel on a connection that died (reconnecting)")
            return RemoteCommand(self.ensure(session), wrapped, session.timeout)

    def _lines(self, command: RemoteCommand, outcome: dict[str, Any]) -> Iterator[StyledLine]:
        reported_at: float | None = None
        try:
            while not command.done:
                if reported_at is not None and time.monotonic() - reported_at > BACKGROUND_GRACE:
                    break  # the line is done; a background job (`cmd &`) still holds its output open
                for stream, text in command.read(0.1):
                    if stream == "out" and self.marker in text:
                        before, _, report = text.partition(self.marker)
                        outcome["report"] = report
                        reported_at = time.monotonic()
                        if before:
                            yield Block(before)
                        continue
                    # Blocks: the host's output as ssh shows it (render.on_screen leaves it raw).
                    yield Block(text) if stream == "out" else Block(text, style="warn")
        finally:
            if not command.done and "report" not in outcome:
                command.stop()
                outcome["cancelled"] = True
            command.close()
            self.running = None
            outcome["exit"] = command.exit_status

    def _finished(self, outcome: dict[str, Any]) -> Result:
        code = outcome.get("exit")
        report = outcome.get("report")
        if report is not None:
            rc, _, cwd = report.strip().partition(" ")
            code = int(rc) if rc.lstrip("-").isdigit() else code
            if cwd:
                self.cwd = cwd
        self.last_exit = code
        result = _ending(code, outcome)
        notice = outcome.get("notice")
        if notice:
            result.status = f"{notice}; {result.status}" if result.status else notice
        return result

    def run_at_terminal(self, session: Session, line: str, out_fd: int, outcome: dict[str, Any]) -> None:
        """The line on a remote pty with this terminal attached until it ends."""
        from opsh.commands.ssh.terminal import MarkerCut, TerminalSession, local_request

        in_fd = sys.stdin.fileno()
        request = local_request(in_fd, out_fd)
        command = _Adopted(self.channel(session))
        self.running = command
        try:
            _request_or_refused(command.channel, request)
            command.channel.exec_command(self.wrap(line))
            cut = MarkerCut(self.marker.encode())
            ending = TerminalSession(command.channel, in_fd, out_fd, cut, BACKGROUND_GRACE).run()
            if ending.escaped:
                command.stop()
        finally:
            self.running = None
            command.close()
        outcome.update(exit=ending.exit_status, escaped=ending.escaped, lost=ending.lost)
        if ending.report is not None:
            outcome["report"] = ending.report.decode("utf-8", "replace")

    def start_pty(self, session: Session, line: str) -> RemoteCommand:
        """The line on a remote pty with no local terminal (`tty on` in a script: ssh -tt).
        Nothing is typed: the pty gets an end of input (^D) at once, as from /dev/null."""
        from opsh.commands.ssh.terminal import local_request, request_pty

        channel = self.channel(session)
        try:
            request_pty(channel, local_request(None, None))
            channel.exec_command(self.wrap(line))
            channel.sendall(b"\x04")
        except BaseException:
            channel.close()
            raise
        return _Adopted(channel)

    def start_sudo(self, session: Session, line: str, user: str | None) -> RemoteCommand:
        """`\\sudo LINE` without a terminal: sudo answered here (sudo.py), then read as usual."""
        markers = sudo_.Markers()
        channel = self.channel(session)
        try:
            channel.exec_command(self.wrap(sudo_.sudo_command(line, markers, user)))
            source = sudo_.PasswordSource(session, (self.spec.user, self.spec.hostname, self.spec.port))
            early = sudo_.authenticate(channel, sudo_.SudoDialog(markers), source, session.timeout)
            channel.shutdown_write()
        except BaseException:
            channel.close()
            raise
        return _Adopted(channel, early)

    def cancel(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None

    def learn_home(self, session: Session) -> None:
        """The login directory (for `~` in the prompt); also proves the shell answers."""
        command = RemoteCommand(self.ensure(session), self.wrap("true"), session.timeout)
        outcome: dict[str, Any] = {}
        for _ in self._lines(command, outcome):
            pass
        self._finished(outcome)
        self.home = self.cwd
        self.last_exit = None

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "cwd": self.cwd}


MODE_HELP = """\
SSH mode: each line runs on the host, in the directory the last line left
(`;`, `|` and `&&` belong to the remote shell).

When opsh runs at a terminal, each line gets a terminal on the host, as `ssh -t host CMD`:
full-screen programs (top, less, vim), password prompts (sudo, passwd) and every key
(Ctrl-C, Ctrl-Z, Ctrl-D, arrows) work as over ssh, and `~.` at the start of a line ends a
command that no key stops. Scripts, `opsh -c`, pipes and lines sent to `\\> FILE` or
`\\| CMD` run without one, as `ssh host CMD` does (stdout and stderr apart).

  \\tty [auto|on|off]     when lines get a terminal (the `tty` setting): auto = when opsh
                         runs at one, on = always (as ssh -tt without one), off = never
  \\sudo [-u USER] LINE   LINE as root (or USER), pipes and redirections included: sudo
                         asks on the terminal, or (no terminal) opsh asks once, hidden,
                         and answers sudo itself
  \\edit HOST:PATH        a file of the host in your editor (help edit)
  \\q                     back to local mode (\\status, \\use, \\set: any opsh command)
"""


class _LinePlan:
    """One line on its way. The renderer calls `present` with the destination: the terminal
    takes the line there; anything else (a file, a pipe, a script's stdout) reads the lines
    of a command without a local terminal from `lines()`."""

    def __init__(
        self, handle: SshHandle, session: Session, line: str, sudo: bool, sudo_user: str | None, outcome: dict[str, Any]
    ) -> None:
        self.handle = handle
        self.session = session
        self.line = line
        self.sudo = sudo
        self.sudo_user = sudo_user
        self.outcome = outcome

    def present(self, fmt: str, sink: Sink) -> str | None:
        out_fd = terminal_fd(sink)
        if out_fd is None or not terminal_wanted(self.session) or self.handle.pty_refused:
            return None
        sink.flush()
        try:
            self.handle.run_at_terminal(self.session, self._terminal_line(), out_fd, self.outcome)
        except TerminalRefused:
            self.handle.pty_refused = True  # as ssh -t goes on without one; said once
            self.outcome["notice"] = f"{self.handle.name} refused a terminal (sshd's PermitTTY?): lines run without one"
            return None
        return ""

    def _terminal_line(self) -> str:
        """With the terminal, `\\sudo LINE` is sudo itself on it."""
        if not self.sudo:
            return self.line
        user = ["-u", self.sudo_user] if self.sudo_user else []
        return shlex.join(["sudo", *user, "--", "sh", "-c", self.line])

    def lines(self) -> Iterator[StyledLine]:
        handle, session = self.handle, self.session
        if self.sudo:
            command = handle.start_sudo(session, self.line, self.sudo_user)
        elif session.settings.get("tty") == "on":
            command = handle.start_pty(session, self.line)
        else:
            command = handle._start(session, handle.wrap(self.line))
        handle.running = command
        yield from handle._lines(command, self.outcome)


class _Adopted(RemoteCommand):
    """A RemoteCommand on a channel this module set up (a pty requested, sudo answered), read
    as RemoteCommand reads its own; `early` is stderr that arrived during the set-up."""

    def __init__(self, channel: Channel, early: bytes = b"") -> None:
        self.started = time.monotonic()
        self.channel = channel
        self.out = Chunker()
        self.err = Chunker()
        self.done = False
        self.exit_status = None
        self.early = self.err.feed(early)  # read_text hands it out first, as for any command


class TerminalRefused(Exception):
    """The server said no to the pty request (the channel is gone with it)."""


def _request_or_refused(channel: Channel, request: Any) -> None:
    import paramiko

    from opsh.commands.ssh.terminal import request_pty

    try:
        request_pty(channel, request)
    except paramiko.SSHException:
        transport = channel.get_transport()
        if transport is None or not transport.is_active():
            raise
        raise TerminalRefused from None


def _ending(code: int | None, outcome: dict[str, Any]) -> Result:
    """How the line ended, as the status line says it."""
    if outcome.get("escaped"):
        return Result.empty(status="ended with ~. (the remote command was stopped)", failed=True)
    if outcome.get("lost"):
        return Result.empty(status="connection lost while the command ran (the next line reconnects)", failed=True)
    if code is None:
        return Result.empty(status="killed by a signal", failed=True)
    return Result.empty(status=f"exit {code}" if code else "", failed=code != 0)


def terminal_wanted(session: Session) -> bool:
    """Whether the `tty` setting gives lines the local terminal (when there is one)."""
    chosen = session.settings.get("tty")
    if chosen == "off" or not _isatty(sys.stdin):
        return False
    return chosen == "on" or (session.io.interactive and not session.engine.batch)


def terminal_here(session: Session) -> bool:
    """Whether a line typed now would get the terminal (stdout a terminal too)."""
    return terminal_wanted(session) and _isatty(sys.stdout)


def terminal_fd(sink: Sink) -> int | None:
    """The terminal the renderer writes to, or None (a file, a pipe, a buffer)."""
    stream = getattr(sink, "stream", None)
    if not sink.is_terminal or stream is None:
        return None
    try:
        fd = int(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return None  # a buffer that only says it is a terminal
    return fd if os.isatty(fd) else None


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _sudo_words(rest: str) -> tuple[str | None, str]:
    """`[-u USER] LINE` after `\\sudo`."""
    from opsh.commands.ssh.hosts.names import valid_user

    text, user = rest.strip(), None
    head, _, after = text.partition(" ")
    if head in ("-u", "--user"):
        user, _, text = after.strip().partition(" ")
        text = text.strip()
        if not valid_user(user):
            raise UsageError(f"\\sudo: not a user name: {user!r}")
    if not text:
        raise UsageError("\\sudo needs a command", "e.g. \\sudo systemctl restart nginx, \\sudo -u postgres psql")
    return user, text


def _transport_named(state: SshState, spec: HostSpec, options: ConnectOptions) -> Transport:
    """The login; a host that cannot be reached is named with the address and port tried
    (`connect down1` must not say only "connection refused": down1 may be 10.0.1.7:2222)."""
    try:
        return open_transport(state, spec, options)
    except OSError as exc:
        where = f"{spec.hostname}:{spec.port}"
        name = where if spec.name in (spec.hostname, where) else f"{spec.name} at {where}"
        import socket

        hint = "is the host name right?" if isinstance(exc, socket.gaierror) else "is sshd running there, on that port?"
        raise ConnectError(f"cannot reach {name}: {describe(exc).message}", hint) from None


def connect_ssh(session: Session, request: ConnectRequest) -> SshHandle:
    """The `ssh://` connector: resolve the name (inventory, ssh config), log in, open the mode."""
    host = request.parts.hostname
    if not host:
        raise ConnectError(f"no host in {request.url}", "write ssh://user@host:port or a host name")
    try:
        port = request.parts.port
    except ValueError:
        raise ConnectError(f"bad port in {request.url}") from None
    spec = resolve(session, host, request.user, port)
    state = ssh_state(session)
    prompter = Prompter(session)
    setup.prepare_keys(session, [spec])
    options = setup.connect_options(session, prompter, session.timeout, request.accept_new)
    if request.password is not None:
        state.passwords.setdefault((spec.user, spec.hostname, spec.port), request.password)
    transport = _transport_named(state, spec, options)
    handle = SshHandle(request.name, spec, transport, options)
    try:
        handle.learn_home(session)
    except BaseException:
        handle.close()
        raise
    return handle
