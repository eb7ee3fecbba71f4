"""SQL mode, shared by MySQL/MariaDB and SQLite: the handle both backends subclass.

A backend (mysql.py, sqlite.py) says how to connect, run a statement on a worker (`_start`),
describe its tables and load its schema; everything a user sees the same way on both is here
or beside it: where statements end (syntax.py), `\\d` and `\\timing`, the readonly and
confirmation guards (guard.py), streamed result tables and the status line (render.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.sql import guard
from opsh.commands.sql.guard import Verdict, classify
from opsh.commands.sql.help import mode_help
from opsh.commands.sql.render import present
from opsh.commands.sql.runner import ResultSet, Run
from opsh.commands.sql.schema import Schema, SchemaCache
from opsh.commands.sql.syntax import MYSQL, Dialect, find_end, name_at
from opsh.shell.errors import UsageError
from opsh.shell.handles import Handle
from opsh.shell.lineparse import redirect_from
from opsh.shell.result import Result
from opsh.shell.statement import Statement

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.background import Background
    from opsh.shell.lineparse import Lookup
    from opsh.shell.session import Session

VERTICAL = "\\G"
META_WORDS = ("\\d", "\\dt", "\\l", "\\u", "\\timing", "\\?")
TERMINATOR_WORDS = ("\\G", "\\g", "\\c")


@dataclass
class SqlPrefs:
    """SQL settings of the session (shared by its SQL handles)."""

    timing: bool = True


class SqlHandle(Handle):
    dialect: Dialect = MYSQL
    meta_commands = META_WORDS + TERMINATOR_WORDS

    def __init__(self, name: str, endpoint: str, *, readonly: bool = False, tag: str | None = None) -> None:
        super().__init__(name, endpoint, readonly=readonly, tag=tag)
        self.schemas = SchemaCache()
        self._run: Run | None = None
        self._completer: Completer | None = None
        self._lexer: Lexer | None = None
        self._refresh_on_commit = False
        # Where schema loads run; None until completion is first asked for, so a batch run
        # (which never completes) starts no loader thread at all.
        self._background: Background | None = None

    # ------------------------------------------------------------ what backends provide

    def _start(self, sql: str, params: tuple[Any, ...] = ()) -> Run:
        """Start `sql` on a worker thread (the connection is free when this is called)."""
        raise NotImplementedError

    def _load_schema(self) -> Callable[[], Schema]:
        """A loader to run on a daemon thread (it must not use the main connection)."""
        raise NotImplementedError

    def in_transaction(self) -> bool:
        return False

    def rollback_open_transaction(self) -> bool:
        if not self.in_transaction():
            return False
        self._settle()
        self.rollback()
        return True

    def rollback(self) -> None:
        raise NotImplementedError

    def autocommit(self) -> bool:
        return True

    def list_tables(self, session: Session) -> Result:
        raise NotImplementedError

    def describe_table(self, session: Session, name: list[str]) -> Result:
        """Columns, keys and indexes of `name` (["table"] or ["db", "table"])."""
        raise NotImplementedError

    def list_databases(self, session: Session) -> Result:
        raise NotImplementedError

    def use_database(self, session: Session, name: str) -> Result:
        raise UsageError(f"{self.kind} has no databases to switch between")

    def _discard_connection(self) -> None:
        """The worker is stuck on the connection: drop it (the backend reconnects later)."""

    # ------------------------------------------------------------ mode

    @property
    def schema(self) -> Schema:
        return self.schemas.current

    def refresh_schema(self) -> None:
        """Reload the completion schema, if completion is in use (else the first completion
        request loads it)."""
        if self._background is not None:
            self.schemas.refresh(self._load_schema(), self._schema_worker())

    def _schema_worker(self) -> Background | None:
        """Where the load runs: a background thread (SQLite in memory overrides: inline)."""
        return self._background

    def toolbar(self) -> str:
        parts = []
        if self.in_transaction():
            parts.append("in transaction")
        else:
            parts.append("autocommit" if self.autocommit() else "autocommit off")
        state = self.schema.state
        if state == "loading" or state.startswith("failed"):
            parts.append(f"schema {state}")
        return " · ".join(parts)

    def state(self) -> str:
        return "open, in transaction" if self.in_transaction() else "open"

    def lexer(self) -> Lexer | None:
        if self._lexer is None:
            from opsh.commands.sql.complete import SqlLexer

            self._lexer = SqlLexer(self.dialect.name)
        return self._lexer

    def expand(self, text: str, lookup: Lookup) -> str:
        from opsh.commands.sql.variables import expand_sql

        return expand_sql(text, self.dialect, lookup)

    def completer(self, session: Session) -> Completer | None:
        if self._completer is None:
            from opsh.commands.sql.complete import SqlCompleter

            self._completer = SqlCompleter(self)
            self._background = session.background
            self.refresh_schema()
        return self._completer

    def next_statement(self, text: str) -> Statement | None:
        stripped = text.lstrip()
        if stripped.startswith("\\") and _meta_word(stripped) in META_WORDS:
            return _meta_statement(stripped)
        end = find_end(text, self.dialect)
        if end is None:
            return None
        body, redirect = end.statement, None
        if end.redirect is not None:
            body, redirect = body[: end.redirect].rstrip(), redirect_from(body[end.redirect :])
        return Statement(body, end.rest, end.terminator, redirect, vertical=end.terminator == VERTICAL)

    # ------------------------------------------------------------ running

    def execute(self, session: Session, statement: str) -> Result:
        self._settle()
        text = statement.strip()
        if not text:
            return Result.empty()
        return self._meta(session, text) if text.startswith("\\") else self._statement(session, text)

    def cancel(self) -> None:
        """After Ctrl-C: stop the statement server-side and keep the connection if possible."""
        self._settle()

    def _settle(self) -> None:
        """Make sure nothing of an earlier statement still runs on the connection."""
        run, self._run = self._run, None
        if run is None:
            return
        if not run.finished:
            run.cancel()
        if run.stuck:
            self._discard_connection()

    def _statement(self, session: Session, text: str) -> Result:
        info = classify(text, self.dialect)
        guard.check(session, self.name, self.readonly, info, text)
        if info.verb == "use":
            return self.use_database(session, name_at(text, self.dialect, 1)[-1])
        started = time.perf_counter()
        run, head, note = self._first_result(info, text)
        result = present(run, head, started, note, session.area("sql", SqlPrefs).timing)
        if info.schema_change:
            if self.in_transaction():
                self._refresh_on_commit = True
            self.refresh_schema()
        elif info.kind == "tx" and self._refresh_on_commit and not self.in_transaction():
            self._refresh_on_commit = False
            self.refresh_schema()
        return result

    def _first_result(self, info: Verdict, text: str) -> tuple[Run, ResultSet | None, str | None]:
        """Run `text` and wait for its first result; backends may reconnect here."""
        run = self._run = self._start(text)
        return run, run.next_set(), None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A small query of opsh's own (\\d, schema): all rows, still cancellable."""
        self._settle()
        run = self._run = self._start(sql, params)
        head = run.next_set()
        rows: list[tuple[Any, ...]] = []
        if head is not None and head.headers is not None:
            for chunk in run.chunks():
                rows += chunk
        while run.next_set() is not None:
            pass
        return (head.headers or []) if head else [], rows

    # ------------------------------------------------------------ meta commands

    def _meta(self, session: Session, text: str) -> Result:
        word, _, argument = text.partition(" ")
        argument = argument.strip().rstrip(";").strip()
        if word == "\\c":  # from `sql "\\c"`: in the mode the Engine discards it before execute()
            return Result.empty(status="statement discarded")
        if word == "\\?":
            return mode_help()
        if word == "\\timing":
            prefs = session.area("sql", SqlPrefs)
            if argument not in ("", "on", "off"):
                raise UsageError("\\timing takes on or off")
            prefs.timing = (argument == "on") if argument else not prefs.timing
            return Result.empty(status=f"timing {'on' if prefs.timing else 'off'}")
        if word in ("\\d", "\\dt"):
            if argument and word == "\\d":
                return self.describe_table(session, name_at(argument, self.dialect, 0))
            return self.list_tables(session)
        if word == "\\l":
            return self.list_databases(session)
        if word == "\\u":
            if not argument:
                raise UsageError("\\u needs a database name", "e.g. \\u shop")
            return self.use_database(session, name_at(argument, self.dialect, 0)[-1])
        raise UsageError(f"unknown SQL mode command {word}", "\\? lists them")


def _meta_word(text: str) -> str:
    word = text.split(None, 1)[0] if text.strip() else ""
    return word.split(";", 1)[0]


def _meta_statement(text: str) -> Statement:
    """`\\d users` and friends: one line, up to a `;`; a trailing `\\G` asks for vertical output."""
    line, newline, after = text.partition("\n")
    body, semicolon, rest = line.partition(";")
    body = body.strip()
    vertical = body.endswith(VERTICAL)
    if vertical:
        body = body[: -len(VERTICAL)].rstrip()
    if semicolon:
        return Statement.cut(body, rest + newline + after, semicolon, vertical=vertical)
    return Statement.cut(body, after, newline, vertical=vertical)
