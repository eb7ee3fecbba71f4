"""SQL mode, shared by MySQL/MariaDB and SQLite: the handle both backends subclass.

A backend (mysql.py, sqlite.py) says how to connect, run a statement on a worker (`_start`),
describe its tables and load its schema; everything a user sees the same way on both is here
or beside it: where statements end (syntax.py, with the delimiter in force), the mysql
client's line commands (`DELIMITER`, `use`, `source` / `\\.`), `\\d`, `\\W` and `\\timing`,
the readonly and confirmation guards (guard.py), streamed result tables and the status line
(render.py), .sql files (source.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.sql import guard
from opsh.commands.sql.guard import Verdict, classify
from opsh.commands.sql.help import mode_help
from opsh.commands.sql.render import Presentation, fit_description, present
from opsh.commands.sql.runner import ResultSet, Run
from opsh.commands.sql.schema import Schema, SchemaCache
from opsh.commands.sql.syntax import (
    DEFAULT_DELIMITER,
    MYSQL,
    Dialect,
    End,
    delimiter_argument,
    find_end,
    first_token,
    name_at,
)
from opsh.shell import formats
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
META_WORDS = ("\\d", "\\dt", "\\l", "\\u", "\\timing", "\\W", "\\w", "\\T", "\\.", "\\?")
TERMINATOR_WORDS = ("\\G", "\\g", "\\c")
FORMATS = formats.names()  # what `\\d TABLE --format F` takes
_CODE = re.compile(r"\S")
_AHEAD_KEY = 40  # characters of the following text that identify it (with its length)


@dataclass
class SqlPrefs:
    """SQL settings of the session (shared by its SQL handles)."""

    timing: bool = True
    show_warnings: bool = False  # \W: SHOW WARNINGS after a statement that had any


class SqlHandle(Handle):
    dialect: Dialect = MYSQL
    meta_words: tuple[str, ...] = META_WORDS  # backslash words that are one line of their own
    meta_commands: tuple[str, ...] = META_WORDS + TERMINATOR_WORDS

    def __init__(self, name: str, endpoint: str, *, readonly: bool = False, tag: str | None = None) -> None:
        super().__init__(name, endpoint, readonly=readonly, tag=tag)
        self.schemas = SchemaCache()
        self.delimiter = DEFAULT_DELIMITER
        self._run: Run | None = None
        self._completer: Completer | None = None
        self._lexer: Lexer | None = None
        self._refresh_on_commit = False
        self._sourcing = 0  # depth of `source` files running (schema reloads wait for the end)
        self._refresh_waiting = False
        # A DELIMITER line that was split but has not run yet (Enter and Tab look at a whole
        # pasted block): the text after it, and the delimiter it sets for that text.
        self._ahead: tuple[int, str, str] | None = None
        # Where schema loads run; None until completion is first asked for, so a batch run
        # (which never completes) starts no loader thread at all.
        self._background: Background | None = None

    # ------------------------------------------------------------ what backends provide

    def _start(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Run:
        """Start `sql` on a worker thread (the connection is free when this is called). Bytes
        are a statement as a file holds them (`source`), to send unchanged."""
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

    def connected(self) -> bool:
        """Whether the connection looks usable, without a round trip (for the toolbar)."""
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

    def _discard_connection(self, run: Run) -> None:
        """The worker is stuck on the connection: give it up (the backend reconnects later)."""

    def _prepare(self, session: Session, info: Verdict, text: str) -> str:
        """Refusals and questions before a statement runs; the text to send (backends may
        add checks of their own and rewrite it)."""
        guard.check(session, self.name, self.readonly, info, text)
        return text

    def _warnings(self) -> Result | None:
        """SHOW WARNINGS for \\W (backends that have warnings)."""
        return None

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

    def schema_changed(self) -> None:
        """Reload the completion snapshot, once at the end when a .sql file is running."""
        if self._sourcing:
            self._refresh_waiting = True
        else:
            self.refresh_schema()

    def toolbar(self) -> str:
        if not self.connected():
            parts = ["disconnected"]
        elif self.in_transaction():
            parts = ["in transaction"]
        else:
            parts = ["autocommit" if self.autocommit() else "autocommit off"]
        if self.delimiter != DEFAULT_DELIMITER:
            parts.append(f"delimiter {self.delimiter}")
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
        code = _CODE.search(text)
        start = code.start() if code else len(text)
        delimiter = self._delimiter_for(text, start)
        end = self.split_at(text, start, delimiter)
        if end is None:
            return None
        statement = self.statement_of(end)
        after = delimiter_argument(statement.text) if _is_delimiter_line(statement.text) else delimiter
        self._remember_ahead(end, after)
        return statement

    def split_at(self, text: str, start: int, delimiter: str) -> End | None:
        """The end of the statement starting at `start` (a meta line, or SQL up to `delimiter`)."""
        if text.startswith("\\", start) and _meta_word(text[start : start + 16]) in self.meta_words:
            return _meta_end(text, start)
        return find_end(text, self.dialect, delimiter, start)

    def statement_of(self, end: End, with_rest: bool = True) -> Statement:
        """The Statement `end` delimits; without its rest for a caller that walks a whole file
        by offsets (copying the rest of a large file after each statement is quadratic)."""
        body = end.statement
        vertical = end.terminator == VERTICAL
        rest = end.rest if with_rest else ""
        if body.startswith("\\"):
            return Statement.cut(body, rest, end.terminator, vertical=vertical)
        redirect, at = None, end.redirect_at
        if at is not None:
            body, redirect = body[:at].rstrip(), redirect_from(body[at:])
        return Statement(body, rest, end.terminator, redirect, vertical=vertical)

    def first_code(self, text: str, start: int, stop: int) -> int:
        """Where the statement's first code character is (after comments), for line numbers."""
        tok = first_token(text, self.dialect, start, stop)
        return tok.start if tok is not None else start

    def _delimiter_for(self, text: str, start: int) -> str:
        ahead = self._ahead
        if ahead is not None and ahead[0] == len(text) - start and text.startswith(ahead[1], start):
            return ahead[2]
        return self.delimiter

    def _remember_ahead(self, end: End, delimiter: str) -> None:
        if delimiter == self.delimiter:
            self._ahead = None
            return
        code = _CODE.search(end.text, end.stop)
        start = code.start() if code else len(end.text)
        self._ahead = (len(end.text) - start, end.text[start : start + _AHEAD_KEY], delimiter)

    # ------------------------------------------------------------ running

    def execute(
        self, session: Session, statement: str, csv_null: str | None = None, raw: bytes | None = None
    ) -> Result:
        """Run one statement; `csv_null` overrides the csv_null setting (the sql command's --null).
        `raw` is the statement's bytes as a file holds them (`source`): opsh reads `statement`,
        the server gets `raw`, as the mysql client sends a file's bytes (a BLOB in a dump)."""
        self._settle()
        text = statement.strip()
        if not text:
            return Result.empty()
        if text.startswith("\\"):
            return self._meta(session, text)
        if _is_delimiter_line(text):
            self.delimiter = delimiter_argument(text)
            return Result.empty(status=f"delimiter {self.delimiter}")
        if _first_word(text) == "source":
            return self.source(session, text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else "")
        return self._statement(session, text, csv_null, raw)

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
            self._discard_connection(run)

    def classify(self, text: str) -> Verdict:
        """What the statement does (guard.py); a backend may read its dialect's statements its
        own way (PostgreSQL: DO writes, COPY's data is no SQL)."""
        return classify(text, self.dialect)

    def _statement(self, session: Session, text: str, csv_null: str | None = None, raw: bytes | None = None) -> Result:
        info = self.classify(text)
        prepared = self._prepare(session, info, text)
        if info.verb == "use":
            return self.use_database(session, name_at(prepared, self.dialect, 1)[-1])
        shown = self._presentation(session)
        if csv_null is not None:
            shown.csv_null = csv_null
        sent: str | bytes = raw if raw is not None and prepared == text else prepared
        run, head, shown.note = self._first_result(info, sent)
        result = present(run, head, shown)
        if info.schema_change:
            if self.in_transaction():
                self._refresh_on_commit = True
            self.schema_changed()
        elif info.kind == "tx" and self._refresh_on_commit and not self.in_transaction():
            self._refresh_on_commit = False
            self.schema_changed()
        return result

    def _presentation(self, session: Session) -> Presentation:
        prefs = session.area("sql", SqlPrefs)
        settings = session.settings
        return Presentation(
            started=time.perf_counter(),
            timing=prefs.timing,
            csv_null=str(settings.get("csv_null")),
            auto_vertical=bool(settings.get("auto_vertical")),
            after=self._after_warnings if prefs.show_warnings else None,
        )

    def _after_warnings(self, count: int) -> Result | None:
        return self._warnings() if count else None

    def _first_result(self, info: Verdict, text: str | bytes) -> tuple[Run, ResultSet | None, str | None]:
        """Run `text` and wait for its first result; backends may reconnect here."""
        run = self._run = self._start(text)
        return run, run.next_set(), None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A small query of opsh's own (\\d, schema, SHOW WARNINGS): all rows, as values, still
        cancellable."""
        self._settle()
        run = self._run = self._start(sql, params)
        head = run.next_set()
        rows: list[tuple[Any, ...]] = []
        if head is not None and head.headers is not None:
            for chunk in run.chunks():
                rows += chunk
            rows = self._values(head, rows)
        while run.next_set() is not None:
            pass
        return (head.headers or []) if head else [], rows

    def _values(self, head: ResultSet, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """A result's cells as values (MySQL's are the server's text, or its bytes)."""
        return rows

    def source(self, session: Session, argument: str) -> Result:
        """`source FILE [--keep-going]` / `\\. FILE`: run a .sql file statement by statement."""
        from opsh.commands.sql.source import parse_request, run_file

        request = parse_request(argument)
        self._sourcing += 1
        try:
            return run_file(self, session, request, self._sourcing)
        finally:
            self._sourcing -= 1
            if not self._sourcing and self._refresh_waiting:
                self._refresh_waiting = False
                self.refresh_schema()

    # ------------------------------------------------------------ meta commands

    def _meta(self, session: Session, text: str) -> Result:
        word, _, argument = text.partition(" ")
        argument = argument.strip().rstrip(";").strip()
        if word == "\\.":
            return self.source(session, argument)
        argument, fmt = _format_option(argument)
        result = self._meta_result(session, word, argument)
        if fmt:
            result.force_format = fmt
        return result

    def _meta_result(self, session: Session, word: str, argument: str) -> Result:
        if word == "\\c":  # from `sql "\\c"`: in the mode the Engine discards it before execute()
            return Result.empty(status="statement discarded")
        if word == "\\?":
            return mode_help()
        if word in ("\\timing", "\\W", "\\w"):
            return _toggle(session, word, argument)
        if word == "\\T":
            return _table_style(session, argument)
        if word in ("\\d", "\\dt"):
            if argument and word == "\\d":
                described = self.describe_table(session, name_at(argument, self.dialect, 0))
                boxed = session.settings.get("table_style") == formats.BOX
                return fit_description(described, bool(session.settings.get("auto_vertical")), boxed)
            return self.list_tables(session)
        if word == "\\l":
            return self.list_databases(session)
        if word == "\\u":
            if not argument:
                raise UsageError("\\u needs a database name", "e.g. \\u shop")
            return self.use_database(session, name_at(argument, self.dialect, 0)[-1])
        raise UsageError(f"unknown SQL mode command {word}", "\\? lists them")


