"""One deadline for a whole connect: TCP, TLS, the server's greeting, the login round trips.

Drivers bound each socket operation (a connect timeout, a read timeout), not the connect as a
whole: a server that sends its greeting one byte every half second never lets one read time
out, and held a MySQL connect for 85 s with `set timeout 3`. A Deadline watches the sockets a
driver opens; when it passes, it shuts them down, so the read in progress ends at once as if
the server had hung up, the driver fails the way it does for that, and `expired` tells the
caller to say "no answer in N s" instead. It watches a duplicate of each socket, so it still
reaches the connection after TLS has taken the original socket over.

    with Deadline(timeout) as deadline:
        ...driver connects; a hook of ours calls deadline.watch(sock) once the socket exists...
    if deadline.expired: ...
"""

from __future__ import annotations

import os
import socket
import threading
from types import TracebackType
from typing import Any

from opsh.shell.errors import ConnectError, swallowed


class Deadline:
    """Shuts the watched sockets down `seconds` after the `with` starts (None: never)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expired = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer: threading.Thread | None = None

    def __enter__(self) -> Deadline:
        if self.seconds is not None:
            self._timer = threading.Thread(target=self._wait, name="opsh-deadline", daemon=True)
            self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._done.set()
        if self._timer is not None:
            self._timer.join()
        with self._lock:
            for copy in self._watched:
                copy.close()
            self._watched.clear()

    def watch(self, sock: Any) -> None:
        """Shut `sock` down when the deadline passes (at once if it has passed already)."""
        if sock is None or self.seconds is None:
            return
        try:
            copy = socket.socket(fileno=os.dup(sock.fileno()))
        except OSError:
            return  # closed (or handed over) already: nothing left to stop
        with self._lock:
            if self._done.is_set():  # the connect is over: too late to matter
                copy.close()
                return
            self._watched.append(copy)
            if self.expired:
                _shut(copy)

    def _wait(self) -> None:
        if self._done.wait(self.seconds):
            return
        with self._lock:
            self.expired = True
            for copy in self._watched:
                _shut(copy)


def _shut(sock: socket.socket) -> None:
    """Both directions, so a read blocked in another thread returns as end-of-data."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        swallowed("shutting down a connection whose connect ran past its deadline")


def no_answer(server: str, where: str, seconds: float, kind: str) -> ConnectError:
    """The one way a connect that ran out of time is said: `redis at HOST:PORT did not answer
    within 3s`, with what to check."""
    return ConnectError(
        f"{server} at {where} did not answer within {seconds:g}s", f"is it a {kind} server? `set timeout` allows longer"
    )
