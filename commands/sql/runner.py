"""One statement running on a worker thread while the main thread stays interruptible.

The driver call that blocks (pymysql waiting on `SELECT SLEEP(30)`, sqlite stepping through a
big join) runs on a worker thread; the main thread waits on a queue in short slices, so Ctrl-C
reaches it at once and never cuts the wire protocol mid-packet. Cancelling asks the server to
stop (KILL QUERY on a side connection, sqlite3's interrupt) and the worker then reads the
server's answer to its end, so the connection stays usable with its session and transaction.
Rows cross in chunks through a small bounded queue: a million rows stream with flat memory.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from opsh.shell.errors import swallowed

CHUNK = 1000
QUEUE_CHUNKS = 8
SLICE = 0.05
CANCEL_WAIT = 10.0


@dataclass
class ResultSet:
    """The head of one result: column names for rows, or what a write did."""

    headers: list[str] | None
    rowcount: int = -1
    lastrowid: int | None = None
    warnings: int = 0


class Run:
    """Runs `open_cursor()` (which executes the statement) on a worker and hands results over."""

    def __init__(self, open_cursor: Callable[[], Any], interrupt: Callable[[], None], chunk: int = CHUNK) -> None:
        self._open_cursor = open_cursor
        self._interrupt = interrupt
        self._chunk = chunk
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._stop = threading.Event()
        self._idle = threading.Event()
        self.stuck = False  # the worker did not finish after a cancel: the connection is unusable
        self._thread = threading.Thread(target=self._work, name="opsh-sql", daemon=True)
        self._thread.start()

    @property
    def finished(self) -> bool:
        return self._idle.is_set() and self._events.empty()

    # ------------------------------------------------------------ main thread

    def next_set(self) -> ResultSet | None:
        """The next result's head (None when the statement is done); raises the driver's error."""
        kind, payload = self._get()
        while kind in ("rows", "end"):  # rows of a result the caller did not read: skip them
            kind, payload = self._get()
        if kind == "error":
            raise payload
        return payload if kind == "set" else None

    def chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of the current result, a chunk at a time, as they arrive."""
        while True:
            kind, payload = self._get()
            if kind == "rows":
                yield payload
            elif kind == "error":
                raise payload
            else:  # "end" of this result (or "done" after a cancel)
                return

    def cancel(self) -> None:
        """Stop the statement and wait for the worker; a second Ctrl-C gives up waiting."""
        if self._idle.is_set():
            self._drain()
            return
        self._stop.set()
        try:
            try:
                self._interrupt()
            except Exception:  # noqa: BLE001 - the wait below decides whether the connection survived
                swallowed("asking the server to stop the statement (KILL QUERY / interrupt)")
            deadline = time.monotonic() + CANCEL_WAIT
            while not self._idle.wait(SLICE):
                self._drain()
                if time.monotonic() > deadline:
                    self.stuck = True
                    break
        except KeyboardInterrupt:
            self.stuck = True
        self._drain()

    def _get(self) -> tuple[str, Any]:
        while True:
            try:
                return self._events.get(timeout=SLICE)
            except queue.Empty:
                if self._idle.is_set() and self._events.empty():
                    return ("done", None)

    def _drain(self) -> None:
        while True:
            try:
                self._events.get_nowait()
            except queue.Empty:
                return

    # ------------------------------------------------------------ worker thread

    def _put(self, kind: str, payload: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._events.put((kind, payload), timeout=SLICE)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        cursor = None
        try:
            cursor = self._open_cursor()
            while self._send_result(cursor):
                nextset = getattr(cursor, "nextset", None)
                if nextset is None or not nextset():
                    self._put("done", None)
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self._put("error", exc)
        finally:
            _close(cursor)
            self._idle.set()

    def _send_result(self, cursor: Any) -> bool:
        if cursor is None or cursor.description is None:
            rowcount = getattr(cursor, "rowcount", -1) if cursor is not None else -1
            head = ResultSet(None, rowcount, getattr(cursor, "lastrowid", None), _warnings(cursor))
            return self._put("set", head)
        if not self._put("set", ResultSet([d[0] for d in cursor.description])):
            return False
        fetch, size = cursor.fetchmany, self._chunk
        while True:
            rows = fetch(size)
            if not rows:
                return self._put("end", None)
            if not self._put("rows", rows):
                return False


def _warnings(cursor: Any) -> int:
    return int(getattr(cursor, "warning_count", 0) or 0) if cursor is not None else 0


def _close(cursor: Any) -> None:
    """Closing an unbuffered cursor reads what is left of its result (little, after a kill)."""
    if cursor is None:
        return
    try:
        cursor.close()
    except Exception:  # noqa: BLE001 - the statement already failed or was cancelled
        swallowed("closing the cursor of a failed or cancelled statement")
