"""SQL mode, shared by MySQL/MariaDB and SQLite: statements, meta commands, guards, results.

A backend says how to connect, run a statement on a worker (`_start`), describe its tables and
load its schema; everything a user sees the same way on both lives here: `;`-terminated
statements over several lines, `\\G`, `\\d`, `\\timing`, the readonly and confirmation guards,
streamed result tables and the status line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.sql.runner import ResultSet, Run
from opsh.commands.sql.safety import Verdict, classify
from opsh.commands.sql.schema import Schema, SchemaCache
from opsh.commands.sql.splitter import MYSQL, Dialect, find_end, words
from opsh.shell.errors import ReadOnly, UsageError
from opsh.shell.handles import Handle
from opsh.shell.lineparse import redirect_from
from opsh.shell.result import Result
from opsh.shell.statement import Statement

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.session import Session

VERTICAL = "\\G"
META_WORDS = ("\\d", "\\dt", "\\l", "\\u", "\\timing", "\\?")
TERMINATOR_WORDS = ("\\G", "\\g", "\\c")

MODE_HELP = """\
SQL mode: statements end with `;` and may span lines; several may share a line.
  SELECT ... \\G        end with \\G instead of ; for vertical output (one field per line)
  SELECT ... \\> f.csv; write the result to a file (.csv/.json pick the format), \\| cmd pipes it
  \\c                   discard the statement being typed
  \\d [TABLE]           tables, or one table's columns, keys and indexes (\\dt: tables)
  \\l                   databases;  use DB (or \\u DB) switches database (MySQL)
  \\timing [on|off]     show how long statements take in the status line
  begin; ... commit;   transactions (autocommit otherwise; the toolbar shows which)
  \\status, \\q, \\help   any other backslash line is an opsh command (\\q: back to local)
