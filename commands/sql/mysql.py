"""MySQL / MariaDB: connect (with a hidden password prompt), run, reconnect.

Two drivers do the talking (drivers.py): pymysql, which always works, and the C extension of
mysql-connector-python when it is installed (`pip install 'opsh[fast]'`); `?driver=` picks one.
Statements run through an unbuffered cursor on a worker thread (see runner.py). Ctrl-C sends
`KILL QUERY` on a short-lived side connection. A connection the server closed is noticed
before the next statement is sent (the idle socket reads as closed) and replaced, so nothing is
lost; a connection lost during a statement is replaced too, and only a read is run again (a
write may have been applied: the error says so, whether or not the reconnect worked).

What the URL leaves out comes from the mysql client's option files (login.py). Connecting and
the login handshake are bounded by the `timeout` setting (or `?connect_timeout=`), so a server
that accepts the connection and never answers fails in that time; a statement itself runs as
long as it needs (Ctrl-C stops it). Cells are the server's own text, as the mysql client prints
them (`1e16`, `0000-00-00`, `0.0000000000`); JSON gets typed values (render.py).
`LOAD DATA LOCAL INFILE` works only on handles that opt in (`?local_infile=true` or
`local_infile = true` in the connection's config): it lets the server read a local file.
"""

from __future__ import annotations

import os
import select
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any

from opsh.commands.shared.deadline import Deadline
from opsh.commands.sql import guard
from opsh.commands.sql.drivers import (
    CONNECTOR,
    Link,
    Settings,
    Tls,
    choose,
    decoded,
    error_code,
    error_message,
    open_link,
    typed,
)
from opsh.commands.sql.errors import is_malformed, malformed_packet
from opsh.commands.sql.guard import Verdict
from opsh.commands.sql.login import flag, read_login
from opsh.commands.sql.render import describe_result
from opsh.commands.sql.runner import ResultSet, Run, Worker
from opsh.commands.sql.schema import Schema
from opsh.commands.sql.serverhandle import ServerHandle
from opsh.commands.sql.syntax import MYSQL, Tok, words
from opsh.shell.errors import AuthError, ConnectError, NotFound, OpshError, UsageError, swallowed
from opsh.shell.fileread import check_regular
from opsh.shell.handles import ConnectRequest
from opsh.shell.result import Result
from opsh.shell.session import Session