def _toggle(session: Session, word: str, argument: str) -> Result:
    """\\timing [on|off]; \\W (warnings shown after each statement) and \\w (not)."""
    prefs = session.area("sql", SqlPrefs)
    if word == "\\timing":
        if argument not in ("", "on", "off"):
            raise UsageError("\\timing takes on or off")
        prefs.timing = (argument == "on") if argument else not prefs.timing
        return Result.empty(status=f"timing {'on' if prefs.timing else 'off'}")
    prefs.show_warnings = word == "\\W"
    return Result.empty(status=f"warnings {'shown' if prefs.show_warnings else 'not shown'} after each statement")


def _table_style(session: Session, argument: str) -> Result:
    """`\\T STYLE`, as in mycli: the look of tables, the same setting `set table_style` sets."""
    if not argument:
        current = session.settings.display("table_style")
        return Result.of_text(f"table_style = {current}; \\T takes one of {', '.join(formats.table_styles())}")
    session.settings.set("table_style", argument)
    return Result.empty(status=f"table_style = {session.settings.display('table_style')}")


def _format_option(argument: str) -> tuple[str, str | None]:
    """`\\d users --format json`: the meta command's argument and the format it asks for."""
    match = re.search(r"(?:^|\s)--format(?:=|\s+)(\S+)\s*$", argument)
    if match is None:
        return argument, None
    fmt = match.group(1)
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", f"one of: {', '.join(FORMATS)}")
    return argument[: match.start()].strip(), fmt


def _first_word(text: str) -> str:
    match = re.match(r"\s*([A-Za-z]+)\b", text)
    return match.group(1).lower() if match else ""


def _is_delimiter_line(text: str) -> bool:
    return _first_word(text) == "delimiter"


def _meta_word(text: str) -> str:
    word = text.split(None, 1)[0] if text.strip() else ""
    return word.split(";", 1)[0]


def _meta_end(text: str, start: int) -> End:
    """`\\d users` and friends: one line, up to a `;`; a trailing `\\G` asks for vertical output."""
    newline = text.find("\n", start)
    line_end = len(text) if newline < 0 else newline
    semicolon = text.find(";", start, line_end)
    cut, stop, terminator = (semicolon, semicolon + 1, ";") if semicolon >= 0 else (line_end, line_end + 1, "\n")
    if newline < 0 and semicolon < 0:
        stop, terminator = line_end, ""
    body = text[start:cut].rstrip()
    if body.endswith(VERTICAL):
        return End(text, start, start + len(body) - len(VERTICAL), stop, VERTICAL)
    return End(text, start, cut, stop, terminator)
