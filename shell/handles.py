"""Open connections (handles) and the mode each one gives the prompt.

A Handle is both a connection (ping, close, state for `status`) and a mode: once it is current,
bare lines go to `execute()`, split into Statements by `next_statement()`, highlighted by
`lexer()` and completed by `completer()`. Backends subclass Handle; the defaults below suit a
line-oriented protocol (one command per line, `;` separates).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import ConnectionLost, OpshError, ProtocolBroken
from opsh.shell.lineparse import Lookup, expand_text
from opsh.shell.redact import redact_url
from opsh.shell.statement import Statement, statement_at_end

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.result import Result
    from opsh.shell.session import Session


@dataclass
class ConnectRequest:
    """What `connect` hands to a backend's connector; the password is never part of `url`."""

    url: str
    name: str
    parts: urllib.parse.SplitResult
    password: str | None = None
    readonly: bool = False
    tag: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    accept_new: bool = False
    # The other keys of the connection's [connections.NAME] entry in the config, if any.
    config: dict[str, Any] = field(default_factory=dict)
    # Asks for the password (hidden) when the server wants one and none was configured.
    ask_password: Callable[[], str] | None = None

    @property
    def host(self) -> str:
        return self.parts.hostname or "127.0.0.1"

    @property
    def user(self) -> str | None:
        return urllib.parse.unquote(self.parts.username) if self.parts.username else None

    def port(self, default: int) -> int:
        try:
            return self.parts.port or default
        except ValueError:
            raise OpshError(f"bad port in {self.url}") from None

    @property
    def path(self) -> str:
        return urllib.parse.unquote(self.parts.path.lstrip("/"))

    def get_password(self) -> str:
        """The configured password, else a hidden prompt (or a clear error in scripts)."""
        if self.password is None:
            if self.ask_password is None:
                raise OpshError("a password is required", "set password_env for this connection in the config")
            self.password = self.ask_password()
        return self.password


def split_url(url: str) -> tuple[str, str | None]:
    """(url without password, password or None)."""
    parts = urllib.parse.urlsplit(url)
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    return redact_url(url), password


