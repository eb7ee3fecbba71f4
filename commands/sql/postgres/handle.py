"""The PostgreSQL handle: SQL mode (commands/sql/handle.py) on psycopg 3.

Statements run on SQL mode's worker thread (runner.py): queries through a server-side cursor,
the rest as one statement (cursor.py). Ctrl-C asks the server to cancel (libpq's cancel
request, on a connection of its own) and the session and its connection stay. The prompt
shows a transaction as psql's %x does: `*` open, `!` failed (ROLLBACK ends it). A connection
the server closed is noticed before the next statement is sent and replaced; one lost during a
statement is replaced too, and only a read outside a transaction runs again.

`COPY ... FROM stdin` takes the data lines that follow it (a pg_dump file loads through
`source`), `COPY ... TO STDOUT` prints, and CSV output of a query is the server's own COPY.
psql's meta commands are in meta.py, `\\copy` in copying.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.sql import guard as shared_guard
from opsh.commands.sql.guard import Verdict
from opsh.commands.sql.handle import TERMINATOR_WORDS
from opsh.commands.sql.postgres import cursor as pgcursor
from opsh.commands.sql.postgres.connect import Target, endpoint_of
from opsh.commands.sql.postgres.guard import declarable, verdict
from opsh.commands.sql.postgres.render import rows_for, typed
from opsh.commands.sql.postgres.syntax import (
    END_OF_DATA,
    META_WORDS,
    POSTGRES,
    WHOLE_LINE,
    is_copy_from_stdin,
    is_copy_to_stdout,
    skip_comments,
    split_copy_data,
    whole_line,
    with_data,
)
from opsh.commands.sql.render import Presentation, present
from opsh.commands.sql.runner import ResultSet, Run
from opsh.commands.sql.schema import Schema
from opsh.commands.sql.serverhandle import ServerHandle
from opsh.commands.sql.syntax import End, words
from opsh.commands.sql.variables import literal
from opsh.shell.errors import ConnectError, UsageError, swallowed
from opsh.shell.result import Result

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from psycopg import Connection

    from opsh.shell.lineparse import Lookup
    from opsh.shell.session import Session

CHUNK = 2000  # rows per FETCH
DEATH_RATTLE = 0.1  # seconds to wait for the close after an idle connection got a message


@dataclass
class PgPrefs:
    """psql's display switches, shared by the session's PostgreSQL handles."""

    expanded: str = "off"  # \x: on | off | auto


class PgHandle(ServerHandle):
    kind = "postgres"
    dialect = POSTGRES
    server_name = "postgres"
    meta_words = META_WORDS
    meta_commands = META_WORDS + TERMINATOR_WORDS

    def __init__(self, name: str, target: Target, conn: Connection[Any], *, readonly: bool, tag: str | None) -> None:
        super().__init__(name, target.endpoint, readonly=readonly, tag=tag)
        self.target = target
        self.conn: Connection[Any] | None = conn
        self.database = conn.info.dbname
        self.address = _address(conn)
        self.notices: list[str] = []
        self.last_statement = ""
        self.restricted: str | None = None  # psql's \restrict KEY: meta commands refused until \unrestrict
        self._gate: pgcursor.Gate | None = None
        self._watch(conn)
        self.refresh_schema()

    # ------------------------------------------------------------ connection

    def prompt_label(self) -> str:
        label = f"postgres:{self.name}"
        if self.database and self.database != self.name:
            label += f"/{self.database}"
        return label + self._transaction_mark()

    def _transaction_mark(self) -> str:
        status = self._status()
        if status == "INTRANS":
            return "*"
        if status == "INERROR":
            return "!"
        return ""

    def _status(self) -> str:
        conn = self.conn
        if conn is None or conn.closed:
            return "UNKNOWN"
        return conn.info.transaction_status.name

    def toolbar(self) -> str:
        text = super().toolbar()
        if self._status() == "INERROR":
            text = text.replace("in transaction", "transaction failed (ROLLBACK ends it)")
        return text

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "database": self.database}

    def state(self) -> str:
        if not self.connected():
            return "disconnected"
        if self._status() == "INERROR":
            return "open, transaction failed"
        return super().state()

    def connected(self) -> bool:
        return not self._dead()

    def ping(self) -> None:
        """A round trip, for `status` (none in a failed transaction: any query would fail)."""
        self._settle()
        if self.conn is None or self._dead():
            raise ConnectError("not connected", "the next statement reconnects")
        if self._status() != "INERROR":
            self.conn.execute("SELECT 1")

    def close(self) -> None:
        try:
            self._settle()
        finally:
            conn, self.conn = self.conn, None
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001 - closing a dead connection must not fail
                    swallowed("closing a PostgreSQL connection")

    def in_transaction(self) -> bool:
        return self._status() in ("INTRANS", "INERROR")

    def rollback(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")

    def _dead(self) -> bool:
        """Whether the idle connection is unusable: closed, or the server hung up on it (an
        idle connection has nothing to read unless the server said goodbye)."""
        conn = self.conn
        if conn is None or conn.closed or conn.broken:
            return True
        if self._run is not None and not self._run.finished:
            return False
        import select

        pgconn, wait = conn.pgconn, 0.0
        try:
            # A server going away says so first (a WARNING) and then closes: read until quiet.
            while select.select([pgconn.socket], [], [], wait)[0]:
                pgconn.consume_input()
                wait = DEATH_RATTLE
        except Exception:  # noqa: BLE001 - whatever failed, the connection is gone
            swallowed("checking whether the idle PostgreSQL connection is still open")
            return True
        return bool(pgconn.status != 0 or pgconn.get_result() is not None)

    def _watch(self, conn: Connection[Any]) -> None:
        conn.add_notice_handler(self._notice)

    def _notice(self, diag: Any) -> None:
        self.notices.append(f"{diag.severity}:  {diag.message_primary}")

    def _reconnect(self, database: str | None = None) -> None:
        old, self.conn = self.conn, None
        if old is not None:
            try:
                old.close()
            except Exception:  # noqa: BLE001 - it is already gone
                swallowed("dropping a lost PostgreSQL connection before reconnecting")
        conn = self.target.connect(database)
        self._watch(conn)
        self.conn = conn

    def switch_database(self, database: str) -> str:
        """psql's `\\c DB`: a new connection to `database`; the old one stays if that fails."""
        self._settle()
        conn = self.target.connect(database)
        self._watch(conn)
        old, self.conn = self.conn, conn
        if old is not None:
            try:
                old.close()
            except Exception:  # noqa: BLE001 - replaced anyway
                swallowed("closing the connection \\c replaced")
        self.target.database = self.database = conn.info.dbname
        self.endpoint = endpoint_of(conn)
        self.schema_changed()
        return f'You are now connected to database "{conn.info.dbname}" as user "{conn.info.user}".'

    def connection(self) -> Connection[Any]:
        """The open connection (a new one if it was closed), for meta commands and COPY."""
        if self.conn is None or self.conn.closed:
            self._reconnect()
        assert self.conn is not None
        return self.conn

    def _discard_connection(self, run: Run) -> None:
        """A statement that would not stop still holds the connection: give it up (the worker
        closes it when the driver returns); the next statement opens a new one."""
        conn, self.conn = self.conn, None
        if conn is not None:
            run.abandon(conn.close)

    # ------------------------------------------------------------ running

    def _start(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Run:
        if isinstance(sql, bytes):
            sql = _utf8(sql)
        conn, gate = self.connection(), pgcursor.Gate()
        return Run(lambda: pgcursor.plain(conn, sql, params, gate), _interrupt(conn, gate), info=_command_tag)

    def _start_portal(self, sql: str, gate: pgcursor.Gate) -> Run:
        conn = self.connection()
        return Run(lambda: pgcursor.Portal(conn, sql, gate), _interrupt(conn, gate), chunk=CHUNK)

    def _prepare(self, session: Session, info: Verdict, text: str) -> str:
        shared_guard.check(session, self.name, self.readonly, info, text)
        return text

    def classify(self, text: str) -> Verdict:
        """PostgreSQL's verdict (guard.py), from the statement alone: COPY's data is not read."""
        return verdict(split_copy_data(text)[0] if _is_copy(text) else text)

    def expand(self, text: str, lookup: Lookup) -> str:
        """`${var}` and `:'var'` in the statement; COPY's data is data, left as it is."""
        head, data = split_copy_data(text) if _is_copy(text) else (text, None)
        expanded = super().expand(head, lookup)
        return expanded if data is None else f"{expanded};\n{data}{END_OF_DATA}"

    def first_code(self, text: str, start: int, stop: int) -> int:
        return min(skip_comments(text, start), stop)

    def _statement(self, session: Session, text: str, csv_null: str | None = None, raw: bytes | None = None) -> Result:
        if raw is not None:
            text = _utf8(raw)  # a file's bytes (source): PostgreSQL takes text in the client encoding
        command, data = split_copy_data(text) if _is_copy(text) else (text, None)
        info = verdict(command)
        text = self._prepare(session, info, text)
        self.last_statement = command
        self.notices.clear()
        if info.verb == "use":
            return self.use_database(session, text.split(None, 1)[-1].strip().strip('"'))
        if info.verb == "copy":
            copied = self._copy_statement(command, data)
            if copied is not None:
                return copied
        shown = self._presentation(session)
        if csv_null is not None:
            shown.csv_null = csv_null
        run, head, shown.note = self._first_run(info, text, declarable(text, info))
        result = present(run, head, shown)
        if result.headers is not None:
            expanded = session.area("postgres", PgPrefs).expanded == "on"
            self._adapt(result, self._gate, text, shown, expanded)
        self._after(info, result)
        return result

    def _presentation(self, session: Session) -> Presentation:
        shown = super()._presentation(session)
        if session.area("postgres", PgPrefs).expanded == "auto":
            shown.auto_vertical = True
        return shown

    def _after(self, info: Verdict, result: Result) -> None:
        """Notices, and the completion schema after DDL."""
        if self.notices:
            result.notice = "\n".join(self.notices)
            self.notices.clear()
        if info.schema_change:
            if self.in_transaction():
                self._refresh_on_commit = True
            self.schema_changed()
        elif info.kind == "tx" and self._refresh_on_commit and not self.in_transaction():
            self._refresh_on_commit = False
            self.schema_changed()

    def _open_run(self, text: str, portal: bool) -> Run:
        """The statement on the worker: through a server-side cursor (`portal`), or as is."""
        self._gate = pgcursor.Gate() if portal else None
        return self._start_portal(text, self._gate) if self._gate is not None else self._start(text)

    def _first_run(self, info: Verdict, text: str, portal: bool) -> tuple[Run, ResultSet | None, str | None]:
        return self._reviving(info, lambda: self._open_run(text, portal))

    def _is_loss(self, exc: BaseException) -> bool:
        conn = self.conn
        return conn is None or conn.closed or conn.broken


    def query(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A catalog query of a meta command: (headers, all rows), still cancellable."""
        return self._query(sql, params)

    # ------------------------------------------------------------ output

    def _adapt(
        self, result: Result, gate: pgcursor.Gate | None, text: str, shown: Presentation, expanded: bool
    ) -> None:
        """JSON gets typed booleans; CSV of a query is the server's COPY; `\\x on` shows what
        would be a table vertically (files and other formats keep theirs); rows are read only
        once the output is chosen (or when someone reads them without choosing)."""
        shared = result.present
        stream = result.rows

        def adapt(fmt: str, sink: Any) -> str | bytes | Iterable[str] | None:
            if gate is not None and fmt == "csv":
                return self._csv_by_copy(result, text, shown, sink)
            if gate is not None:
                gate.open()
            if expanded and fmt == "table":
                from opsh.commands.sql.render import distinct
                from opsh.shell.render import render

                render(Result.table(distinct(result.headers or []), stream or []), "vertical", sink)
                return ""
            result.rows = rows_for(stream, fmt)
            return shared(fmt, sink) if shared is not None else None

        result.present = adapt
        if stream is not None:
            result.rows = _Opening(stream, gate)

    def _csv_by_copy(self, result: Result, text: str, shown: Presentation, sink: Any) -> str:
        """The query's CSV as the server writes it (`COPY (query) TO STDOUT`): the portal is
        closed without having read a row, then COPY runs the query once."""
        run, gate = self._run, self._gate
        if run is not None and gate is not None:
            gate.skip()
            for _ in run.chunks():
                pass
            while run.next_set() is not None:
                pass
            self._settle()  # the worker ends the cursor's transaction before COPY goes out
        options = "FORMAT csv, HEADER" + (f", NULL {literal(shown.csv_null, POSTGRES)}" if shown.csv_null else "")
        count = pgcursor.copy_out(self.connection(), f"COPY ({text}\n) TO STDOUT ({options})", sink.write_bytes)
        rows = f"{count} row{'s' if count != 1 else ''}"
        result.status = f"{rows} in {time.perf_counter() - shown.started:.3f}s" if shown.timing else rows
        return ""

    def _copy_statement(self, head: str, data: str | None) -> Result | None:
        """COPY ... FROM stdin (its data from the lines after it) and COPY ... TO STDOUT; None
        for a COPY that reads or writes a server-side file (an ordinary statement)."""
        toks = words(head, POSTGRES)
        if is_copy_from_stdin(toks):
            if data is None:
                raise UsageError("COPY ... FROM stdin needs its data", "the lines after it, ending with a line \\.")
            started = time.perf_counter()
            count = pgcursor.copy_in(self.connection(), head, [data.encode()])
            return Result.empty(status=f"COPY {count} in {time.perf_counter() - started:.3f}s")
        if is_copy_to_stdout(toks):
            return self.copy_to_result(head)
        return None

    def copy_to_result(self, sql: str) -> Result:
        """A COPY ... TO STDOUT's output, written as the server sends it when it is shown."""
        result = Result.of_stream([])

        def write(fmt: str, sink: Any) -> str:
            count = pgcursor.copy_out(self.connection(), sql, sink.write_bytes)
            result.status = f"COPY {count}"
            return ""

        result.present = write
        return result

    # ------------------------------------------------------------ mode

    def split_at(self, text: str, start: int, delimiter: str) -> End | None:
        """A meta command after comments is still one (pg_dump writes `--` lines before its
        `\\restrict`); `\\copy` takes its line; COPY ... FROM stdin takes its data."""
        code = skip_comments(text, start)
        if text.startswith("\\", code):
            if text[code:].split(None, 1)[0] in WHOLE_LINE:
                return whole_line(text, code)
            start = code
        end = super().split_at(text, start, delimiter)
        return None if end is None else with_data(end)

    def completer(self, session: Session) -> Completer | None:
        if self._completer is None:
            from opsh.commands.sql.postgres.complete import PgCompleter

            self._completer = PgCompleter(self)
            self._background = session.background
            self.refresh_schema()
        return self._completer

    def _load_schema(self) -> Callable[[], Schema]:
        from opsh.commands.sql.postgres.catalog import loader

        return loader(self.target, self.database)

    def _meta_result(self, session: Session, word: str, argument: str) -> Result:
        from opsh.commands.sql.postgres.meta import run_meta

        found = run_meta(self, session, word, argument)
        return found if found is not None else super()._meta_result(session, word, argument)

    def _meta(self, session: Session, text: str) -> Result:
        word, _, argument = text.partition(" ")
        if self.restricted is not None and word != "\\unrestrict":
            from opsh.shell.errors import UsageError

            raise UsageError(f"{word}: meta commands are restricted (\\restrict)", "\\unrestrict KEY ends that")
        if word in ("\\i", "\\ir", "\\include"):
            return self.source(session, argument.strip())
        return super()._meta(session, text)

    def list_tables(self, session: Session) -> Result:
        from opsh.commands.sql.postgres.meta import relations

        return relations(self, "t", "")

    def describe_table(self, session: Session, name: list[str]) -> Result:
        from opsh.commands.sql.postgres.meta import describe

        return describe(self, ".".join(name), plus=False)

    def list_databases(self, session: Session) -> Result:
        from opsh.commands.sql.postgres.meta import databases

        return databases(self, plus=False)

    def use_database(self, session: Session, name: str) -> Result:
        return Result.empty(status=self.switch_database(name))


class _Opening:
    """A result's rows read without choosing a format (the fan-out's merge): they open the
    gate, come typed as MySQL's do then (a merged JSON has booleans, a merged table `true`),
    and close the stream (cancel) when closed."""

    def __init__(self, rows: Any, gate: pgcursor.Gate | None) -> None:
        self.rows = rows
        self.gate = gate

    def __iter__(self) -> Any:
        if self.gate is not None:
            self.gate.open()
        return map(typed, self.rows)

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def _is_copy(text: str) -> bool:
    """A COPY (after any comments): its data, if any, must not be read as SQL."""
    start = skip_comments(text, 0)
    return text[start : start + 4].lower() == "copy"


def _interrupt(conn: Connection[Any], gate: pgcursor.Gate) -> Callable[[], None]:
    """Ctrl-C: the server is asked to cancel only while it works for the statement."""

    def interrupt() -> None:
        gate.abort(lambda: pgcursor.cancel(conn))

    return interrupt


def _command_tag(cursor: Any) -> str:
    """The server's command tag of a statement without rows (`INSERT 0 1`, `CREATE TABLE`)."""
    return str(getattr(cursor, "statusmessage", "") or "")


def _address(conn: Connection[Any]) -> str:
    host = conn.info.host
    return f"{host} port {conn.info.port}" if host.startswith("/") else f"{host}:{conn.info.port}"


def _utf8(raw: bytes) -> str:
    """A statement read as bytes (a .sql file), as the UTF-8 text the connection speaks."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"the statement is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "PostgreSQL takes text in the client encoding, UTF-8 here: write bytea values as '\\x...' hex",
        ) from None
