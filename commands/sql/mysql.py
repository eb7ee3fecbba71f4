"""MySQL / MariaDB through pymysql: connect (with a hidden password prompt), run, reconnect.

Statements run through an unbuffered cursor on a worker thread (see runner.py). Ctrl-C sends
`KILL QUERY` on a short-lived side connection. A connection the server closed is noticed
before the next statement is sent (the idle socket reads as closed) and replaced, so nothing is
lost; a connection lost during a statement is replaced too, and only a read is run again.
Temporal values are shown as the server wrote them (`0000-00-00` included).
"""

from __future__ import annotations

import os
import select
import ssl
from ssl import SSLContext
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from opsh.commands.sql.guard import Verdict
from opsh.commands.sql.handle import SqlHandle
from opsh.commands.sql.render import describe_result
from opsh.commands.sql.runner import ResultSet, Run
from opsh.commands.sql.schema import Schema
from opsh.commands.sql.syntax import MYSQL
from opsh.shell.errors import AuthError, ConnectError, NotFound, UsageError, swallowed
from opsh.shell.handles import ConnectRequest
from opsh.shell.result import Result
from opsh.shell.session import Session

DEFAULT_PORT = 3306
# Errors that mean the connection is gone rather than the statement being wrong.
LOST = frozenset({0, 1053, 1927, 2006, 2013, 2055, 4031})
OPTIONS = ("ssl", "ssl_ca", "ssl_cert", "ssl_key", "socket", "charset", "connect_timeout")
OFF = ("0", "false", "no", "off")
KILL_TIMEOUT = 5  # seconds to open the side connection that sends KILL QUERY
CR_SSL_CONNECTION_ERROR = 2026  # pymysql: "SSL is required but the server doesn't support it"
SERVER_STATUS_IN_TRANS = 1
SERVER_STATUS_AUTOCOMMIT = 2


@dataclass
class Target:
    """Everything needed to open (or reopen) a connection; the password stays in memory only."""

    host: str
    port: int
    user: str
    password: str
    database: str | None
    timeout: float
    ssl: ssl.SSLContext | None = None
    ssl_disabled: bool = False
    socket: str | None = None
    charset: str = "utf8mb4"
    # PREFERRED TLS (no ssl options): one context for every connection of the handle (main,
    # schema loader, KILL QUERY), made once instead of pymysql loading a CA store per
    # connection; None until the first connection learns whether the server offers TLS.
    preferred: SSLContext | None = None
    server_has_tls: bool | None = None

    @property
    def endpoint(self) -> str:
        where = self.socket or f"{self.host}:{self.port}"
        return f"{self.user}@{where}"

    def connect(self, database: str | None = None, readonly: bool = False, timeout: float | None = None) -> Any:
        import pymysql

        seconds = max(1, int(timeout or self.timeout))
        try:
            conn = self._open(database, seconds, *self._tls())
        except pymysql.err.OperationalError as exc:
            if not (self._preferring() and _code(exc) == CR_SSL_CONNECTION_ERROR):
                raise
            self.server_has_tls = False  # PREFERRED: the server offers no TLS, go on without
            conn = self._open(database, seconds, None, True)
        if self._preferring():
            self.server_has_tls = True if self.server_has_tls is None else self.server_has_tls
        if readonly:
            with conn.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
        return conn

    def _preferring(self) -> bool:
        return self.ssl is None and not self.ssl_disabled

    def _tls(self) -> tuple[SSLContext | None, bool]:
        """(context, disabled) for the next connection."""
        if not self._preferring():
            return self.ssl, self.ssl_disabled
        if self.server_has_tls is False:
            return None, True
        if self.preferred is None:
            self.preferred = _unverified_context()
        return self.preferred, False

    def _open(self, database: str | None, seconds: int, context: SSLContext | None, disabled: bool) -> Any:
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            unix_socket=self.socket,
            charset=self.charset,
            connect_timeout=seconds,
            ssl=context,
            ssl_disabled=disabled,
            autocommit=True,
            local_infile=False,
            conv=_converters(),
        )


