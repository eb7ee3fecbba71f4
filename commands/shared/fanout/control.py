"""The workers' side of a fan-out: the Control they share with everything that must stop with
them, and the Job each target's work gets."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from opsh.commands.shared.fanout.events import SLICE, Event, Output, Progress, Question, Start
from opsh.shell.errors import swallowed

# Output of one target waiting for the screen: past this its worker waits in emit(), so a
# remote host waits too (a slow terminal slows the hosts and never fills memory).
BUFFER = 1 << 20
STOP_GRACE = 0.5  # Ctrl-C: how long interrupted work has before it is killed


class Running(Protocol):
    """What a worker registers while its target works, so that Ctrl-C reaches it."""

    def interrupt(self) -> None:
        """Stop, gently and at once (a remote command gets TERM, a query is cancelled)."""

    def kill(self) -> None:
        """Still running STOP_GRACE seconds after interrupt(): stop for good."""


class Control:
    """What a fan-out shares with everything that must stop with it, made before any of them:
    workers post events and register what runs, a prompter relays questions (`ask`), connect
    options add their own cancelling to `on_cancel`. `stop()` is Ctrl-C for all of them at
    once; `started` is the command's clock (questions asked before the fan-out included)."""

    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.cancel = threading.Event()
        self.on_cancel: list[Callable[[], None]] = []
        self.active: dict[str, Running] = {}
        self.busy: set[str] = set()  # targets whose worker is inside their work
        self.settled: set[str] = set()  # busy targets that will ask nothing more (see Job.settle)
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self._local = threading.local()  # which target this worker thread works for

    def post(self, event: Event) -> None:
        self.events.put(event)

    def ask(self, kind: str, text: str, about: Any = None) -> Any:
        """From a worker: the question goes to the main thread; blocks until it is answered
        (its refusal is raised here) or the run is cancelled."""
        question = Question(kind, text, getattr(self._local, "target", "?"), about=about)
        self.post(question)
        return question.wait(self.cancel)

    def register(self, key: str, thing: Running) -> None:
        with self.lock:
            self.active[key] = thing

    def unregister(self, key: str) -> None:
        with self.lock:
            self.active.pop(key, None)

    def enter(self, target: str) -> None:
        """This worker thread now works for `target` (its questions are that target's)."""
        self._local.target = target
        with self.lock:
            self.busy.add(target)
        self.post(Start(target))

    def leave(self, target: str) -> None:
        self._local.target = "?"
        with self.lock:
            self.busy.discard(target)
            self.settled.discard(target)
        self.unregister(target)

    def settle(self, target: str) -> None:
        with self.lock:
            if target in self.busy:
                self.settled.add(target)

    def running_besides(self, targets: set[str]) -> bool:
        """Whether a target other than `targets` is working and may still ask something."""
        with self.lock:
            return bool(self.busy - self.settled - targets)

    def stop(self) -> None:
        """Workers give up, running work is interrupted now (see `finish_stop` for the kill)."""
        self.cancel.set()
        with self.lock:
            active = list(self.active.values())
        for thing in active:
            try:
                thing.interrupt()
            except Exception:  # noqa: BLE001 - stopping one must not stop stopping the others
                swallowed("interrupting a target's work on cancel")
        for callback in self.on_cancel:
            callback()

    def finish_stop(self, grace: float = STOP_GRACE) -> None:
        """After `stop()`: what still runs after `grace` seconds is killed. Done on the main
        thread, so nothing is left running on a host even when opsh exits right after."""
        deadline = time.monotonic() + grace
        try:
            while self.active and time.monotonic() < deadline:
                time.sleep(0.02)
        except KeyboardInterrupt:  # a second Ctrl-C: kill now
            swallowed("waiting for interrupted work (a second Ctrl-C)")
        with self.lock:
            left = list(self.active.values())
        for thing in left:
            try:
                thing.kill()
            except Exception:  # noqa: BLE001 - best effort: the host may be gone
                swallowed("killing a target's work on cancel")


class Job:
    """What a target's work gets: its target, the run's cancel flag, and ways to report."""

    def __init__(self, target: str, control: Control) -> None:
        self.target = target
        self.control = control
        self.started = time.monotonic()
        self.buffered = 0  # characters emitted and not yet shown
        self.flow = threading.Condition()

    def cancelled(self) -> bool:
        """Whether the run was stopped (a method: it changes while the work runs)."""
        return self.control.cancel.is_set()

    def emit(self, stream: str, text: str) -> None:
        """Output for the main thread; waits while this target has BUFFER unshown."""
        with self.flow:
            while self.buffered > BUFFER and not self.cancelled():
                self.flow.wait(SLICE)
            self.buffered += len(text)
        self.control.post(Output(self.target, stream, text, self))

    def shown(self, size: int) -> None:
        with self.flow:
            self.buffered -= size
            self.flow.notify()

    def progress(self, amount: int) -> None:
        self.control.post(Progress(self.target, amount))

    def running(self, thing: Running) -> None:
        """Register what Ctrl-C must interrupt (a remote command, a statement)."""
        self.control.register(self.target, thing)

    def settle(self) -> None:
        """This target will ask no more questions (its command runs): questions held for the
        others stop waiting for it."""
        self.control.settle(self.target)


class Delegate(Protocol):
    """Targets a fan-out hands to another engine as a whole (the gateways of `run --via`):
    `run()` is a thread body that posts their events on the fan-out's Control (Output through
    a Job of theirs, Done for each), so the same handler and the same Ctrl-C serve them."""

    targets: list[str]

    def run(self) -> None: ...