class Handle:
    """Base of every backend connection; also the mode it gives the prompt.

    The one reconnect path of every backend is here (`connection_guard`): a backend names the
    exceptions that mean its connection is gone (`connection_errors`), how to drop the
    connection and what state died with it (`drop`), and how to open a new one (`reconnect`).
    """

    kind: str = "handle"
    # Backslash words this mode handles itself (e.g. SQL's \d, \G, \timing) instead of the shell.
    meta_commands: tuple[str, ...] = ()
    # What the server is called in messages (`cannot reach redis at ...`) and where it is.
    server_name: str = ""
    address: str = ""

    def __init__(self, name: str, endpoint: str, *, readonly: bool = False, tag: str | None = None) -> None:
        self.name = name
        self.endpoint = endpoint
        # The URL it was opened with, password removed (`record` writes `connect URL` from it).
        self.url = ""
        self.readonly = readonly
        self.tag = tag
        self.opened_at = time.time()
        # The connection failed during a command and was dropped: the next command reconnects.
        self.lost = False

    # -- connection
    def ping(self) -> None:
        """Raise if the connection is unusable; `status` times this call."""

    def state(self) -> str:
        return "open"

    def close(self) -> None:
        """Release the connection; must not raise."""

    # -- mode
    def prompt_label(self) -> str:
        return f"{self.kind}:{self.name}"

    def toolbar(self) -> str:
        """Extra mode state for the bottom toolbar (autocommit, db number...)."""
        return ""

    def hint(self, text_before_cursor: str) -> str:
        """Grey text shown after the cursor while typing (Redis: the arguments still to come).
        Runs at every keystroke: it must never talk to the server or raise."""
        return ""

    def lexer(self) -> Lexer | None:
        return None

    def completer(self, session: Session) -> Completer | None:
        return None

    def next_statement(self, text: str) -> Statement | None:
        """The first statement of `text`, or None when it is not finished yet (the mode wants
        more lines). Never raises: it also runs on every keystroke, for completion."""
        statement, terminator, rest = split_unquoted(text, ";\n")
        return Statement.cut(statement, rest, terminator)

    def current_statement(self, text_before_cursor: str) -> str:
        """The statement the cursor is in, as this mode splits statements: what a completer
        looks at (earlier statements on the line dropped)."""
        return statement_at_end(text_before_cursor, self.next_statement)

    def expand(self, text: str, lookup: Lookup) -> str:
        """`${var}` in a statement of this mode (SQL adds quoted forms, SSH quotes for the shell)."""
        return expand_text(text, lookup)

    def execute(self, session: Session, statement: str) -> Result:
        """Run one statement's text: terminator and redirect are gone, `${var}` expanded."""
        raise OpshError(f"{self.kind} handles take no statements", "use \\q to go back to local")

    def rollback_open_transaction(self) -> bool:
        """Roll back a transaction left open (a batch run stopped or ended inside it); True
        when there was one. Backends without transactions have nothing to do."""
        return False

    def cancel(self) -> None:
        """Called after Ctrl-C interrupted `execute()`: stop the server-side work."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "endpoint": self.endpoint}

    # -- the one reconnect path
    def run(self, session: Session, statement: str) -> Result:
        """What the Engine calls for a statement: `execute()` inside the connection guard."""
        with self.connection_guard():
            return self.execute(session, statement)

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        """Exceptions that mean the connection is gone (the driver's and the socket's).
        A backend that names none keeps its own handling: the guard lets everything through."""
        return ()

    def drop(self) -> list[str]:
        """Close the dead connection without raising; return what died with it, as sentences
        for the user ("task 7 of jobs went back to the queue"), and forget it."""
        self.close()
        return []

    def reconnect(self) -> None:
        """Open a new connection after `drop()` (same credentials, same database)."""

    def connection_stale(self) -> bool:
        """Whether the idle connection was closed by the server meanwhile (a restart, an idle
        timeout): checked before each command, so that the command goes out on a new one."""
        return False

    @contextmanager
    def connection_guard(self) -> Iterator[None]:
        """Reconnect first if the last command lost the connection; if this one loses it, drop
        the connection, forget what died with it and say so in one line."""
        errors = self.connection_errors()
        if not errors:
            yield
            return
        try:
            if self.lost:
                self.reconnect()
                self.lost = False
            elif self.connection_stale():
                self._replace_stale()
            yield
        except errors as exc:
            already_lost = self.lost
            self.lost = True
            forgotten = [] if already_lost else self.drop()
            raise self.lost_error(forgotten, exc) from exc

    def _replace_stale(self) -> None:
        """A connection found closed before anything was sent: replaced at once when nothing
        died with it, else the loss is said and the command is not sent."""
        forgotten = self.drop()
        if forgotten:
            self.lost = True
            raise self.lost_error(forgotten)
        self.reconnect()

    def lost_error(self, forgotten: list[str], cause: BaseException | None = None) -> ConnectionLost:
        where = f"{self.server_name or self.kind} at {self.address or self.endpoint}"
        if isinstance(cause, ProtocolBroken):
            died = "".join(f"; {sentence}" for sentence in forgotten)
            return ConnectionLost(
                f"protocol error from {where}: {cause}{died}", "the connection was reset; the next command reconnects"
            )
        if not forgotten:
            return ConnectionLost(f"cannot reach {where}", "is it running?")
        return ConnectionLost(
            f"lost the connection to {where}: {'; '.join(forgotten)}", "is it running? the next command reconnects"
        )


def peer_closed(sock: Any) -> bool:
    """Whether the other end closed this idle socket (it is readable and reads as the end);
    None (not connected yet) is not closed: the driver connects by itself."""
    import select
    import socket

    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def split_unquoted(text: str, separators: str) -> tuple[str, str, str]:
    """(before, the separator found or "", after): split at the first separator outside '...' and
    "..." (backslash escapes inside quotes)."""
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in separators:
            return text[:i], ch, text[i + 1 :]
        i += 1
    return text, "", ""
