"""Open SSH connections kept between commands, as OpenSSH's ControlPersist does.

A second `run` on the same hosts, a `copy` after a `run`, or the next line in SSH mode reuses
the authenticated transport instead of paying for a new login (the server's share of a login
is far larger than the client's). A transport that died is dropped and reopened; one idle
longer than the `ssh_persist` setting is closed at the next use of the pool.

The pool keeps at most `capacity` transports (None: no bound), set from the open-files limit
(openfiles.py). When it is full, the least recently used transport that nobody holds is
closed to make room; when every kept one is held, the new one is not kept (its user closes it
with `release`). A holder is whoever got a transport and has not released it yet: `run`
releases each host's after its command; other users never do, so theirs are never closed
for room.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from paramiko import Transport


class ConnectionPool:
    def __init__(self) -> None:
        self.transports: dict[Hashable, Transport] = {}
        self.used: dict[Hashable, float] = {}
        self.held: Counter[Hashable] = Counter()
        self.locks: dict[Hashable, threading.Lock] = {}
        self.lock = threading.Lock()
        self.capacity: int | None = None
        self.evicted = 0  # closed for room since the count was last read (see take_evicted)

    def get(self, key: Hashable, opener: Callable[[], Transport], keep: bool = True) -> Transport:
        """A live transport for `key`; opens one (once, even with many threads asking)."""
        with self.lock:
            key_lock = self.locks.setdefault(key, threading.Lock())
        with key_lock:
            transport = self.transports.get(key)
            if transport is not None and transport.is_active():
                with self.lock:
                    self.used[key] = time.monotonic()
                    self.held[key] += 1
                return transport
            if transport is not None:
                self.drop(key)
            transport = opener()
            if keep and self._room():
                with self.lock:
                    self.transports[key] = transport
                    self.used[key] = time.monotonic()
                    self.held[key] += 1
            return transport

    def release(self, key: Hashable, transport: Transport) -> None:
        """Its holder is done with it; one the pool did not keep is closed now."""
        with self.lock:
            kept = self.transports.get(key) is transport
            if kept and self.held[key] > 0:
                self.held[key] -= 1
                if not self.held[key]:
                    del self.held[key]
        if not kept:
            close_transports([transport])

    def _room(self) -> bool:
        """Whether one more can be kept, after closing the least recently used idle one."""
        if self.capacity is None:
            return True
        with self.lock:
            if len(self.transports) < self.capacity:
                return True
            idle = [k for k in self.transports if not self.held.get(k)]
            if not idle:
                return False
            oldest = min(idle, key=lambda k: self.used.get(k, 0.0))
            doomed = self.transports.pop(oldest)
            self.used.pop(oldest, None)
            self.evicted += 1
        close_transports([doomed])
        return True

    def take_evicted(self) -> int:
        with self.lock:
            count, self.evicted = self.evicted, 0
        return count

    def peek(self, key: Hashable) -> Transport | None:
        transport = self.transports.get(key)
        return transport if transport is not None and transport.is_active() else None

    def drop(self, key: Hashable) -> None:
        with self.lock:
            transport = self.transports.pop(key, None)
            self.used.pop(key, None)
            self.held.pop(key, None)
        if transport is not None:
            close_transports([transport])

    def expire(self, idle: float) -> None:
        """Close transports unused for `idle` seconds (0: close them all)."""
        now = time.monotonic()
        with self.lock:
            old = [k for k, t in self.used.items() if now - t >= idle]
            doomed = [self.transports.pop(k) for k in old if k in self.transports]
            for k in old:
                self.used.pop(k, None)
                self.held.pop(k, None)
        close_transports(doomed)

    def close_all(self) -> None:
        self.expire(0)

    def __len__(self) -> int:
        return len(self.transports)


def close_transports(transports: list[Transport]) -> None:
    """Close many at once: shut the sockets first so no transport thread waits on a read."""
    for transport in transports:
        sock = getattr(transport, "sock", None)
        try:
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            swallowed("shutting down the socket of a connection being closed")
    for transport in transports:
        try:
            transport.close()
        except Exception:  # noqa: BLE001 - closing must never fail a command
            swallowed("closing a kept connection")
