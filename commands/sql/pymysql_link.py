"""A MySQL connection through pymysql, the pure-Python driver that always works.

Rows are read unbuffered (SSCursor) with no decoders at all: pymysql hands numbers, dates and
text over as the server's text already, and binary values (BLOB, BINARY, BIT) as bytes, which
become text here (see drivers.py). Its private parts used here (`_get_server_information`,
`_read_timeout`, `_write_timeout`, `_result` and its `unbuffered_active`, `_force_close`, `_sock`) are pinned by tests/sql/test_faults.py and
tests/connect/test_slow_handshakes.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from opsh.commands.sql.drivers import (
    BYTES,
    PYMYSQL,
    Column,
    Cursor,
    Link,
    Settings,
    decode_columns,
)


def connect(settings: Settings, watch: Callable[[Any], None]) -> PyLink:
    limit = settings.limit
    conn = _connection_class()(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        database=settings.database,
        unix_socket=settings.socket,
        charset=settings.charset,
        connect_timeout=limit,
        read_timeout=limit,
        write_timeout=limit,
        ssl=settings.tls,
        ssl_disabled=settings.tls_disabled,
        autocommit=True,
        local_infile=settings.local_infile,
        conv=_encoders(),
        defer_connect=True,
    )
    conn.watch = watch
    conn.connect()
    return PyLink(conn)


@cache
def _connection_class() -> Any:
    """pymysql's Connection, handing its socket to the connect's Deadline before the greeting
    is read (and so before TLS takes the socket over)."""
    from pymysql.connections import Connection

    base: Any = Connection  # the private parts used here are not in pymysql's type stubs

    class Watched(base):  # type: ignore[misc]
        watch: Callable[[Any], None] | None = None

        def _get_server_information(self) -> None:
            if self.watch is not None:
                self.watch(self._sock)
            super()._get_server_information()

    return Watched


@cache
def _encoders() -> dict[Any, Any]:
    """pymysql's encoders (for quoting parameters) and no decoder: every value arrives as the
    server's text (bytes for binary columns)."""
    from pymysql.converters import conversions

    return {k: v for k, v in conversions.items() if not isinstance(k, int)}


class PyLink(Link):
    driver = PYMYSQL

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def run(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Cursor:
        import pymysql.cursors

        cursor = self.conn.cursor(pymysql.cursors.SSCursor)
        try:
            cursor.execute(sql, params or None)
        except BaseException:
            _close_quietly(cursor)
            raise
        return PyCursor(cursor)

    def thread_id(self) -> int:
        return int(self.conn.thread_id())

    @property
    def server_status(self) -> int:
        return int(self.conn.server_status or 0)

    @property
    def is_open(self) -> bool:
        return bool(self.conn.open)

    def fileno(self) -> int | None:
        sock = self.conn._sock
        return None if sock is None else int(sock.fileno())

    def ping(self) -> None:
        self.conn.ping(reconnect=False)

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()

    def force_close(self) -> None:
        self.conn._force_close()

    def limit_reads(self, seconds: float | None) -> None:
        """pymysql applies these before each read and write."""
        self.conn._read_timeout = seconds
        self.conn._write_timeout = seconds

    def reset_after_malformed(self) -> None:
        result = getattr(self.conn, "_result", None)
        if result is not None:  # else closing (or collecting) its cursor reads the dead socket
            result.unbuffered_active = False
        self.conn._force_close()


class PyCursor(Cursor):
    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self._binary: list[int] = []
        self._described()

    def _described(self) -> None:
        cursor = self.cursor
        self.description = list(cursor.description) if cursor.description is not None else None
        fields = getattr(getattr(cursor, "_result", None), "fields", None) or []
        self.columns = [Column(str(f.name), int(f.type_code), int(f.charsetnr)) for f in fields] or None
        self._binary = [index for index, column in enumerate(self.columns or ()) if column.kind == BYTES]
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.warning_count = int(getattr(cursor, "warning_count", 0) or 0)
        self.info = _server_info(cursor) if self.description is None else ""

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        rows = self.cursor.fetchmany(size)
        if not rows:
            self.warning_count = int(getattr(self.cursor, "warning_count", 0) or 0)
        return decode_columns(rows, self._binary)

    def nextset(self) -> bool:
        if not self.cursor.nextset():
            return False
        self._described()
        return True

    def close(self) -> None:
        self.cursor.close()


def _close_quietly(cursor: Any) -> None:
    try:
        cursor.close()
    except Exception:  # noqa: BLE001 - the statement's own error is the one to report
        from opsh.shell.errors import swallowed

        swallowed("closing the cursor of a statement that failed")


def _server_info(cursor: Any) -> str:
    """The server's note on a write (`Rows matched: 2  Changed: 1  Warnings: 0`)."""
    message = getattr(getattr(cursor, "_result", None), "message", None)
    if not message:
        return ""
    data = bytes(message)
    if data[0] == len(data) - 1:  # pymysql keeps the note's length byte
        data = data[1:]
    return data.decode("utf-8", "replace").strip()
