"""MySQL / MariaDB through pymysql: connect (with a hidden password prompt), run, reconnect.

Statements run through an unbuffered cursor on a worker thread (see runner.py). Ctrl-C sends
`KILL QUERY` on a short-lived side connection. A connection the server closed is noticed
before the next statement is sent (the idle socket reads as closed) and replaced, so nothing is
lost; a connection lost during a statement is replaced too, and only a read is run again (a
write may have been applied: the error says so, whether or not the reconnect worked).

What the URL leaves out comes from the mysql client's option files (login.py). Connecting and
the login handshake are bounded by the `timeout` setting (or `?connect_timeout=`), so a server
that accepts the connection and never answers fails in that time; a statement itself runs as
long as it needs (Ctrl-C stops it). Temporal values are shown as the server wrote them
(`0000-00-00` included), and so are DECIMALs (`0.0000000000`, never `0E-10`).
`LOAD DATA LOCAL INFILE` works only on handles that opt in (`?local_infile=true` or
`local_infile = true` in the connection's config): it lets the server read a local file.
"""

from __future__ import annotations

import decimal
import os
import select
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from ssl import SSLContext
from typing import Any

from opsh.commands.shared.deadline import Deadline
from opsh.commands.sql import guard
from opsh.commands.sql.errors import MALFORMED, malformed_packet
from opsh.commands.sql.guard import Verdict
from opsh.commands.sql.handle import SqlHandle
from opsh.commands.sql.login import flag, read_login
from opsh.commands.sql.render import describe_result
from opsh.commands.sql.runner import ResultSet, Run
from opsh.commands.sql.schema import Schema
from opsh.commands.sql.syntax import MYSQL, Tok, words
from opsh.shell.errors import AuthError, ConnectError, NotFound, OpshError, UsageError, swallowed
from opsh.shell.fileread import check_regular
from opsh.shell.handles import ConnectRequest
from opsh.shell.result import Result
from opsh.shell.session import Session

DEFAULT_PORT = 3306
# Errors that mean the connection is gone rather than the statement being wrong.
LOST = frozenset({0, 1053, 1927, 2006, 2013, 2055, 4031})
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
)
OFF = ("0", "false", "no", "off")
KILL_TIMEOUT = 5  # seconds to open the side connection that sends KILL QUERY
CR_SSL_CONNECTION_ERROR = 2026  # pymysql: "SSL is required but the server doesn't support it"
SERVER_STATUS_IN_TRANS = 1
SERVER_STATUS_AUTOCOMMIT = 2
OTHER_TABLES_MAX = 20_000  # tables of other databases kept for `db.` completion


class ExactDecimal(decimal.Decimal):
    """A DECIMAL whose text is the digits the server sent (Decimal itself writes tiny values
    in exponent form: 0.0000000000 -> 0E-10)."""

    __slots__ = ()

    def __str__(self) -> str:
        return format(self, "f")


def _decimal(text: str) -> decimal.Decimal:
    # str(Decimal) is the server's text except below 1e-6, where it switches to 1E-7 form.
    if text.startswith(("0.000000", "-0.000000")):
        return ExactDecimal(text)
    return decimal.Decimal(text)


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
    # PREFERRED TLS (no ssl options): one context for every connection of the handle (main,
    # schema loader, KILL QUERY), made once instead of pymysql loading a CA store per
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
    ) -> Any:
        """A new connection. Connecting, TLS, the handshake, the login and its set-up
        statements wait at most `timeout` together (a Deadline: a server that answers a byte at
        a time cannot stretch it). Reads of a `bounded` connection (opsh's own: schema, KILL)
        keep that limit; a user's statements do not (they run until done or Ctrl-C)."""
        limit = max(0.1, float(timeout or self.timeout))
        with Deadline(limit) as deadline:
            try:
                conn = self._login(database, readonly, limit, deadline)
            except Exception as exc:
                if deadline.expired:
                    raise self.no_answer(limit) from None
                if isinstance(exc, MALFORMED):  # a greeting or login reply that does not parse
                    raise malformed_packet(self.server, exc) from None
                raise
        if not bounded:
            set_read_limit(conn, None)
        return conn

    def no_answer(self, limit: float) -> ConnectError:
        return ConnectError(
            f"cannot connect to {self.endpoint}: no answer in {limit:g}s",
            "is it a MySQL server? `set timeout N` or ?connect_timeout=N waits longer",
        )

    def _login(self, database: str | None, readonly: bool, limit: float, deadline: Deadline) -> Any:
        import pymysql

        try:
            conn = self._open(database, limit, deadline, *self._tls())
        except pymysql.err.OperationalError as exc:
            if not (self._preferring() and _code(exc) == CR_SSL_CONNECTION_ERROR):
                raise
            self.server_has_tls = False  # PREFERRED: the server offers no TLS, go on without
            conn = self._open(database, limit, deadline, None, True)
        if self._preferring():
            self.server_has_tls = True if self.server_has_tls is None else self.server_has_tls
        try:
            if readonly:
                with conn.cursor() as cursor:
                    cursor.execute("SET SESSION TRANSACTION READ ONLY")
        except BaseException:
            conn.close()
            raise
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

    def _open(
        self, database: str | None, limit: float, deadline: Deadline, context: SSLContext | None, disabled: bool
    ) -> Any:
        """One connection; each read and write waits at most `limit`, and the deadline watches
        the socket from the first byte of the greeting on."""
        conn = _connection_class()(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            unix_socket=self.socket,
            charset=self.charset,
            connect_timeout=limit,
            read_timeout=limit,
            write_timeout=limit,
            ssl=context,
            ssl_disabled=disabled,
            autocommit=True,
            local_infile=self.local_infile,
            conv=_converters(),
            defer_connect=True,
        )
        conn.deadline = deadline
        conn.connect()
        return conn


