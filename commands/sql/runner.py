"""One statement running on a worker thread while the main thread stays interruptible.

The driver call that blocks (pymysql waiting on `SELECT SLEEP(30)`, sqlite stepping through a
big join) runs on a worker thread; the main thread waits on a queue in short slices, so Ctrl-C
reaches it at once and never cuts the wire protocol mid-packet. Cancelling asks the server to
stop (KILL QUERY on a side connection, sqlite3's interrupt) and the worker then reads the
server's answer to its end, so the connection stays usable with its session and transaction.
Rows cross in chunks through a small bounded queue: a million rows stream with flat memory.

Cancelling is idempotent and never touches the connection the worker is reading: while it
runs, Ctrl-C only counts presses (a signal handler that sets a flag), the KILL QUERY goes out
on its own thread whatever the user presses, and only a third press stops the waiting. A
connection given up that way is closed by the worker itself once the driver returns.

A handle may keep one Worker for all its statements: starting a thread per statement cost more
than a one-row INSERT itself (a 50,000-statement dump spent most of its time there).
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from opsh.shell.errors import swallowed

CHUNK = 1000
QUEUE_CHUNKS = 8
SLICE = 0.05
CANCEL_WAIT = 10.0
GIVE_UP_PRESSES = 2  # Ctrl-C presses during a cancel (after the one that started it) that stop the wait


@dataclass
class ResultSet:
    """The head of one result: column names for rows, or what a write did."""

    headers: list[str] | None
    rowcount: int = -1
    lastrowid: int | None = None
    warnings: int = 0
    info: str = ""  # the server's note on a write (MySQL: "Rows matched: 2  Changed: 1  Warnings: 0")
    columns: list[Any] | None = None  # what the driver says of each column (MySQL: drivers.Column)
    encoding: str | None = None  # the rows' cells are bytes, text in this encoding (MySQL's C driver)


class Worker:
    """One long-lived thread that runs a handle's statements one after another (each Run hands
    it its work); started with the first statement, ended by `stop`."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="opsh-sql", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def stop(self, wait: float = 0.0) -> None:
        """End the thread once its current job (if any) returns; wait up to `wait` seconds."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._jobs.put(None)
        if wait:
            thread.join(wait)

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()


class Run:
    """Runs `open_cursor()` (which executes the statement) on a worker and hands results over.

    `info(cursor)` reads the server's note on a write (backends that have one); `failed(exc)`
    turns what the driver raised into what the main thread raises (a backend's word for a
    reply that does not parse), on the worker, which still owns the connection then."""

    def __init__(
        self,
        open_cursor: Callable[[], Any],
        interrupt: Callable[[], None],
        chunk: int = CHUNK,
        info: Callable[[Any], str] | None = None,
        failed: Callable[[BaseException], BaseException] | None = None,
        worker: Worker | None = None,
    ) -> None:
        self._open_cursor = open_cursor
        self._interrupt = interrupt
        self._info = info
        self._failed = failed
        self._chunk = chunk
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._lock = threading.Lock()
        self._killer: threading.Thread | None = None
        self._release: Callable[[], None] | None = None
        self.stuck = False  # the worker did not finish after a cancel: the connection is unusable
        self.warnings = 0  # of the last result whose rows were read to the end
        self._over = False  # the statement's last event ("done" or an error) was read
        if worker is not None:
            worker.submit(self._work)
        else:
            threading.Thread(target=self._work, name="opsh-sql", daemon=True).start()

    @property
    def finished(self) -> bool:
        """The statement is over: its last event was read (the worker may still be closing its
        cursor, which delays the handle's next statement on the same worker, never stops it),
        or the worker is idle with nothing left to read."""
        return self._over or (self._idle.is_set() and self._events.empty())

    # ------------------------------------------------------------ main thread

    def next_set(self) -> ResultSet | None:
        """The next result's head (None when the statement is done); raises the driver's error."""
        kind, payload = self._get()
        while kind in ("rows", "end"):  # rows of a result the caller did not read: skip them
            kind, payload = self._get()
        if kind == "error":
            self._over = True
            raise payload
        if kind != "set":
            self._over = True
            return None
        return payload  # type: ignore[no-any-return]

    def chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of the current result, a chunk at a time, as they arrive; at its end
        `warnings` holds the result's warning count."""
        while True:
            kind, payload = self._get()
            if kind == "rows":
                held = [payload]
                del payload  # the chunk is the reader's alone (a 64 MB cell is not held twice)
                yield held.pop()
            elif kind == "error":
                self._over = True
                raise payload
            else:  # "end" of this result (or "done" after a cancel)
                self.warnings = int(payload or 0) if kind == "end" else 0
                return

    def cancel(self) -> None:
        """Stop the statement and wait for the worker. Safe to call again (a cancel that was
        itself interrupted goes on where it was); the KILL is sent once."""
        if self._idle.is_set() or self.stuck:  # done, or already given up on
            self._drain()
            return
        self._stop.set()
        with presses_counted() as presses:
            if self._killer is None:
                self._killer = threading.Thread(target=self._send_interrupt, name="opsh-sql-cancel", daemon=True)
                self._killer.start()
            deadline = time.monotonic() + CANCEL_WAIT
            while not self._idle.wait(SLICE):
                self._drain()
                if presses() >= GIVE_UP_PRESSES or time.monotonic() > deadline:
                    self.stuck = True
                    break
            self._await_killer(presses, deadline)
        self._drain()

    def _await_killer(self, presses: Callable[[], int], deadline: float) -> None:
        """The statement may have ended by itself before the KILL reached the server: until the
        KILL is through, the next statement must not start, or the KILL lands on it."""
        killer = self._killer
        while killer is not None and killer.is_alive() and not self.stuck:
            killer.join(SLICE)
            if presses() >= GIVE_UP_PRESSES or time.monotonic() > deadline:
                return

    def abandon(self, release: Callable[[], None]) -> None:
        """Give up a connection the worker may still be reading: `release` (closing it) runs
        on the worker when the driver returns, or here at once if it already has."""
        with self._lock:
            if not self._idle.is_set():
                self._release = release
                return
        release()

    def _send_interrupt(self) -> None:
        try:
            self._interrupt()
        except Exception:  # noqa: BLE001 - the wait decides whether the connection survived
            swallowed("asking the server to stop the statement (KILL QUERY / interrupt)")

    def _get(self) -> tuple[str, Any]:
        while True:
            try:
                return self._events.get(timeout=SLICE)
            except queue.Empty:
                if self._idle.is_set() and self._events.empty():
                    return ("done", None)
            except KeyboardInterrupt:
                # Cancel here, at once: a second Ctrl-C from now on only counts.
                self.cancel()
                raise

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
            while True:
                head = self._head(cursor)
                if head.headers is not None:
                    if not self._put("set", head) or not self._send_rows(cursor):
                        break
                    more = _more(cursor)
                else:  # known before the head goes out: a write wakes the main thread once
                    more = _more(cursor)
                    if not self._put("set", head):
                        break
                if not more:
                    self._put("done", None)
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self._put("error", self._failed(exc) if self._failed is not None else exc)
        finally:
            _close(cursor)
            with self._lock:
                self._idle.set()
                release = self._release
            if release is not None:
                _quietly(release, "closing a connection given up after a cancel")

    def _head(self, cursor: Any) -> ResultSet:
        if cursor is None or cursor.description is None:
            rowcount = getattr(cursor, "rowcount", -1) if cursor is not None else -1
            info = self._info(cursor) if self._info is not None and cursor is not None else ""
            return ResultSet(None, rowcount, getattr(cursor, "lastrowid", None), _warnings(cursor), info)
        columns, encoding = getattr(cursor, "columns", None), getattr(cursor, "encoding", None)
        return ResultSet([d[0] for d in cursor.description], columns=columns, encoding=encoding)

    def _send_rows(self, cursor: Any) -> bool:
        fetch, size = cursor.fetchmany, self._chunk
        while True:
            rows = fetch(size)
            if not rows:
                return self._put("end", _warnings(cursor))
            if not self._put("rows", rows):
                return False
            del rows  # the reader's now: not held here while the next chunk is read


def _more(cursor: Any) -> bool:
    """Whether the statement has another result (and the cursor moved to it)."""
    nextset = getattr(cursor, "nextset", None)
    return bool(nextset is not None and nextset())


@contextmanager
def presses_counted() -> Iterator[Callable[[], int]]:
    """While a cancel runs, Ctrl-C sets a flag (counts) instead of raising: nothing the cancel
    does (sending KILL QUERY, waiting for the worker) can be cut short by a second press.
    Signal handlers belong to the main thread; elsewhere presses cannot reach us anyway."""
    count = [0]
    if threading.current_thread() is not threading.main_thread():
        yield lambda: count[0]
        return

    def counted(signum: int, frame: FrameType | None) -> None:
        count[0] += 1

    previous = signal.signal(signal.SIGINT, counted)
    try:
        yield lambda: count[0]
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def _warnings(cursor: Any) -> int:
    return int(getattr(cursor, "warning_count", 0) or 0) if cursor is not None else 0


def _close(cursor: Any) -> None:
    """Closing an unbuffered cursor reads what is left of its result (little, after a kill)."""
    if cursor is None:
        return
    _quietly(cursor.close, "closing the cursor of a failed or cancelled statement")


def _quietly(action: Callable[[], Any], what: str) -> None:
    try:
        action()
    except Exception:  # noqa: BLE001 - cleanup after a failure or a cancel must not fail
        swallowed(what)
