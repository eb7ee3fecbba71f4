"""What runs a PostgreSQL statement on SQL mode's worker thread (runner.py's `open_cursor`).

A query (SELECT, VALUES, a read-only WITH) runs through a server-side cursor, as psql does with
FETCH_COUNT: `DECLARE` (inside a transaction of its own when none is open), then `FETCH` a chunk
at a time, so a million rows stream with flat memory. The cursor is declared, and its columns
known, before any row is computed: its first FETCH waits at a gate until the output is chosen,
so CSV can be handed to the server's `COPY (query) TO STDOUT` instead and the query never runs
twice. Everything else runs as one client-side statement (its result read whole).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from psycopg import Connection

PORTAL = "opsh_portal"
COPY_BATCH = 2000  # rows of COPY output written at once
SLICE = 0.05
CANCEL_TIMEOUT = 5.0


class Gate:
    """Holds the first FETCH until the output is chosen: rows (`open`) or none (`skip`); and
    knows whether the server is working for the statement now (`busy`), so that a cancel goes
    to the server only then: a cancel request that arrives after the statement ended (while the
    worker closes the cursor) would stop the next statement instead."""

    def __init__(self) -> None:
        self._decided = threading.Event()
        self._fetch = True
        self._lock = threading.Lock()
        self._busy = False

    @contextmanager
    def busy(self) -> Iterator[None]:
        with self._lock:
            self._busy = True
        try:
            yield
        finally:
            with self._lock:
                self._busy = False

    def open(self) -> None:
        self._decided.set()

    def skip(self) -> None:
        """No row will be read (CSV through COPY, or the result was dropped)."""
        with self._lock:
            self._fetch = False
            self._decided.set()

    def abort(self, cancel: Callable[[], None]) -> None:
        """A cancel: no FETCH will start, and `cancel` asks the server to stop if it works for
        the statement now. The lock is held while that request goes out, so the worker cannot
        leave the statement and send the next command (CLOSE, COMMIT) under a cancel meant for
        this one: a cancel that landed on the COMMIT left the transaction failed."""
        with self._lock:
            self._fetch = False
            self._decided.set()
            if self._busy:
                cancel()

    def wait(self) -> bool:
        """On the worker: whether to fetch."""
        self._decided.wait()
        with self._lock:
            return self._fetch


class Portal:
    """A declared server-side cursor, for the worker: description, fetchmany, close."""

    def __init__(self, conn: Connection[Any], sql: str, gate: Gate) -> None:
        from psycopg import pq

        self.conn = conn
        self.gate = gate
        self.rowcount = -1
        self._began = conn.info.transaction_status == pq.TransactionStatus.IDLE
        if self._began:
            conn.execute("BEGIN")
        self.cursor = conn.cursor(name=PORTAL, scrollable=False)
        try:
            with gate.busy():
                self.cursor.execute(sql)
        except BaseException:
            self._end_transaction()
            raise
        self.description = self.cursor.description
        self._open: bool | None = None

    def fetchmany(self, size: int) -> list[Any]:
        """A chunk of rows; the last one comes after the cursor and its transaction ended, so
        whoever reads the end of the rows sees the connection as it will stay."""
        if self._open is None:
            self._open = self.gate.wait()
        rows: list[Any] = []
        if self._open and not self.cursor.closed:
            with self.gate.busy():
                rows = self.cursor.fetchmany(size)
        if len(rows) < size:
            self.close()
        return rows

    def nextset(self) -> bool:
        return False

    def close(self) -> None:
        if self.cursor.closed and not self._began:
            return
        try:
            self.cursor.close()
        except Exception:  # noqa: BLE001 - the transaction end below decides
            swallowed("closing the server-side cursor")
        self._end_transaction()

    def _end_transaction(self) -> None:
        """The transaction this portal opened ends with it (rolled back if it failed)."""
        if not self._began:
            return
        from psycopg import pq

        self._began = False
        for _ in range(2):  # a COMMIT that failed leaves the transaction failed: then ROLLBACK
            if self.conn.closed:
                return
            status = self.conn.info.transaction_status
            try:
                if status == pq.TransactionStatus.INTRANS:
                    self.conn.execute("COMMIT")
                elif status == pq.TransactionStatus.INERROR:
                    self.conn.execute("ROLLBACK")
                else:
                    return
            except Exception:  # noqa: BLE001 - a lost connection is noticed by the next statement
                swallowed("ending the transaction of a server-side cursor")


def plain(conn: Connection[Any], sql: str, params: tuple[Any, ...], gate: Gate) -> Any:
    """One statement through a client-side cursor (its whole result read by the driver)."""
    cursor = conn.cursor()
    with gate.busy():
        cursor.execute(sql, params or None)
    return cursor


def copy_out(conn: Connection[Any], sql: str, write: Callable[[bytes], Any]) -> int:
    """Run `COPY ... TO STDOUT` and hand its bytes to `write` as they come, a batch of rows at a
    time; the number of rows. Read here, on the main thread, in short waits: Ctrl-C cancels
    the COPY on the server and leaves the connection ready for the next statement."""
    from psycopg import errors, pq

    pgconn = conn.pgconn
    with conn.lock:
        pgconn.send_query(sql.encode())
        try:
            first = _result(pgconn)
            if first is None or first.status != pq.ExecStatus.COPY_OUT:
                _finish(pgconn, first, conn.info.encoding)
                return 0
            _pump(pgconn, write)
            done = _result(pgconn)
            while _result(pgconn) is not None:
                pass
        except KeyboardInterrupt:
            cancel(conn)
            _drain_copy(pgconn)
            raise
        if done is not None and done.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(done, encoding=conn.info.encoding)
        return int(done.command_tuples or 0) if done is not None else 0


def _pump(pgconn: Any, write: Callable[[bytes], Any]) -> None:
    batch: list[bytes] = []
    get = pgconn.get_copy_data
    while True:
        size, data = get(1)
        if size > 0:
            batch.append(bytes(data))
            if len(batch) >= COPY_BATCH:
                write(b"".join(batch))
                batch.clear()
        elif size == 0:
            if batch:
                write(b"".join(batch))
                batch.clear()
            _wait_readable(pgconn)
            pgconn.consume_input()
        else:
            break
    if batch:
        write(b"".join(batch))


def _wait_readable(pgconn: Any) -> None:
    import select

    select.select([pgconn.socket], [], [], SLICE)


def _result(pgconn: Any) -> Any:
    """The next result, waiting in short slices (Ctrl-C can reach the main thread)."""
    while pgconn.is_busy():
        _wait_readable(pgconn)
        pgconn.consume_input()
    return pgconn.get_result()


def _finish(pgconn: Any, first: Any, encoding: str) -> None:
    """The statement was no COPY TO STDOUT (or failed): read its results, raise its error."""
    from psycopg import errors, pq

    failure = first if first is not None and first.status == pq.ExecStatus.FATAL_ERROR else None
    while True:
        following = _result(pgconn)
        if following is None:
            break
        if following.status == pq.ExecStatus.COPY_IN:
            pgconn.put_copy_end(b"opsh sends no data here")
        elif failure is None and following.status == pq.ExecStatus.FATAL_ERROR:
            failure = following
    if failure is not None:
        raise errors.error_from_result(failure, encoding=encoding)


def _drain_copy(pgconn: Any) -> None:
    """After a cancel: read what is left of the COPY (if it had started), then its results."""
    from psycopg import pq

    try:
        while True:
            result = pgconn.get_result()
            if result is None:
                break
            if result.status == pq.ExecStatus.COPY_OUT:
                while pgconn.get_copy_data(0)[0] >= 0:
                    pass
    except Exception:  # noqa: BLE001 - the next statement notices a broken connection
        swallowed("reading what was left of a cancelled COPY")


def copy_in(conn: Connection[Any], sql: str, chunks: Iterable[bytes]) -> int:
    """Run `COPY ... FROM STDIN` with `chunks` as its data; the number of rows loaded."""
    with conn.cursor() as cursor:
        with cursor.copy(sql) as copy:
            for chunk in chunks:
                copy.write(chunk)
        return max(cursor.rowcount, 0)


def cancel(conn: Connection[Any]) -> None:
    """Ask the server to stop the connection's statement (on a connection of its own)."""
    if hasattr(conn, "cancel_safe"):
        conn.cancel_safe(timeout=CANCEL_TIMEOUT)
    else:
        conn.cancel()
