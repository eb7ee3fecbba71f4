"""Work on many hosts at once: a bounded set of worker threads and one event queue.

Workers connect, run and report through the queue (output lines, questions, results); the
main thread drains it in slices of a tenth of a second, answers questions (passwords, host
keys) itself, and turns Ctrl-C into a cancellation: running commands get a signal, pending
connections are closed, hosts not started are marked cancelled, and what finished is kept.
Worker threads are daemons, so a host that hangs past every timeout never holds up the exit.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.commands.ssh.state import LastRun
from opsh.commands.ssh.transport.prompting import Question, QueuedPrompter
from opsh.shell.errors import describe, swallowed

if TYPE_CHECKING:
    from opsh.shell.background import Background


@dataclass
class HostResult:
    host: str
    exit: int | None = None
    error: str | None = None
    seconds: float = 0.0
    output: list[tuple[str, str]] = field(default_factory=list)  # (stream, line), when kept
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.exit == 0

    @property
    def stdout(self) -> str:
        return "".join(line + "\n" for stream, line in self.output if stream == "out")

    @property
    def stderr(self) -> str:
        return "".join(line + "\n" for stream, line in self.output if stream == "err")


@dataclass
class Line:
    host: str
    stream: str  # "out" | "err"
    text: str


@dataclass
class Control:
    """The state a fan-out shares with everything that must stop with it, made before any of
    them: the prompter posts questions to `events` and gives up on `cancel`, the connect options
    put their `cancel_all` in `on_cancel`, workers register what they run in `active`. `stop()`
    is Ctrl-C for all of them at once; `started` is the command's clock (keys asked included)."""

    events: queue.Queue[object] = field(default_factory=queue.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)
    on_cancel: list[Callable[[], None]] = field(default_factory=list)
    active: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)

    def stop(self) -> None:
        """Workers give up, running commands get TERM now (KILL follows in the worker)."""
        self.cancel.set()
        with self.lock:
            active = list(self.active.values())
        for thing in active:
            try:
                thing.signal("TERM")
            except Exception:  # noqa: BLE001 - best effort
                swallowed("signalling a running command to stop")
        for callback in self.on_cancel:
            callback()


class Job:
    """What a worker gets: the host, a way to report lines, and the run's cancel flag."""

    def __init__(self, host: str, control: Control) -> None:
        self.host = host
        self.control = control
        self.started = time.monotonic()
        self.bytes = 0  # transferred so far (copy)

    @property
    def cancelled(self) -> bool:
        return self.control.cancel.is_set()

    def emit(self, stream: str, text: str) -> None:
        self.control.events.put(Line(self.host, stream, text))

    def running(self, thing: Any) -> None:
        """Register something to signal on Ctrl-C (a RemoteCommand or LocalCommand)."""
        with self.control.lock:
            self.control.active[self.host] = thing

    def finished(self) -> None:
        with self.control.lock:
            self.control.active.pop(self.host, None)


Work = Callable[[Job], HostResult]


class FanOut:
    def __init__(self, hosts: list[str], work: Work, fanout: int, control: Control, prompter: QueuedPrompter) -> None:
        self.hosts = hosts
        self.work = work
        self.fanout = max(1, min(fanout, len(hosts) or 1))
        self.control = control
        self.prompter = prompter
        self.results: dict[str, HostResult] = {}
        self.todo: queue.Queue[str] = queue.Queue()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.control.started

    def start(self, background: Background) -> None:
        for host in self.hosts:
            self.todo.put(host)
        for n in range(self.fanout):
            background.start(f"opsh-fanout-{n}", self._worker)

    def _worker(self) -> None:
        while True:
            try:
                host = self.todo.get_nowait()
            except queue.Empty:
                return
            self.control.events.put(self._one(host))

    def _one(self, host: str) -> HostResult:
        job = Job(host, self.control)
        if self.control.cancel.is_set():
            return HostResult(host, error="cancelled")
        try:
            result = self.work(job)
        except Exception as exc:  # noqa: BLE001 - one host's failure never stops the others
            result = HostResult(host, error=describe(exc).message)
        finally:
            job.finished()
        if self.control.cancel.is_set() and not result.ok:
            # It was still running when Ctrl-C came and ended because we stopped it.
            result.error = "cancelled"
        result.seconds = result.seconds or time.monotonic() - job.started
        return result

    def drain(self) -> Iterator[Line | HostResult]:
        """Main thread: lines and results as they come, until every host has a result."""
        pending = len(self.hosts)
        try:
            while pending:
                try:
                    event = self.control.events.get(timeout=0.1)
                except queue.Empty:
                    continue
                if isinstance(event, Question):
                    self.prompter.answer(event)
                    continue
                if isinstance(event, HostResult):
                    pending -= 1
                    self.results.setdefault(event.host, event)
                yield event  # type: ignore[misc]
        except KeyboardInterrupt:
            self.control.interrupted = True
            self.control.stop()
            yield from self._cancelled()
        finally:
            if pending and not self.control.interrupted:
                self.control.stop()

    def _cancelled(self) -> Iterator[HostResult]:
        """Results of hosts that were running or waiting when Ctrl-C came."""
        now = time.monotonic()
        while True:
            try:
                event = self.control.events.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, HostResult):
                self.results.setdefault(event.host, event)
        for host in self.hosts:
            if host not in self.results:
                result = HostResult(host, error="cancelled", seconds=now - self.control.started)
                self.results[host] = result
                yield result

    def ordered(self) -> list[HostResult]:
        return [self.results[h] for h in self.hosts if h in self.results]

    def outcome(self, what: str) -> LastRun:
        """For @ok / @failed: a host without a result (interrupted) counts as failed."""
        ok = [h for h in self.hosts if h in self.results and self.results[h].ok]
        done = set(ok)
        return LastRun(what, ok, [h for h in self.hosts if h not in done])
