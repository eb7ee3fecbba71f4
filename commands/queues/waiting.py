"""Blocking takes that Ctrl-C can stop without losing a task.

A take waits on the server in short slices (half a second). During a slice SIGINT only sets
a flag, so the slice's reply is always read to the end: the connection stays in step and a
task the server handed out is never dropped on the floor. Between slices a pending Ctrl-C
becomes KeyboardInterrupt; if the slice did return a task, the task is shown (the take
completed before the interrupt could stop it).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
SLICE = 0.5


class Interrupted:
    """Whether a Ctrl-C arrived while it was deferred."""

    def __init__(self) -> None:
        self.pending = False


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Interrupted]:
    """SIGINT sets a flag instead of raising, for the duration of the block (main thread only)."""
    state = Interrupted()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def note(signum: int, frame: object) -> None:
        state.pending = True

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


def wait_for(poll: Callable[[float], T | None], timeout: float, slice_seconds: float = SLICE) -> T | None:
    """Call `poll(wait)` until it returns something or `timeout` seconds pass (0: poll once)."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        wait = max(0.0, min(slice_seconds, deadline - time.monotonic()))
        with deferred_interrupt() as interrupt:
            found = poll(wait)
        if found is not None:
            return found
        if interrupt.pending:
            raise KeyboardInterrupt
        if time.monotonic() >= deadline:
            return None