DEFAULT_PORT = 3306
# Errors that mean the connection is gone rather than the statement being wrong.
SERVER_LOST = 2013  # CR_SERVER_LOST: the client library's "Lost connection to server"
LOST = frozenset({0, 1053, 1927, 2006, SERVER_LOST, 2055, 4031})
OPTIONS = (
    "ssl",
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
    "socket",
    "charset",
    "connect_timeout",
    "defaults_file",
    "local_infile",
    "driver",
)
OFF = ("0", "false", "no", "off")
KILL_TIMEOUT = 5  # seconds to open the side connection that sends KILL QUERY
CR_SSL_CONNECTION_ERROR = 2026  # "SSL is required but the server doesn't support it"
CR_CANT_READ_CHARSET = 2019  # the C driver's word for an unknown character set
SERVER_STATUS_IN_TRANS = 1
SERVER_STATUS_AUTOCOMMIT = 2
OTHER_TABLES_MAX = 20_000  # tables of other databases kept for `db.` completion


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
    local_infile: bool = False
    driver: str = "pymysql"
    tls: Tls = Tls()  # the TLS options by file name (the C driver reads the files itself)
    # PREFERRED TLS on pymysql (no ssl options): one context for every connection of the handle
    # (main, schema loader, KILL QUERY), made once instead of pymysql loading a CA store per
    # connection; None until the first connection learns whether the server offers TLS.
    preferred: SSLContext | None = None
    server_has_tls: bool | None = None

    @property
    def server(self) -> str:
        """Where the server is: `host:port`, or its socket's path."""
        return self.socket or f"{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.user}@{self.server}"

    def connect(
        self, database: str | None = None, readonly: bool = False, timeout: float | None = None, bounded: bool = False
    ) -> Link:
        """A new connection. Connecting, TLS, the handshake, the login and its set-up
        statements wait at most `timeout` together (a Deadline: a server that answers a byte at
        a time cannot stretch it). Reads of a `bounded` connection (opsh's own: schema, KILL)
        keep that limit; a user's statements do not (they run until done or Ctrl-C)."""
        limit = max(0.1, float(timeout or self.timeout))
        started = time.monotonic()
        with Deadline(limit) as deadline:
            try:
                link = self._login(database, readonly, limit, deadline)
            except Exception as exc:
                if deadline.expired or (_timed_out(exc) and time.monotonic() - started >= limit * 0.9):
                    raise self.no_answer(limit) from None
                if is_malformed(exc):  # a greeting or login reply that does not parse
                    raise malformed_packet(self.server, exc) from None
                raise
        link.limit_reads(limit if bounded else None)
        return link

    def no_answer(self, limit: float) -> ConnectError:
        return ConnectError(
            f"cannot connect to {self.endpoint}: no answer in {limit:g}s",
            "is it a MySQL server? `set timeout N` or ?connect_timeout=N waits longer",
        )

    def _login(self, database: str | None, readonly: bool, limit: float, deadline: Deadline) -> Link:
        if self.driver == CONNECTOR:
            link = self._open(database, limit, deadline, self.tls, self.ssl_disabled)
        else:
            link = self._login_pymysql(database, limit, deadline)
        try:
            if readonly:
                link.rows("SET SESSION TRANSACTION READ ONLY")
        except BaseException:
            link.force_close()
            raise
        return link

    def _login_pymysql(self, database: str | None, limit: float, deadline: Deadline) -> Link:
        try:
            link = self._open(database, limit, deadline, *self._tls())
        except Exception as exc:
            if not (self._preferring() and error_code(exc) == CR_SSL_CONNECTION_ERROR):
                raise
            self.server_has_tls = False  # PREFERRED: the server offers no TLS, go on without
            link = self._open(database, limit, deadline, None, True)
        if self._preferring():
            self.server_has_tls = True if self.server_has_tls is None else self.server_has_tls
        return link

    def _preferring(self) -> bool:
        return self.ssl is None and not self.ssl_disabled

    def _tls(self) -> tuple[SSLContext | None, bool]:
        """(context, disabled) for the next pymysql connection."""
        if not self._preferring():
            return self.ssl, self.ssl_disabled
        if self.server_has_tls is False:
            return None, True
        if self.preferred is None:
            self.preferred = _unverified_context()
        return self.preferred, False

    def _open(self, database: str | None, limit: float, deadline: Deadline, tls: Any, disabled: bool) -> Link:
        """One connection; each read and write waits at most `limit`, and the deadline watches
        the socket from the first byte of the greeting on."""
        settings = Settings(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            limit=limit,
            socket=self.socket,
            charset=self.charset,
            local_infile=self.local_infile,
            tls=tls,
            tls_disabled=disabled,
        )
        return open_link(self.driver, settings, deadline.watch)


def _timed_out(exc: BaseException) -> bool:
    """A connect the driver itself gave up on for lack of an answer."""
    text = error_message(exc)
    return "timed out" in text or "initial communication packet" in text or error_code(exc) == SERVER_LOST