@cache
def _connection_class() -> Any:
    """pymysql's Connection, handing its socket to the connect's Deadline before the greeting
    is read (and so before TLS takes the socket over). `_get_server_information`, the read of
    the greeting, is private to pymysql: tests/connect/test_slow_handshakes.py fails if it moves."""
    from pymysql.connections import Connection

    base: Any = Connection  # the private parts used here are not in pymysql's type stubs

    class Watched(base):  # type: ignore[misc]
        deadline: Deadline | None = None

        def _get_server_information(self) -> None:
            if self.deadline is not None:
                self.deadline.watch(self._sock)
            super()._get_server_information()

    return Watched


def _unverified_context() -> ssl.SSLContext:
    """Encryption without verification, the mysql client's PREFERRED mode: with no CA named
    there is nothing to verify against, so no CA store is loaded either."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def set_read_limit(conn: Any, seconds: float | None) -> None:
    """pymysql applies these before each read and write (pinned by tests/sql/test_faults.py)."""
    conn._read_timeout = seconds
    conn._write_timeout = seconds


@contextmanager
def read_limit(conn: Any, seconds: float) -> Iterator[None]:
    """A bounded round trip on a connection whose reads are otherwise unbounded."""
    set_read_limit(conn, seconds)
    try:
        yield
    finally:
        set_read_limit(conn, None)


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
        host = "127.0.0.1"  # pymysql would not use a socket for it anyway: say what it does
    password = request.password if request.password is not None else login.get("password")
    request.password = password  # a login file's password counts as given: no prompt first
    return Target(
        host=host,
        port=request.parts.port or int(login.get("port") or DEFAULT_PORT),
        user=request.user or login.get("user") or os.environ.get("USER", "root"),
        password=password or "",
        database=request.path or login.get("database") or None,
        timeout=float(options.get("connect_timeout") or login.get("connect-timeout") or session.timeout),
        ssl=_ssl_context(session, _ssl_options(options, login)),
        ssl_disabled=options.get("ssl", login.get("ssl") or "").lower() in OFF,
        socket=str(session.path(socket)) if socket else None,
        charset=_charset(options.get("charset") or login.get("default-character-set") or "utf8mb4"),
        local_infile=_local_infile(request, login),
    )


def _charset(name: str) -> str:
    """A character set pymysql knows (an unknown one failed deep inside its connect)."""
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


def _ssl_context(session: Session, options: dict[str, str]) -> ssl.SSLContext | None:
    """TLS as the URL asks. Without options pymysql uses TLS when the server offers it (the mysql
    client's PREFERRED); `ssl=true` requires it, `ssl_ca` also verifies the server, `ssl=false`
    turns it off."""
    wanted = options.get("ssl", "").lower()
    if wanted in ("", *OFF) and not any(k in options for k in ("ssl_ca", "ssl_cert")):
        return None
    files = {k: session.path(options[k]) for k in ("ssl_ca", "ssl_cert", "ssl_key") if k in options}
    for option, path in files.items():
        if not path.exists():
            raise NotFound(f"{option}: no such file: {path}")
        check_regular(path, f"{option}={path}")  # OpenSSL reads it by name: never a fifo or a device
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
    if "timed out" in message:
        return target.no_answer(target.timeout)
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
    """pymysql's decoders, minus temporal ones (dates as the server sends them), with DECIMAL
    kept exact."""
    from pymysql.constants import FIELD_TYPE
    from pymysql.converters import conversions

    temporal = (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP, FIELD_TYPE.DATE, FIELD_TYPE.TIME, FIELD_TYPE.NEWDATE)
    out = {k: v for k, v in conversions.items() if k not in temporal}
    out[FIELD_TYPE.DECIMAL] = out[FIELD_TYPE.NEWDECIMAL] = _decimal
    return out


def _server_info(cursor: Any) -> str:
    """The server's note on a write (`Rows matched: 2  Changed: 1  Warnings: 0`)."""
    message = getattr(getattr(cursor, "_result", None), "message", None)
    if not message:
        return ""
    data = bytes(message)
    if data[0] == len(data) - 1:  # pymysql keeps the note's length byte
        data = data[1:]
    return data.decode("utf-8", "replace").strip()


class MySqlHandle(SqlHandle):
    kind = "mysql"
    dialect = MYSQL

    def __init__(self, name: str, target: Target, conn: Any, *, readonly: bool, tag: str | None) -> None:
        super().__init__(name, target.endpoint, readonly=readonly, tag=tag)
        self.target = target
        self.conn: Any = conn
        self.database: str | None = target.database
        self._gave_up: str | None = None  # why the last connection was given up, for the next note
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
        with self._reading(), read_limit(self.conn, self.target.timeout):
            self.conn.ping(reconnect=False)

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
            conn, self.conn = self.conn, None
            if conn is not None:
                try:
                    with read_limit(conn, 1.0):
                        conn.close()
                except Exception:  # noqa: BLE001 - closing a dead connection must not fail
                    swallowed("closing a MySQL connection")

    def in_transaction(self) -> bool:
        return bool(self.conn is not None and (self.conn.server_status or 0) & SERVER_STATUS_IN_TRANS)

    def autocommit(self) -> bool:
        return bool(self.conn is not None and (self.conn.server_status or 0) & SERVER_STATUS_AUTOCOMMIT)

    def rollback(self) -> None:
        with self._reading():
            self.conn.rollback()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A round trip on the handle's connection from the main thread (ping, rollback): a
        reply that does not parse closes the connection and says so (see `_malformed`)."""
        conn = self.conn
        try:
            yield
        except MALFORMED as exc:
            raise self._malformed(conn, exc) from None

    def _malformed(self, conn: Any, exc: BaseException) -> BaseException:
        """What a failed read of `conn` means: a packet that does not parse leaves the
        connection out of step with the server, so it is closed (the next statement opens a
        new one) and the failure is said as the mariadb client says it; anything else (the
        server's own errors, a lost connection) is left as it is."""
        if not isinstance(exc, MALFORMED):
            return exc
        result = getattr(conn, "_result", None)
        if result is not None:  # else closing (or collecting) its cursor reads the dead socket
            result.unbuffered_active = False
        conn._force_close()
        self._gave_up = "the last reply was a malformed packet"
        return malformed_packet(self.target.server, exc)

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

    def _discard_connection(self, run: Run) -> None:
        """After a cancel the worker still reads this connection: never close it from here
        (pymysql's close waits for the reader's lock); the worker closes it when it returns."""
        conn, self.conn = self.conn, None
        if conn is None:
            return
        in_transaction = bool((conn.server_status or 0) & SERVER_STATUS_IN_TRANS)
        self._gave_up = "the cancelled statement still held the old connection" + (
            "; its open transaction is lost" if in_transaction else ""
        )
        run.abandon(conn._force_close)

    # ------------------------------------------------------------ running

    def _start(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Run:
        import pymysql.cursors

        if self.conn is None:
            self._reconnect()
        conn = self.conn
        thread_id = conn.thread_id()

        def open_cursor() -> Any:
            cursor = conn.cursor(pymysql.cursors.SSCursor)
            cursor.execute(sql, params or None)
            return cursor

        return Run(
            open_cursor,
            lambda: self._kill_query(thread_id),
            info=_server_info,
            failed=lambda exc: self._malformed(conn, exc),
        )

    def _kill_query(self, thread_id: int) -> None:
        side = self.target.connect(None, timeout=min(KILL_TIMEOUT, self.target.timeout), bounded=True)
        try:
            with side.cursor() as cursor:
                cursor.execute(f"KILL QUERY {int(thread_id)}")
        finally:
            side.close()

    def _prepare(self, session: Session, info: Verdict, text: str) -> str:
        guard.check(session, self.name, self.readonly, info, text)
        if info.verb == "load":
            return self._local_infile(session, text)
        return text

    def _local_infile(self, session: Session, text: str) -> str:
        """LOAD DATA LOCAL INFILE 'f': refused unless the handle opted in; the file is read
        relative to the session's directory (pymysql would use the process's)."""
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
        check_regular(path)  # pymysql reads it by name, in chunks: never a fifo or a device
        return text[: toks[at].start] + _quote(str(path)) + text[toks[at].end :]

    def _first_result(self, info: Verdict, text: str | bytes) -> tuple[Run, ResultSet | None, str | None]:
        note = None
        was_in_transaction = self.in_transaction()
        if self._dead():
            note = self._revive(was_in_transaction)
        run = self._run = self._start(text)
        try:
            return run, run.next_set(), note
        except Exception as exc:
            if not is_lost(exc):
                raise
            lost = exc
        self._reconnect_after_loss(info, lost, was_in_transaction)
        run = self._run = self._start(text)
        return run, run.next_set(), "reconnected after losing the connection; the read was run again"

    def _revive(self, was_in_transaction: bool) -> str:
        """Replace a connection that died while idle (nothing of the statement was sent)."""
        why, self._gave_up = self._gave_up, None
        try:
            self._reconnect()
        except Exception as exc:  # noqa: BLE001 - reported with what it means for the statement
            raise ConnectError(
                f"the connection to {self.target.endpoint} is gone and reconnecting failed ({_message(exc)})",
                "the statement was not run",
            ) from None
        if was_in_transaction:
            raise ConnectError(
                "the server had closed the connection and rolled back the open transaction;"
                " reconnected, the statement was not run",
                "start the transaction again",
            )
        return f"reconnected ({why or 'the server had closed the connection'})"

    def _reconnect_after_loss(self, info: Verdict, lost: BaseException, was_in_transaction: bool) -> None:
        """The connection died during the statement: say what that means for it."""
        verb = info.verb.upper() or "the statement"
        try:
            self._reconnect()
        except Exception as exc:  # noqa: BLE001 - the loss is what the user needs to hear about
            failed = f"reconnecting failed ({_message(exc)})"
            if info.is_read and not was_in_transaction:
                raise ConnectError(f"connection lost during {verb} ({_message(lost)}); {failed}") from None
            raise ConnectError(
                f"connection lost during {verb} ({_message(lost)}): it may have been applied;"
                f" {failed}" + ("; the open transaction was rolled back" if was_in_transaction else ""),
                "check whether it took effect once the server is back",
            ) from None
        if was_in_transaction:
            raise ConnectError(
                f"connection lost during {verb} ({_message(lost)}); the open transaction was rolled back",
                "reconnected: start the transaction again",
            )
        if not info.is_read:
            raise ConnectError(
                f"connection lost during {verb} ({_message(lost)}): it may have been applied;"
                " reconnected, but it was not run again",
                "check whether it took effect before running it again",
            )

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        if self._dead() and not self.in_transaction():
            self._revive(False)
        return super()._query(sql, params)

    def _warnings(self) -> Result | None:
        _, rows = self._query("SHOW WARNINGS")
        return Result.table(["level", "code", "message"], rows, status="") if rows else None

    # ------------------------------------------------------------ schema and meta commands

    def _load_schema(self) -> Callable[[], Schema]:
        target, database = self.target, self.database

        def load() -> Schema:
            conn = target.connect(database, bounded=True)
            try:
                with conn.cursor() as cursor:
                    return _read_schema(cursor, database)
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


def _read_schema(cursor: Any, database: str | None) -> Schema:
    cursor.execute("SHOW DATABASES")
    databases = tuple(row[0] for row in cursor.fetchall())
    cursor.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema') ORDER BY 1, 2"
        f" LIMIT {OTHER_TABLES_MAX}"
    )
    elsewhere: dict[str, list[str]] = {}
    for schema, table in cursor.fetchall():
        elsewhere.setdefault(schema, []).append(table)
    other = {db: tuple(tables) for db, tables in elsewhere.items()}
    if not database:
        return Schema(databases, other_tables=other, state="ready")
    cursor.execute(
        "SELECT c.TABLE_NAME, c.COLUMN_NAME FROM information_schema.COLUMNS c"
        " WHERE c.TABLE_SCHEMA = %s ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
        (database,),
    )
    tables: dict[str, list[str]] = {}
    for table, column in cursor.fetchall():
        tables.setdefault(table, []).append(column)
    cursor.execute(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'VIEW'",
        (database,),
    )
    views = frozenset(row[0] for row in cursor.fetchall())
    cursor.execute("SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s", (database,))
    routines = tuple(row[0] for row in cursor.fetchall())
    columns = {t: tuple(c) for t, c in tables.items()}
    return Schema(databases, columns, views, (), routines, "ready", other)


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
