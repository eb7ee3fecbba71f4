"""A MySQL connection through mysql-connector-python's C extension (`pip install 'opsh[fast]'`).

The extension's own connection object (`_mysql_connector.MySQL`, the one its Python classes
wrap) is used directly: rows come as the server's bytes (raw mode), a chunk at a time in one C
loop, several times faster than pymysql reads them, and stay bytes (`encoding` says how to read
them) until the output is chosen: CSV joins them as they are, the other formats make them text
in a few C calls per chunk (drivers.decoded). The extension could decode text itself, but
strictly, and a BLOB is rarely UTF-8; which columns a result has is known only once it has run.

Two things the extension does not expose are read through the MySQL client library it carries
(ctypes, on the connection's own MYSQL struct, which the extension keeps right after the Python
object header): the server's note on a write (`mysql_info`: `Rows matched: 2  Changed: 1`) and
the connection's socket (the `fd` of the struct's first member, NET), which the connect's
Deadline shuts when it passes and which tells an idle connection the server hung up. Both are
checked on every connection (the thread id the library reads from the struct must be the one the
extension reports, the socket must lead to the server); pinned by tests/sql/test_drivers.py.
The library has no read timeout of its own here: a bounded round trip (`limit_reads`) is
watched by a timer that shuts the socket when it runs out, as the Deadline does.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from opsh.commands.sql.drivers import CONNECTOR, Column, Cursor, Link, Settings, Tls, codec
from opsh.shell.errors import ConnectionLost, swallowed

CLIENT_MULTI_STATEMENTS = 1 << 16  # as pymysql: a DELIMITER'd body may hold several statements
CLIENT_MULTI_RESULTS = 1 << 17
NET_FD_OFFSET = 40  # NET: vio, buff, buff_end, write_pos, read_pos (5 pointers), then fd
POLL = 0.005  # seconds between looks for the socket while a connect runs


class TimedOut(ConnectionLost):
    """A bounded round trip ran past its limit (the connection is closed)."""


@cache
def _library() -> Any:
    """The client library inside the extension, with the two functions read through it."""
    import _mysql_connector

    lib = ctypes.CDLL(_mysql_connector.__file__)
    lib.mysql_thread_id.restype = ctypes.c_ulong
    lib.mysql_thread_id.argtypes = [ctypes.c_void_p]
    lib.mysql_info.restype = ctypes.c_char_p
    lib.mysql_info.argtypes = [ctypes.c_void_p]
    return lib


def _plugin_dir() -> str | None:
    """Where 9.x keeps mysql_native_password (no longer built into its client library)."""
    import _mysql_connector

    found = Path(_mysql_connector.__file__).parent / "mysql" / "vendor" / "plugin"
    return str(found) if found.is_dir() else None


def connect(settings: Settings, watch: Callable[[Any], None]) -> CLink:
    import _mysql_connector

    options: dict[str, Any] = {"buffered": False, "raw": True, "charset_name": settings.charset}
    options["connection_timeout"] = max(1, math.ceil(settings.limit))
    plugins = _plugin_dir()
    if plugins:
        options["plugin_dir"] = plugins
    conn = _mysql_connector.MySQL(**options)
    link = CLink(conn, settings)
    with link.watched(watch):
        conn.connect(**_connect_options(settings))
    link.connected()
    return link


def _connect_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "host": settings.host,
        "user": settings.user,
        "password": settings.password,
        "database": settings.database or None,
        "port": settings.port,
        "unix_socket": settings.socket,
        "client_flags": CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS,
        "local_infile": 1 if settings.local_infile else 0,
        "ssl_disabled": True,
    }
    tls = settings.tls if isinstance(settings.tls, Tls) else Tls()
    if not settings.tls_disabled:
        verify = tls.ca is not None
        options.update(
            ssl_disabled=False,
            ssl_ca=tls.ca,
            ssl_cert=tls.cert,
            ssl_key=tls.key,
            ssl_verify_cert=verify,
            ssl_verify_identity=verify,
        )
    return options


class CLink(Link):
    driver = CONNECTOR

    def __init__(self, conn: Any, settings: Settings) -> None:
        self.conn = conn
        self.settings = settings
        self.encoding = codec(settings.charset)
        self.limit: float | None = None
        self._struct = id(conn) + object.__basicsize__  # the MYSQL struct inside the object
        self._fd: int | None = None
        self._checked = False  # the struct was found where it is expected

    # ------------------------------------------------------------ connecting

    @contextmanager
    def watched(self, watch: Callable[[Any], None]) -> Iterator[None]:
        """Hand the socket to `watch` as soon as the library has opened it."""
        done = threading.Event()

        def look() -> None:
            while not done.wait(POLL):
                fd = self._socket_fd()
                if fd is not None:
                    sock = socket.socket(fileno=os.dup(fd))
                    try:
                        watch(sock)
                    finally:
                        sock.close()
                    return

        finder = threading.Thread(target=look, name="opsh-sql-connect", daemon=True)
        finder.start()
        try:
            yield
        finally:
            done.set()
            finder.join()

    def connected(self) -> None:
        """After the login: check the struct, require TLS if asked, turn autocommit on."""
        self._checked = _library().mysql_thread_id(self._struct) == self.conn.thread_id()
        self._fd = self._socket_fd() if self._checked else None
        tls = self.settings.tls
        if isinstance(tls, Tls) and tls.required and not self.settings.tls_disabled and not self.conn.get_ssl_cipher():
            self.force_close()
            raise _interface_error(2026, "SSL is required but the server doesn't support it")
        # The library names utf8mb4 by a collation MariaDB does not know (255), which leaves
        # the session in the server's default character set: say it, as the mysql client does.
        self.conn.set_character_set(self.settings.charset)
        if not self.server_status & 2:
            self.conn.autocommit(True)

    def _socket_fd(self) -> int | None:
        """The library's socket, if the struct holds one that leads to the server."""
        fd = ctypes.c_int.from_address(self._struct + NET_FD_OFFSET).value
        if fd <= 2:
            return None
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                return None
            with socket.socket(fileno=os.dup(fd)) as sock:
                peer = sock.getpeername()
        except OSError:
            return None
        expected = self.settings.socket if self.settings.socket else self.settings.port
        found = peer if isinstance(peer, str) else peer[1] if isinstance(peer, tuple) else None
        return fd if found == expected else None

    # ------------------------------------------------------------ statements

    def run(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Cursor:
        if params:
            assert isinstance(sql, str)
            sql = sql % tuple(self.literal(p) for p in params)
        data = sql.encode(self.encoding, "surrogateescape") if isinstance(sql, str) else sql
        with self.bounded():
            self.conn.query(data, raw=True, raw_as_string=False)
        return CCursor(self)

    def literal(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, (int, float)):
            return repr(value)
        text = str(value).encode(self.encoding, "surrogateescape")
        escaped = self.conn.escape_string(text)
        return "'" + bytes(escaped).decode(self.encoding, "surrogateescape") + "'"

    def thread_id(self) -> int:
        return int(self.conn.thread_id())

    @property
    def server_status(self) -> int:
        return int(self.conn.st_server_status() or 0)

    @property
    def is_open(self) -> bool:
        return bool(self.conn.connected())

    def fileno(self) -> int | None:
        return self._fd if self.is_open else None

    def ping(self) -> None:
        with self.bounded() as fired:
            alive = self.conn.ping()
        if not alive:
            if fired.is_set():
                raise TimedOut(f"Lost connection to MySQL server during query (timed out after {self.limit:g}s)")
            raise _interface_error(2006, "MySQL server has gone away")

    def rollback(self) -> None:
        with self.bounded():
            self.conn.rollback()

    def close(self) -> None:
        with self.bounded():
            self.conn.close()

    def force_close(self) -> None:
        self._shut()
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - it is gone either way
            swallowed("closing a MySQL connection dropped at once")

    def limit_reads(self, seconds: float | None) -> None:
        self.limit = seconds

    def info(self) -> str:
        """The server's note on the last write."""
        if not self._checked:
            return ""
        note = _library().mysql_info(self._struct)
        return note.decode("utf-8", "replace").strip() if note else ""

    @contextmanager
    def bounded(self) -> Iterator[threading.Event]:
        """A round trip that waits at most `limit` seconds (when set): past it the socket is
        shut, the library fails the call, and TimedOut says why (the event says it fired)."""
        limit = self.limit
        fired = threading.Event()
        if limit is None:
            yield fired
            return

        def expire() -> None:
            fired.set()
            self._shut()

        timer = threading.Timer(limit, expire)
        timer.daemon = True
        timer.start()
        try:
            yield fired
        except Exception as exc:
            if fired.is_set():
                raise TimedOut(f"Lost connection to MySQL server during query (timed out after {limit:g}s)") from exc
            raise
        finally:
            timer.cancel()

    def _shut(self) -> None:
        fd = self._fd if self._fd is not None else (self._socket_fd() if self._checked else None)
        if fd is None:
            return
        try:
            with socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            swallowed("shutting down a MySQL connection's socket")


class CCursor(Cursor):
    def __init__(self, link: CLink) -> None:
        self.link = link
        self.conn = link.conn
        self.encoding = link.encoding  # the rows' cells are bytes: text in this encoding
        self._rows: Iterator[Any] | None = None
        self._described()

    def _described(self) -> None:
        conn = self.conn
        if conn.have_result_set:
            fields = conn.fetch_fields()
            self.columns = [Column(_name(f[4]), int(f[8]), int(f[6])) for f in fields]
            self.description = [(c.name, c.type_code) for c in self.columns]
            self._rows = iter(conn.fetch_row, None)
            self.rowcount, self.lastrowid, self.info = -1, None, ""
            self.warning_count = 0
            return
        self.columns = self.description = None
        self._rows = None
        self.rowcount = int(conn.affected_rows())
        self.lastrowid = int(conn.insert_id()) or None
        self.warning_count = int(conn.warning_count())
        self.info = self.link.info()

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        rows = self._rows
        if rows is None:
            return []
        with self.link.bounded():
            chunk = list(itertools.islice(rows, size))
        if not chunk:
            self._finish()
        return chunk

    def _finish(self) -> None:
        self._rows = None
        self.warning_count = int(self.conn.warning_count())
        self.conn.free_result()

    def nextset(self) -> bool:
        if self._rows is not None:  # rows left unread: the library reads and drops them
            with self.link.bounded():
                self.conn.consume_result()
            self._finish()
        if not self.conn.more_results():
            return False
        with self.link.bounded():
            self.conn.next_result()
        self._described()
        return True

    def close(self) -> None:
        """Read what is left of the statement (little, after a KILL), so the connection is
        ready for the next one."""
        if not self.conn.connected():
            return
        while self.nextset():
            pass


def _name(value: Any) -> str:
    return value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")


def _interface_error(code: int, message: str) -> Exception:
    import _mysql_connector

    error: Any = _mysql_connector.MySQLInterfaceError(message)
    error.errno = code
    error.msg = message
    error.sqlstate = "HY000"
    return error  # type: ignore[no-any-return]