def _unverified_context() -> ssl.SSLContext:
    """Encryption without verification, the mysql client's PREFERRED mode: with no CA named
    there is nothing to verify against, so no CA store is loaded either."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def read_limit(link: Link, seconds: float) -> Iterator[None]:
    """A bounded round trip on a connection whose reads are otherwise unbounded."""
    link.limit_reads(seconds)
    try:
        yield
    finally:
        link.limit_reads(None)


def open_mysql(session: Session, request: ConnectRequest) -> MySqlHandle:
    target = _target(session, request)
    conn = _login(target, request)
    return MySqlHandle(request.name, target, conn, readonly=request.readonly, tag=request.tag)


def _target(session: Session, request: ConnectRequest) -> Target:
    unknown = sorted(set(request.options) - set(OPTIONS))
    if unknown:
        raise UsageError(f"unknown mysql URL option {unknown[0]!r}", f"known: {', '.join(OPTIONS)}")
    options = request.options
    explicit = session.path(options["defaults_file"]) if "defaults_file" in options else None
    login = read_login(explicit)
    parts = request.parts
    host = parts.hostname or login.get("host") or "127.0.0.1"
    socket = options.get("socket") or (login.get("socket") if not parts.hostname and host == "localhost" else None)
    if socket is None and host == "localhost":
        host = "127.0.0.1"  # the drivers would not use a socket for it anyway: say what they do
    password = request.password if request.password is not None else login.get("password")
    request.password = password  # a login file's password counts as given: no prompt first
    driver = choose(options.get("driver") or _configured_driver(request))
    tls_options = _ssl_options(options, login)
    tls = _tls_files(session, tls_options)
    return Target(
        host=host,
        port=request.parts.port or int(login.get("port") or DEFAULT_PORT),
        user=request.user or login.get("user") or os.environ.get("USER", "root"),
        password=password or "",
        database=request.path or login.get("database") or None,
        timeout=float(options.get("connect_timeout") or login.get("connect-timeout") or session.timeout),
        ssl=_ssl_context(tls, tls_options) if driver != CONNECTOR else None,
        ssl_disabled=options.get("ssl", login.get("ssl") or "").lower() in OFF,
        socket=str(session.path(socket)) if socket else None,
        charset=_charset(options.get("charset") or login.get("default-character-set") or "utf8mb4", driver),
        local_infile=_local_infile(request, login),
        driver=driver,
        tls=tls,
    )


def _configured_driver(request: ConnectRequest) -> str | None:
    value = request.config.get("driver")
    return str(value) if value else None


def _charset(name: str, driver: str) -> str:
    """A character set the driver knows (an unknown one failed deep inside pymysql's connect;
    the C driver says so itself when it connects)."""
    if driver == CONNECTOR:
        return name
    from pymysql.charset import charset_by_name

    if charset_by_name(name) is None:
        raise UsageError(f"unknown charset {name!r}", "e.g. ?charset=utf8mb4 or ?charset=latin1")
    return name


def _ssl_options(options: dict[str, str], login: dict[str, str | None]) -> dict[str, str]:
    """TLS options of the URL, else of the option file (ssl-ca -> ssl_ca)."""
    merged = {key.replace("-", "_"): value or "1" for key, value in login.items() if key.startswith("ssl")}
    if "ssl_verify_server_cert" in merged and "ssl" not in merged:
        merged["ssl"] = merged["ssl_verify_server_cert"]
    merged.update({k: v for k, v in options.items() if k.startswith("ssl")})
    return {k: v for k, v in merged.items() if k in ("ssl", "ssl_ca", "ssl_cert", "ssl_key")}


def _local_infile(request: ConnectRequest, login: dict[str, str | None]) -> bool:
    if "local_infile" in request.options:
        return request.options["local_infile"].lower() not in OFF
    if "local_infile" in request.config:
        return bool(request.config["local_infile"])
    return "local-infile" in login and flag(login["local-infile"])


def _tls_files(session: Session, options: dict[str, str]) -> Tls:
    """The TLS files the URL names, checked to be regular files (OpenSSL reads them by name:
    never a fifo or a device)."""
    files: dict[str, str] = {}
    for option in ("ssl_ca", "ssl_cert", "ssl_key"):
        if option in options:
            path = session.path(options[option])
            if not path.exists():
                raise NotFound(f"{option}: no such file: {path}")
            check_regular(path, f"{option}={path}")
            files[option[4:]] = str(path)
    wanted = options.get("ssl", "").lower()
    required = wanted not in ("", *OFF) or bool(files)
    return Tls(required, files.get("ca"), files.get("cert"), files.get("key"))


def _ssl_context(tls: Tls, options: dict[str, str]) -> ssl.SSLContext | None:
    """pymysql's TLS as the URL asks (`tls`: its files, already checked). Without options pymysql
    uses TLS when the server offers it (the mysql client's PREFERRED); `ssl=true` requires it,
    `ssl_ca` also verifies the server, `ssl=false` turns it off."""
    wanted = options.get("ssl", "").lower()
    if wanted in ("", *OFF) and tls.ca is None and tls.cert is None:
        return None
    context = ssl.create_default_context(cafile=tls.ca)
    if tls.ca is None:  # encrypted, but without a CA there is nothing to verify against
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.cert is not None:
        context.load_cert_chain(tls.cert, keyfile=tls.key)
    return context


def _login(target: Target, request: ConnectRequest) -> Link:
    """Connect; when the server wants a password and none was given, ask for it (hidden)."""
    try:
        return target.connect(target.database, request.readonly)
    except OpshError:
        raise
    except Exception as exc:
        if error_code(exc) != 1045 or request.password is not None or request.ask_password is None:
            raise _connect_error(exc, target) from None
    target.password = request.get_password()
    try:
        return target.connect(target.database, request.readonly)
    except OpshError:
        raise
    except Exception as exc:
        raise _connect_error(exc, target) from None


def _connect_error(exc: Exception, target: Target) -> Exception:
    if not _driver_error(exc):
        return exc
    code, message = error_code(exc), error_message(exc)
    if code == 1045:
        return AuthError(f"mysql 1045: {message}", "check the user name and password")
    if code == 1049:
        return NotFound(f"mysql 1049: {message}", "connect without a database, then \\l lists them")
    if code == CR_CANT_READ_CHARSET:
        return UsageError(f"unknown charset {target.charset!r}", "e.g. ?charset=utf8mb4 or ?charset=latin1")
    if "timed out" in message:
        return target.no_answer(target.timeout)
    return ConnectError(f"mysql {code}: {message}" if code else f"cannot connect to {target.endpoint}: {message}")


def _driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in ("pymysql", "_mysql_connector") or isinstance(exc, OSError)


def is_lost(exc: BaseException) -> bool:
    kind = type(exc)
    if kind.__module__.startswith("pymysql") and kind.__name__ == "InterfaceError":
        return True
    if kind.__name__ == "TimedOut":  # connector_link: a bounded round trip ran out
        return True
    return _driver_error(exc) and not isinstance(exc, OSError) and error_code(exc) in LOST


class MySqlHandle(ServerHandle):
    kind = "mysql"
    dialect = MYSQL

    def __init__(self, name: str, target: Target, conn: Link, *, readonly: bool, tag: str | None) -> None:
        super().__init__(name, target.endpoint, readonly=readonly, tag=tag)
        self.target = target
        self.conn: Link | None = conn
        self.worker = Worker()  # one thread for all the handle's statements (runner.py)
        self.database: str | None = target.database
        self._gave_up: str | None = None  # why the last connection was given up, for the next note
        self.refresh_schema()

    # ------------------------------------------------------------ connection

    def prompt_label(self) -> str:
        if self.database and self.database != self.name:
            return f"mysql:{self.name}/{self.database}"
        return f"mysql:{self.name}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "database": self.database, "driver": self.target.driver}

    def ping(self) -> None:
        if self.conn is None:
            raise ConnectError("not connected", "the next statement reconnects")
        with self._reading(), read_limit(self.conn, self.target.timeout):
            self.conn.ping()

    def state(self) -> str:
        if not self.connected():
            return "disconnected"
        return super().state()

    def connected(self) -> bool:
        return not self._dead()

    def close(self) -> None:
        try:
            self._settle()
        finally:
            self.worker.stop(wait=1.0)
            conn, self.conn = self.conn, None
            if conn is not None:
                try:
                    with read_limit(conn, 1.0):
                        conn.close()
                except Exception:  # noqa: BLE001 - closing a dead connection must not fail
                    swallowed("closing a MySQL connection")

    def in_transaction(self) -> bool:
        return bool(self.conn is not None and self.conn.server_status & SERVER_STATUS_IN_TRANS)

    def autocommit(self) -> bool:
        return bool(self.conn is not None and self.conn.server_status & SERVER_STATUS_AUTOCOMMIT)

    def rollback(self) -> None:
        if self.conn is None:
            return
        with self._reading():
            self.conn.rollback()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A round trip on the handle's connection from the main thread (ping, rollback): a
        reply that does not parse closes the connection and says so (see `_malformed`)."""
        conn = self.conn
        try:
            yield
        except Exception as exc:
            if conn is None or not is_malformed(exc):
                raise
            raise self._malformed(conn, exc) from None

    def _malformed(self, conn: Link, exc: BaseException) -> BaseException:
        """What a failed read of `conn` means: a packet that does not parse leaves the
        connection out of step with the server, so it is closed (the next statement opens a
        new one) and the failure is said as the mariadb client says it; anything else (the
        server's own errors, a lost connection) is left as it is."""
        if not is_malformed(exc):
            return exc
        conn.reset_after_malformed()
        self._gave_up = "the last reply was a malformed packet"
        return malformed_packet(self.target.server, exc)

    def _dead(self) -> bool:
        """Whether the idle connection is unusable: closed, or the server hung up on it."""
        conn = self.conn
        if conn is None or not conn.is_open:
            return True
        fd = conn.fileno()
        if fd is None:
            return not conn.is_open
        try:
            readable, _, _ = select.select([fd], [], [], 0)  # an idle socket never has data
        except (OSError, ValueError):
            swallowed("checking whether the idle MySQL connection is still open")
            return True
        return bool(readable)

    def _reconnect(self) -> None:
        old, self.conn = self.conn, None
        if old is not None:
            try:
                old.force_close()
            except Exception:  # noqa: BLE001 - it is already gone
                swallowed("dropping a lost MySQL connection before reconnecting")
        self.conn = self.target.connect(self.database, self.readonly)

    def _discard_connection(self, run: Run) -> None:
        """After a cancel the worker still reads this connection: never close it from here
        (pymysql's close waits for the reader's lock, the C library is not to be used from two
        threads at once); the worker closes it when it returns, and a new worker takes the
        handle's next statements."""
        conn, self.conn = self.conn, None
        self.worker.stop()
        self.worker = Worker()
        if conn is None:
            return
        in_transaction = bool(conn.server_status & SERVER_STATUS_IN_TRANS)
        self._gave_up = "the cancelled statement still held the old connection" + (
            "; its open transaction is lost" if in_transaction else ""
        )
        run.abandon(conn.force_close)

    # ------------------------------------------------------------ running

    def _start(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Run:
        if self.conn is None:
            self._reconnect()
        conn = self.conn
        assert conn is not None
        thread_id = conn.thread_id()
        return Run(
            lambda: conn.run(sql, params),
            lambda: self._kill_query(thread_id),
            info=_note,
            failed=lambda exc: self._malformed(conn, exc),
            worker=self.worker,
        )

    def _kill_query(self, thread_id: int) -> None:
        side = self.target.connect(None, timeout=min(KILL_TIMEOUT, self.target.timeout), bounded=True)
        try:
            side.rows(f"KILL QUERY {int(thread_id)}")
        finally:
            side.close()

    def _prepare(self, session: Session, info: Verdict, text: str) -> str:
        guard.check(session, self.name, self.readonly, info, text)
        if info.verb == "load":
            return self._local_infile(session, text)
        return text

    def _local_infile(self, session: Session, text: str) -> str:
        """LOAD DATA LOCAL INFILE 'f': refused unless the handle opted in; the file is read
        relative to the session's directory (the drivers would use the process's)."""
        toks = words(text, self.dialect)
        lowered = [t.lower for t in toks]
        if "local" not in lowered or "infile" not in lowered:
            return text
        at = lowered.index("infile") + 1
        if not self.target.local_infile:
            raise OpshError(
                f"LOAD DATA LOCAL INFILE is off for {self.name}: it lets the server read local files",
                "connect with ?local_infile=true (or local_infile = true in the connection's config)",
            )
        if at >= len(toks) or toks[at].kind != "string":
            return text
        path = session.path(_unquote(toks[at]))
        check_regular(path)  # the driver reads it by name, in chunks: never a fifo or a device
        return text[: toks[at].start] + _quote(str(path)) + text[toks[at].end :]

    def _first_result(self, info: Verdict, text: str | bytes) -> tuple[Run, ResultSet | None, str | None]:
        return self._reviving(info, lambda: self._start(text))

    def _is_loss(self, exc: BaseException) -> bool:
        return is_lost(exc)

    def _error_text(self, exc: BaseException) -> str:
        return error_message(exc)

    def _gone_because(self) -> str | None:
        why, self._gave_up = self._gave_up, None
        return why

    def _values(self, head: ResultSet, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if head.encoding:
            rows = decoded(rows, head.encoding)
        return typed(head.columns, rows) if head.columns else rows

    def _warnings(self) -> Result | None:
        _, rows = self._query("SHOW WARNINGS")
        return Result.table(["level", "code", "message"], rows, status="") if rows else None

    # ------------------------------------------------------------ schema and meta commands

    def _load_schema(self) -> Callable[[], Schema]:
        target, database = self.target, self.database

        def load() -> Schema:
            conn = target.connect(database, bounded=True)
            try:
                return _read_schema(conn, database)
            finally:
                conn.close()

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
        self.schema_changed()
        return Result.empty(status=f"database changed to {name}")


def _read_schema(conn: Link, database: str | None) -> Schema:
    databases = tuple(row[0] for row in conn.rows("SHOW DATABASES"))
    elsewhere: dict[str, list[str]] = {}
    listed = conn.rows(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema') ORDER BY 1, 2"
        f" LIMIT {OTHER_TABLES_MAX}"
    )
    for schema, table in listed:
        elsewhere.setdefault(schema, []).append(table)
    other = {db: tuple(tables) for db, tables in elsewhere.items()}
    if not database:
        return Schema(databases, other_tables=other, state="ready")
    tables: dict[str, list[str]] = {}
    for table, column in conn.rows(
        "SELECT c.TABLE_NAME, c.COLUMN_NAME FROM information_schema.COLUMNS c"
        " WHERE c.TABLE_SCHEMA = %s ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
        (database,),
    ):
        tables.setdefault(table, []).append(column)
    views = frozenset(
        row[0]
        for row in conn.rows(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'VIEW'",
            (database,),
        )
    )
    routines = tuple(
        row[0]
        for row in conn.rows(
            "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s", (database,)
        )
    )
    columns = {t: tuple(c) for t, c in tables.items()}
    return Schema(databases, columns, views, (), routines, "ready", other)


def _note(cursor: Any) -> str:
    """The server's note on a write (`Rows matched: 2  Changed: 1  Warnings: 0`)."""
    return str(getattr(cursor, "info", "") or "")


def _unquote(tok: Tok) -> str:
    inner = tok.text[1:-1]
    quote = tok.text[0]
    out, index = [], 0
    while index < len(inner):
        ch = inner[index]
        if ch == "\\" and index + 1 < len(inner):
            out.append(inner[index + 1])
            index += 2
            continue
        if ch == quote and inner[index + 1 : index + 2] == quote:
            index += 1
        out.append(ch)
        index += 1
    return "".join(out)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
