"""SQLite through the standard library: the SQL mode that works with no server anywhere.

URLs follow SQLAlchemy's convention: `sqlite:///app.db` is relative to the session's current
directory, `sqlite:////var/lib/app.db` is absolute, `sqlite:///:memory:` (or `sqlite://`) is
an in-memory database. The connection is in autocommit mode (BEGIN starts a transaction);
a readonly handle opens the file with `mode=ro`, so SQLite itself refuses writes too.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.commands.sql import guard
from opsh.commands.sql.guard import Verdict
from opsh.commands.sql.handle import SqlHandle
from opsh.commands.sql.render import describe_result
from opsh.commands.sql.runner import Run
from opsh.commands.sql.schema import Schema
from opsh.commands.sql.sqlitetext import SpelledCursor
from opsh.commands.sql.syntax import SQLITE, words
from opsh.shell.errors import NotFound, UsageError, swallowed
from opsh.shell.handles import ConnectRequest
from opsh.shell.result import Result
from opsh.shell.session import Session

if TYPE_CHECKING:
    from opsh.shell.background import Background

BUSY_TIMEOUT = 5.0
SCHEMA_SQL = (
    "SELECT m.name, m.type, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p"
    " WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name, p.cid"
)


def open_sqlite(session: Session, request: ConnectRequest) -> SqliteHandle:
    if request.options:
        raise UsageError(f"unknown sqlite URL option {next(iter(request.options))!r}")
    path = database_path(session, request.parts.path)
    if path is not None:
        _check_place(path, request.parts.path, request.readonly)
    return SqliteHandle(request.name, path, readonly=request.readonly, tag=request.tag)


def _check_place(path: Path, url_path: str, readonly: bool) -> None:
    """A database that cannot be where the URL says, with the hint people need most:
    `sqlite:///tmp/x.db` is tmp/x.db here (SQLAlchemy's convention), /tmp takes four slashes."""
    raw = urllib.parse.unquote(url_path)
    hint = None
    absolute = Path(raw).parent
    if not raw.startswith("//") and absolute != Path("/") and absolute.is_dir():
        hint = f"that is relative to the current directory; an absolute path takes four slashes: sqlite:///{raw}"
    if not path.parent.is_dir():
        raise NotFound(f"no such directory: {path.parent}", hint)
    if readonly and not path.exists():
        raise NotFound(f"no such database file: {path}", hint)


def database_path(session: Session, url_path: str) -> Path | None:
    """sqlite:///rel.db -> cwd/rel.db, sqlite:////abs.db -> /abs.db, memory -> None."""
    raw = urllib.parse.unquote(url_path)
    target = raw[1:] if raw.startswith("/") else raw
    if target in ("", ":memory:"):
        return None
    return session.path(target)


def _connect(path: Path | None, readonly: bool) -> Any:
    import sqlite3

    if path is None:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    else:
        if readonly and not path.exists():
            raise NotFound(f"no such database file: {path}")
        if not path.parent.is_dir():
            raise NotFound(f"no such directory: {path.parent}")
        if path.is_dir():
            raise UsageError(f"{path} is a directory", "give the path of a database file")
        uri = f"file:{urllib.parse.quote(str(path))}?mode={'ro' if readonly else 'rwc'}"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()  # fails at once on a non-database file
    except Exception:
        conn.close()
        raise
    return conn


class SqliteHandle(SqlHandle):
    kind = "sqlite"
    dialect = SQLITE

    def __init__(self, name: str, path: Path | None, *, readonly: bool, tag: str | None) -> None:
        super().__init__(name, str(path) if path else ":memory:", readonly=readonly, tag=tag)
        self.path = path
        self.conn: Any = _connect(path, readonly)
        self.refresh_schema()

    def ping(self) -> None:
        self.conn.execute("SELECT 1").fetchall()

    def close(self) -> None:
        try:
            self._settle()
        finally:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing must not fail
                swallowed("closing an SQLite connection")

    def in_transaction(self) -> bool:
        return bool(self.conn.in_transaction)

    def rollback(self) -> None:
        self.conn.rollback()

    def _discard_connection(self, run: Run) -> None:
        """A worker still holds the connection after a cancel: continue on a fresh one (the
        worker closes the old one when it returns). An in-memory database has no other."""
        if self.path is not None:
            old, self.conn = self.conn, _connect(self.path, self.readonly)
            run.abandon(old.close)

    def _start(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Run:
        conn = self.conn
        if isinstance(sql, bytes):
            sql = _text_of(sql)

        def open_cursor() -> Any:
            return SpelledCursor(conn.execute(sql, params), conn)

        return Run(open_cursor, conn.interrupt)

    def _prepare(self, session: Session, info: Verdict, text: str) -> str:
        guard.check(session, self.name, self.readonly, info, text)
        return _attach_path(session, text) if info.verb == "attach" else text

    def _schema_worker(self) -> Background | None:
        # An in-memory database is only visible to its own connection, and reading its
        # schema takes microseconds: do it here, between statements.
        return self._background if self.path is not None else None

    def _load_schema(self) -> Callable[[], Schema]:
        path, main = self.path, self.conn
        # ATTACHed databases belong to the main connection: the loader's own attaches them too.
        attached = [(row[1], row[2]) for row in main.execute("PRAGMA database_list") if row[1] not in ("main", "temp")]

        def load() -> Schema:
            import sqlite3

            conn = main if path is None else _connect(path, readonly=True)
            try:
                if conn is not main:
                    _attach(conn, attached)
                tables: dict[str, list[str]] = {}
                views = set()
                for table, kind, column in conn.execute(SCHEMA_SQL):
                    tables.setdefault(table, []).append(column)
                    if kind == "view":
                        views.add(table)
                databases = tuple(row[1] for row in conn.execute("PRAGMA database_list"))
                other = {db: _tables_of(conn, db) for db in databases}
                try:
                    functions = tuple(sorted({row[0] for row in conn.execute("PRAGMA function_list")}))
                except sqlite3.DatabaseError:  # SQLite before 3.30 has no function_list
                    swallowed("listing SQLite's functions for completion")
                    functions = ()
            finally:
                if conn is not main:
                    conn.close()
            tables_ = {t: tuple(c) for t, c in tables.items()}
            return Schema(databases, tables_, frozenset(views), functions, (), "ready", other)

        return load

    def list_tables(self, session: Session) -> Result:
        _, rows = self._query(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
        return Result.table(["table", "type"], rows)

    def describe_table(self, session: Session, name: list[str]) -> Result:
        table = name[-1]
        schema = name[0] if len(name) > 1 else "main"
        _, info = self._query(
            "SELECT name, type, CASE WHEN \"notnull\" THEN 'NO' ELSE 'YES' END,"
            " CASE WHEN pk > 0 THEN 'PRI' ELSE '' END, dflt_value FROM pragma_table_info(?, ?) ORDER BY cid",
            (table, schema),
        )
        if not info:
            raise NotFound(f"no table {table}", "\\d lists the tables")
        _, index_list = self._query('SELECT name, "unique", origin FROM pragma_index_list(?, ?)', (table, schema))
        indexes = []
        for index, unique, origin in index_list:
            _, cols = self._query("SELECT name FROM pragma_index_info(?, ?) ORDER BY seqno", (index, schema))
            label = "PRIMARY" if origin == "pk" else index
            indexes.append((label, bool(unique), [str(c[0]) for c in cols]))
        _, foreign = self._query(
            "SELECT \"from\", \"table\" || '(' || coalesce(\"to\", '') || ')' FROM pragma_foreign_key_list(?, ?)",
            (table, schema),
        )
        return describe_result(table, ["column", "type", "null", "key", "default"], info, indexes, foreign)

    def list_databases(self, session: Session) -> Result:
        _, rows = self._query("SELECT name, file FROM pragma_database_list")
        return Result.table(["database", "file"], rows)

    def use_database(self, session: Session, name: str) -> Result:
        raise UsageError(
            "an SQLite handle is one database file",
            "connect sqlite:///other.db, or ATTACH 'other.db' AS other and write other.table",
        )


def _text_of(statement: bytes) -> str:
    """SQLite takes statements as text: a file's statement that is not UTF-8 is refused."""
    try:
        return statement.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"the statement is not UTF-8 text (byte {exc.start + 1})", "SQLite takes text; write a BLOB as X'...'"
        ) from None


def _tables_of(conn: Any, schema: str) -> tuple[str, ...]:
    """Tables and views of one attached database (`main`, `temp`, `ATTACH ... AS x`)."""
    quoted = '"' + schema.replace('"', '""') + '"'
    sql = f"SELECT name FROM {quoted}.sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
    return tuple(row[0] for row in conn.execute(sql) if not str(row[0]).startswith("sqlite_"))


def _attach(conn: Any, attached: list[tuple[str, str]]) -> None:
    import sqlite3

    for name, file in attached:
        if not file:
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            conn.execute(f"ATTACH DATABASE ? AS {quoted}", (f"file:{urllib.parse.quote(file)}?mode=ro",))
        except sqlite3.Error:  # gone since: its tables are just not offered
            swallowed(f"attaching {file} for completion")


def _attach_path(session: Session, text: str) -> str:
    """ATTACH 'other.db' AS x: a relative file is relative to the session's directory, as every
    path in opsh (SQLite itself would use the process's)."""
    toks = words(text, SQLITE)
    if len(toks) < 2:
        return text
    at = 2 if toks[1].lower == "database" else 1
    if at >= len(toks) or toks[at].kind != "string":
        return text
    name = toks[at].text[1:-1].replace("''", "'")
    if name in ("", ":memory:") or name.startswith("file:") or Path(name).is_absolute():
        return text
    absolute = str(session.path(name)).replace("'", "''")
    return text[: toks[at].start] + f"'{absolute}'" + text[toks[at].end :]
