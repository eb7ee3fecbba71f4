"""Threads that work beside the prompt (schema and key loaders, the command-module loader,
fan-out workers) and must be finished before the interpreter is.

A daemon thread still inside a driver (OpenSSL loading a CA store, a socket read) while the
main thread runs the interpreter's exit crashes the process (SIGSEGV, "double free") in a
small share of runs. So every such thread is started through the session's Background, and
`Session.close_all()` closes the handles (their sockets end any blocked read) and then joins
what is still running before opsh exits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Background:
    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        # Set when the session ends: long-running workers check it between steps.
        self.stopping = threading.Event()

    def start(self, name: str, target: Callable[..., Any], *args: Any) -> threading.Thread | None:
        """Run `target(*args)` on a daemon thread; None once the session is ending."""
        if self.stopping.is_set():
            return None
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def running(self) -> list[str]:
        with self._lock:
            return [t.name for t in self._threads if t.is_alive()]

    def stop(self, timeout: float = 5.0) -> list[str]:
        """Ask every worker to stop and wait for them (up to `timeout` in all); returns the
        names of threads still alive after that, which the caller may report under --debug."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in threads if t.is_alive()]
