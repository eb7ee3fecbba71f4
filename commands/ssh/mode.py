"""SSH mode: `connect ssh://user@host` (or `connect web1`), then every line runs on that host.

Each line is its own exec channel on one kept connection, wrapped so the remote shell reports
its exit status and working directory after the command; the next line starts with a `cd`
there. The report is a random marker printed last on stdout, found wherever it lands (output
without a final newline included), so `cd`, `pushd` and scripts that change directory all
carry over, while a line that fails or exits early simply keeps the previous directory.
A dropped connection is reopened on the next line.
"""

from __future__ import annotations

import secrets
import shlex
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from opsh.commands.ssh.exec.remote import RemoteCommand
from opsh.commands.ssh.hosts.hostspec import HostSpec, resolve
from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.transport import setup
from opsh.commands.ssh.transport.conn import ConnectOptions, open_transport
from opsh.commands.ssh.transport.prompting import Prompter
from opsh.shell.errors import ConnectError, swallowed
from opsh.shell.handles import ConnectRequest, Handle
from opsh.shell.lineparse import Lookup, expand_for_shell
from opsh.shell.result import Result, StyledLine
from opsh.shell.statement import Statement

# After the line reported its status, how long its output may stay open (a job started with
# `&` keeps it open): then the line is over and the job goes on without us.
BACKGROUND_GRACE = 0.5

if TYPE_CHECKING:
    from paramiko import SFTPClient, Transport
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.session import Session


class SshHandle(Handle):
    kind = "ssh"

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
        command = self._start(session, self.wrap(line))
        self.running = command
        outcome: dict[str, Any] = {}
        return Result.of_stream(self._lines(command, outcome), then=lambda: self._finished(outcome))

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
                            yield before
                        continue
                    yield text if stream == "out" else [("warn", text)]
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
        if code is None:
            return Result.empty(status="killed by a signal", failed=True)
        return Result.empty(status=f"exit {code}" if code else "", failed=code != 0)

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
    transport = open_transport(state, spec, options)
    handle = SshHandle(request.name, spec, transport, options)
    try:
        handle.learn_home(session)
    except BaseException:
        handle.close()
        raise
    return handle