def _unverified_context() -> ssl.SSLContext:
    """Encryption without verification, the mysql client's PREFERRED mode: with no CA named
    there is nothing to verify against, so no CA store is loaded either."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def open_mysql(session: Session, request: ConnectRequest) -> MySqlHandle:
    target = _target(session, request)
    conn = _login(target, request)
    return MySqlHandle(request.name, target, conn, readonly=request.readonly, tag=request.tag)


def _target(session: Session, request: ConnectRequest) -> Target:
    unknown = sorted(set(request.options) - set(OPTIONS))
    if unknown:
        raise UsageError(f"unknown mysql URL option {unknown[0]!r}", f"known: {', '.join(OPTIONS)}")
    options = request.options
    timeout = float(options.get("connect_timeout", session.timeout))
    return Target(
        host=request.host,
        port=request.port(DEFAULT_PORT),
        user=request.user or os.environ.get("USER", "root"),
        password=request.password or "",
        database=request.path or None,
        timeout=timeout,
        ssl=_ssl_context(session, options),
        ssl_disabled=options.get("ssl", "").lower() in OFF,
        socket=str(session.path(options["socket"])) if "socket" in options else None,
        charset=options.get("charset", "utf8mb4"),
    )


def _ssl_context(session: Session, options: dict[str, str]) -> ssl.SSLContext | None:
    """TLS as the URL asks. Without options pymysql uses TLS when the server offers it (the mysql
    client's PREFERRED); `ssl=true` requires it, `ssl_ca` also verifies the server, `ssl=false`
    turns it off."""
    wanted = options.get("ssl", "").lower()
    if wanted in ("", *OFF) and not any(k in options for k in ("ssl_ca", "ssl_cert")):
        return None
    files = {k: session.path(options[k]) for k in ("ssl_ca", "ssl_cert", "ssl_key") if k in options}
    for option, path in files.items():
        if not path.is_file():
            raise NotFound(f"{option}: no such file: {path}")
    ca = files.get("ssl_ca")
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    if ca is None:  # encrypted, but without a CA there is nothing to verify against
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if "ssl_cert" in files:
        key = files.get("ssl_key")
        context.load_cert_chain(str(files["ssl_cert"]), keyfile=str(key) if key else None)
    return context


def _login(target: Target, request: ConnectRequest) -> Any:
    """Connect; when the server wants a password and none was given, ask for it (hidden)."""
    import pymysql

    try:
        return target.connect(target.database, request.readonly)
    except pymysql.err.OperationalError as exc:
        if _code(exc) != 1045 or request.password is not None or request.ask_password is None:
            raise _connect_error(exc, target) from None
    target.password = request.get_password()
    try:
        return target.connect(target.database, request.readonly)
    except pymysql.err.OperationalError as exc:
        raise _connect_error(exc, target) from None


def _connect_error(exc: BaseException, target: Target) -> Exception:
    code, message = _code(exc), _message(exc)
    if code == 1045:
        return AuthError(f"mysql 1045: {message}", "check the user name and password")
    if code == 1049:
        return NotFound(f"mysql 1049: {message}", "connect without a database, then \\l lists them")
    return ConnectError(f"mysql {code}: {message}" if code else f"cannot connect to {target.endpoint}: {message}")


def _code(exc: BaseException) -> int | None:
    args = exc.args
    return args[0] if args and isinstance(args[0], int) else None


def _message(exc: BaseException) -> str:
    args = exc.args
    text = str(args[1]) if len(args) > 1 else str(exc)
    return " ".join(text.split())


def is_lost(exc: BaseException) -> bool:
    import pymysql

    if isinstance(exc, pymysql.err.InterfaceError):
        return True
    return isinstance(exc, pymysql.err.OperationalError) and _code(exc) in LOST


@cache
def _converters() -> dict[Any, Any]:
    """pymysql's decoders, minus temporal ones: show dates as the server sends them."""
    from pymysql.constants import FIELD_TYPE
    from pymysql.converters import conversions

    temporal = (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP, FIELD_TYPE.DATE, FIELD_TYPE.TIME, FIELD_TYPE.NEWDATE)
    return {k: v for k, v in conversions.items() if k not in temporal}


class MySqlHandle(SqlHandle):
    kind = "mysql"
    dialect = MYSQL

    def __init__(self, name: str, target: Target, conn: Any, *, readonly: bool, tag: str | None) -> None:
        super().__init__(name, target.endpoint, readonly=readonly, tag=tag)
        self.target = target
        self.conn: Any = conn
        self.database: str | None = target.database
        self.refresh_schema()

    # ------------------------------------------------------------ connection

    def prompt_label(self) -> str:
        if self.database and self.database != self.name:
            return f"mysql:{self.name}/{self.database}"
        return f"mysql:{self.name}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "database": self.database}

    def ping(self) -> None:
        if self.conn is None:
            raise ConnectError("not connected", "the next statement reconnects")
        self.conn.ping(reconnect=False)

    def state(self) -> str:
        if self.conn is None or not self.conn.open:
            return "disconnected"
        return super().state()

    def close(self) -> None:
        try:
            self._settle()
        finally:
            conn, self.conn = self.conn, None
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001 - closing a dead connection must not fail
                    swallowed("closing a MySQL connection")

    def in_transaction(self) -> bool:
        return bool(self.conn is not None and (self.conn.server_status or 0) & SERVER_STATUS_IN_TRANS)

    def autocommit(self) -> bool:
        return bool(self.conn is not None and (self.conn.server_status or 0) & SERVER_STATUS_AUTOCOMMIT)

    def rollback(self) -> None:
        self.conn.rollback()

    def _dead(self) -> bool:
        """Whether the idle connection is unusable: closed, or the server hung up on it."""
        conn = self.conn
        if conn is None or not conn.open:
            return True
        try:
            readable, _, _ = select.select([conn._sock], [], [], 0)  # an idle socket never has data
        except (OSError, ValueError):
            swallowed("checking whether the idle MySQL connection is still open")
            return True
        return bool(readable)

    def _reconnect(self) -> None:
        old, self.conn = self.conn, None
        if old is not None:
            try:
                old._force_close()
            except Exception:  # noqa: BLE001 - it is already gone
                swallowed("dropping a lost MySQL connection before reconnecting")
        self.conn = self.target.connect(self.database, self.readonly)

    def _discard_connection(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn._force_close()
            except Exception:  # noqa: BLE001 - a worker may still hold it; it is dropped anyway
                swallowed("dropping a MySQL connection a cancelled statement still held")

    # ------------------------------------------------------------ running

    def _start(self, sql: str, params: tuple[Any, ...] = ()) -> Run:
        import pymysql.cursors

        if self.conn is None:
            self._reconnect()
        conn = self.conn
        thread_id = conn.thread_id()

        def open_cursor() -> Any:
            cursor = conn.cursor(pymysql.cursors.SSCursor)
            cursor.execute(sql, params or None)
            return cursor

        return Run(open_cursor, lambda: self._kill_query(thread_id))

    def _kill_query(self, thread_id: int) -> None:
        side = self.target.connect(None, timeout=min(KILL_TIMEOUT, self.target.timeout))
        try:
            with side.cursor() as cursor:
                cursor.execute(f"KILL QUERY {int(thread_id)}")
        finally:
            side.close()

    def _first_result(self, info: Verdict, text: str) -> tuple[Run, ResultSet | None, str | None]:
        note = None
        was_in_transaction = self.in_transaction()
        if self._dead():
            self._reconnect()
            if was_in_transaction:
                raise ConnectError(
                    "the server had closed the connection and rolled back the open transaction;"
                    " reconnected, the statement was not run",
                    "start the transaction again",
                )
            note = "reconnected (the server had closed the connection)"
        run = self._run = self._start(text)
        try:
            return run, run.next_set(), note
        except Exception as exc:
            if not is_lost(exc):
                raise
            lost = exc
        self._reconnect()
        if was_in_transaction:
            raise ConnectError(
                f"connection lost during the statement ({_message(lost)}); the open transaction was rolled back",
                "reconnected: start the transaction again",
            )
        if not info.is_read:
            raise ConnectError(
                f"connection lost during {info.verb.upper()} ({_message(lost)}); reconnected, but it was not re-run",
                "check whether it took effect before running it again",
            )
        run = self._run = self._start(text)
        return run, run.next_set(), "reconnected after losing the connection; the read was run again"

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        if self._dead() and not self.in_transaction():
            self._reconnect()
        return super()._query(sql, params)

    # ------------------------------------------------------------ schema and meta commands

    def _load_schema(self) -> Callable[[], Schema]:
        target, database = self.target, self.database

        def load() -> Schema:
            conn = target.connect(database)
            try:
                with conn.cursor() as cursor:
                    cursor.execute("SHOW DATABASES")
                    databases = tuple(row[0] for row in cursor.fetchall())
                    if not database:
                        return Schema(databases, state="ready")
                    cursor.execute(
                        "SELECT c.TABLE_NAME, c.COLUMN_NAME FROM information_schema.COLUMNS c"
                        " WHERE c.TABLE_SCHEMA = %s ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
                        (database,),
                    )
                    tables: dict[str, list[str]] = {}
                    for table, column in cursor.fetchall():
                        tables.setdefault(table, []).append(column)
                    cursor.execute(
                        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
                        " AND TABLE_TYPE = 'VIEW'",
                        (database,),
                    )
                    views = frozenset(row[0] for row in cursor.fetchall())
                    cursor.execute(
                        "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s", (database,)
                    )
                    routines = tuple(row[0] for row in cursor.fetchall())
            finally:
                conn.close()
            return Schema(databases, {t: tuple(c) for t, c in tables.items()}, views, (), routines, "ready")

        return load

    def _need_database(self, name: list[str]) -> str:
        if len(name) > 1:
            return name[0]
        if not self.database:
            raise UsageError("no database selected", "use DB first (\\l lists them)")
        return self.database

    def list_tables(self, session: Session) -> Result:
        database = self._need_database([])
        _, rows = self._query(
            "SELECT TABLE_NAME, IF(TABLE_TYPE = 'BASE TABLE', 'table', LOWER(TABLE_TYPE)), ENGINE, TABLE_ROWS,"
            " DATA_LENGTH + INDEX_LENGTH, TABLE_COMMENT FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME",
            (database,),
        )
        return Result.table(["table", "type", "engine", "rows (approx)", "bytes", "comment"], rows)

    def describe_table(self, session: Session, name: list[str]) -> Result:
        database, table = self._need_database(name), name[-1]
        _, columns = self._query(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT"
            " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (database, table),
        )
        if not columns:
            raise NotFound(f"no table {table} in {database}", "\\d lists the tables")
        _, index_rows = self._query(
            "SELECT INDEX_NAME, NON_UNIQUE = 0, COLUMN_NAME FROM information_schema.STATISTICS"
            " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX",
            (database, table),
        )
        indexes: dict[str, tuple[str, bool, list[str]]] = {}
        for index, unique, column in index_rows:
            indexes.setdefault(index, (index, bool(unique), []))[2].append(column)
        _, foreign = self._query(
            "SELECT COLUMN_NAME, CONCAT(REFERENCED_TABLE_NAME, '(', REFERENCED_COLUMN_NAME, ')')"
            " FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
            " AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
            (database, table),
        )
        headers = ["column", "type", "null", "key", "default", "extra", "comment"]
        return describe_result(table, headers, columns, list(indexes.values()), foreign)

    def list_databases(self, session: Session) -> Result:
        _, rows = self._query("SHOW DATABASES")
        return Result.table(["database"], rows)

    def use_database(self, session: Session, name: str) -> Result:
        quoted = "`" + name.replace("`", "``") + "`"
        self._query(f"USE {quoted}")
        self.database = name
        self.refresh_schema()
        return Result.empty(status=f"database changed to {name}")