DROP, TRUNCATE, DELETE/UPDATE without WHERE and ALTER ... DROP ask first (scripts: --yes);
a readonly handle (connect --readonly, or readonly = true in the config) refuses writes.
Ctrl-C cancels the running statement (KILL QUERY) and keeps the connection.
URLs: mysql://user@host:3306/db (also mariadb://; ?ssl=true, ?ssl_ca=PATH, ?socket=PATH);
sqlite:///relative.db (to the current directory), sqlite:////abs/path.db, sqlite:///:memory:
(the SQLAlchemy convention: three slashes, then the path)."""


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

    # ------------------------------------------------------------ what backends provide

    def _start(self, sql: str, params: tuple[Any, ...] = ()) -> Run:
        """Start `sql` on a worker thread (the connection is free when this is called)."""
        raise NotImplementedError

    def _load_schema(self) -> Callable[[], Schema]:
        """A loader to run on a daemon thread (it must not use the main connection)."""
        raise NotImplementedError

    def in_transaction(self) -> bool:
        return False

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
        self.schemas.refresh(self._load_schema())

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
            from opsh.commands.sql.highlighting import SqlLexer

            self._lexer = SqlLexer(self.dialect.name)
        return self._lexer

    def completer(self, session: Session) -> Completer | None:
        if self._completer is None:
            from opsh.commands.sql.completer import SqlCompleter

            self._completer = SqlCompleter(self)
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
        self._guard(session, info, text)
        if info.verb == "use":
            return self.use_database(session, _name_at(text, self.dialect, 1)[-1])
        started = time.perf_counter()
        run, head, note = self._first_result(info, text)
        result = self._present(session, run, head, started, note)
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

    def _guard(self, session: Session, info: Verdict, text: str) -> None:
        if self.readonly and not info.is_read:
            what = info.refusal or f"{info.verb.upper()} statements"
            raise ReadOnly(
                f"{self.name} is readonly: {what} refused",
                "reconnect without --readonly (or set readonly = false in the config) to write",
            )
        if info.danger:
            session.confirm(f"Run `{_abbreviate(text)}` on {self.name} ({info.danger})?")

    def _present(self, session: Session, run: Run, head: ResultSet | None, started: float, note: str | None) -> Result:
        if head is None:
            return Result.empty(status=note or "")
        timing = session.area("sql", SqlPrefs).timing

        def follow() -> Result | None:
            following = run.next_set()
            return None if following is None else self._present(session, run, following, started, None)

        if head.headers is None:
            status = _affected(head)
            if timing:
                status += f" in {time.perf_counter() - started:.3f}s"
            return Result.empty(status=_join(note, status), then=follow)
        result = Result.table(head.headers, [], then=follow)

        def finished(count: int) -> None:
            status = f"{count} row{'s' if count != 1 else ''}"
            if timing:
                status += f" in {time.perf_counter() - started:.3f}s"
            result.status = _join(note, status)

        result.rows = RowStream(run, finished)
        return result

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
            return Result.of_text(MODE_HELP)
        if word == "\\timing":
            prefs = session.area("sql", SqlPrefs)
            if argument not in ("", "on", "off"):
                raise UsageError("\\timing takes on or off")
            prefs.timing = (argument == "on") if argument else not prefs.timing
            return Result.empty(status=f"timing {'on' if prefs.timing else 'off'}")
        if word in ("\\d", "\\dt"):
            if argument and word == "\\d":
                return self.describe_table(session, _name_at(argument, self.dialect, 0))
            return self.list_tables(session)
        if word == "\\l":
            return self.list_databases(session)
        if word == "\\u":
            if not argument:
                raise UsageError("\\u needs a database name", "e.g. \\u shop")
            return self.use_database(session, _name_at(argument, self.dialect, 0)[-1])
        raise UsageError(f"unknown SQL mode command {word}", "\\? lists them")


class RowStream:
    """The rows of one result for the renderer; closing it early cancels the statement."""

    def __init__(self, run: Run, finished: Callable[[int], None]) -> None:
        self.run = run
        self.count = 0
        self.done = False
        self._finished = finished
        self._rows: Iterator[tuple[Any, ...]] | None = None

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        self._rows = self._generate()
        return self._rows

    def _generate(self) -> Iterator[tuple[Any, ...]]:
        for chunk in self.run.chunks():
            self.count += len(chunk)
            yield from chunk
        self.done = True
        self._finished(self.count)

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # type: ignore[attr-defined]
        if not self.done:
            self.run.cancel()


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


def _name_at(text: str, dialect: Dialect, position: int) -> list[str]:
    """The (possibly qualified) name at word `position`, unquoted: `db`.`t` -> ["db", "t"]."""
    toks = words(text, dialect)
    names: list[list[str]] = []
    index = 0
    while index < len(toks):
        parts = [toks[index].name]
        while index + 2 < len(toks) and toks[index + 1].text == ".":
            parts.append(toks[index + 2].name)
            index += 2
        names.append(parts)
        index += 1
    if len(names) <= position or toks[0].kind == "punct":
        raise UsageError("a name is missing", "e.g. use shop, \\d users")
    return names[position]


def _affected(head: ResultSet) -> str:
    if head.rowcount is None or head.rowcount < 0:
        status = "Query OK"
    else:
        status = f"Query OK, {head.rowcount} row{'s' if head.rowcount != 1 else ''} affected"
    if head.warnings:
        status += f", {head.warnings} warning{'s' if head.warnings != 1 else ''}"
    return status


def _join(note: str | None, status: str) -> str:
    return f"{note}; {status}" if note else status


def _abbreviate(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def describe_result(
    table: str,
    headers: list[str],
    columns: list[tuple[Any, ...]],
    indexes: list[tuple[str, bool, list[str]]],
    foreign: list[tuple[str, str]],
) -> Result:
    """One row per column, with the indexes it is part of and what it references.

    One table (not three) so that `--format json` and `\\> file` get all of it.
    """
    member: dict[str, list[str]] = {}
    for index, unique, names in indexes:
        for position, column in enumerate(names, 1):
            label = index + (" unique" if unique and index != "PRIMARY" else "")
            if len(names) > 1:
                label += f" {position}/{len(names)}"
            member.setdefault(str(column), []).append(label)
    references: dict[str, list[str]] = {}
    for column, target in foreign:
        references.setdefault(str(column), []).append(str(target))
    rows = [
        [*row, ", ".join(member.get(str(row[0]), [])), ", ".join(references.get(str(row[0]), []))] for row in columns
    ]
    status = f"{len(rows)} column{'s' * (len(rows) != 1)} in {table}"
    return Result.table([*headers, "indexes", "references"], rows, status=status)
