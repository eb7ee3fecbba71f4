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

# Output of one host waiting for the screen: past this a host's worker stops reading its
# channel, so the SSH window fills and the host itself waits (a slow terminal slows the hosts
# and never fills memory).
BUFFER = 1 << 20
# Ctrl-C: how long commands have after TERM before their process group gets KILL.
STOP_GRACE = 0.5
# Ctrl-C: how long workers have to finish after that (close channels, remove partial files).
CLEANUP = 3.0


@dataclass
class HostResult:
    host: str
    exit: int | None = None
    error: str | None = None
    seconds: float = 0.0
    # (stream, text) in the order it came, when kept; the texts joined are the bytes as sent
    output: list[tuple[str, str]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    reached: bool = False  # the command started on the host (then a failure is not "not reached")

    @property
    def ok(self) -> bool:
        return self.error is None and self.exit == 0

    @property
    def stdout(self) -> str:
        return "".join(text for stream, text in self.output if stream == "out")

    @property
    def stderr(self) -> str:
        return "".join(text for stream, text in self.output if stream == "err")


@dataclass
class Output:
    """Whole lines of one host's stdout or stderr (see remote.Chunker), as one event."""

    host: str
    stream: str  # "out" | "err"
    text: str
    job: Job | None = None


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
        """Workers give up, running commands get TERM now (see `finish_stop` for the KILL)."""
        self.cancel.set()
        self._signal_all("TERM")
        for callback in self.on_cancel:
            callback()

    def finish_stop(self, grace: float = STOP_GRACE) -> None:
        """After `stop()`: commands still running after `grace` seconds get KILL (their whole
        process group on the host: a command that ignores TERM goes too), then their channels
        close. Done here, on the main thread, so that nothing is left behind on a host even
        when opsh exits right after (`opsh -c`)."""
        deadline = time.monotonic() + grace
        while self.active and time.monotonic() < deadline:
            time.sleep(0.02)
        with self.lock:
            left = list(self.active.values())
        for thing in left:
            try:
                thing.kill()
            except Exception:  # noqa: BLE001 - best effort: the host may be gone
                swallowed("killing a running command on cancel")

    def _signal_all(self, name: str) -> None:
        with self.lock:
            active = list(self.active.values())
        for thing in active:
            try:
                thing.signal(name)
            except Exception:  # noqa: BLE001 - best effort
                swallowed("signalling a running command to stop")


class Job:
    """What a worker gets: the host, a way to report output, and the run's cancel flag."""

    def __init__(self, host: str, control: Control) -> None:
        self.host = host
        self.control = control
        self.started = time.monotonic()
        self.bytes = 0  # transferred so far (copy)
        self.buffered = 0  # characters emitted and not yet shown
        self.flow = threading.Condition()

    @property
    def cancelled(self) -> bool:
        return self.control.cancel.is_set()

    def emit(self, stream: str, text: str) -> None:
        """Hand output to the main thread; waits while this host has BUFFER unshown."""
        with self.flow:
            while self.buffered > BUFFER and not self.cancelled:
                self.flow.wait(0.1)
            self.buffered += len(text)
        self.control.events.put(Output(self.host, stream, text, self))

    def shown(self, size: int) -> None:
        with self.flow:
            self.buffered -= size
            self.flow.notify()

    def running(self, thing: Any) -> None:
        """Register something to signal on Ctrl-C (a RemoteCommand or LocalCommand)."""
        with self.control.lock:
            self.control.active[self.host] = thing

    def finished(self) -> None:
        with self.control.lock:
            self.control.active.pop(self.host, None)


Work = Callable[[Job], HostResult]


def host_error(exc: BaseException) -> str:
    """One host's failure as its error cell; a host key refusal keeps its remedy (the
    `ssh-keygen -R` line, `--accept-new`), as `connect` shows it."""
    from opsh.commands.ssh.transport.hostkeys import HostKeyChanged, HostKeyUnknown

    described = describe(exc)
    if isinstance(exc, HostKeyChanged | HostKeyUnknown) and described.hint:
        return f"{described.message} ({described.hint})"
    return described.message


class FanOut:
    def __init__(self, hosts: list[str], work: Work, fanout: int, control: Control, prompter: QueuedPrompter) -> None:
        self.hosts = hosts
        self.work = work
        self.fanout = max(1, min(fanout, len(hosts) or 1))
        self.control = control
        self.prompter = prompter
        self.results: dict[str, HostResult] = {}
        self.todo: queue.Queue[str] = queue.Queue()
        self.threads: list[threading.Thread] = []

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.control.started

    def start(self, background: Background) -> None:
        for host in self.hosts:
            self.todo.put(host)
        for n in range(self.fanout):
            thread = background.start(f"opsh-fanout-{n}", self._worker)
            if thread is not None:
                self.threads.append(thread)

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
            result = HostResult(host, error=host_error(exc))
        finally:
            job.finished()
        if self.control.cancel.is_set() and not result.ok:
            # It was still running when Ctrl-C came and ended because we stopped it.
            result.error = "cancelled"
        result.seconds = result.seconds or time.monotonic() - job.started
        return result

    def drain(self) -> Iterator[Output | HostResult]:
        """Main thread: lines and results as they come, until every host has a result."""
        pending = len(self.hosts)
        try:
            while pending:
                try:
                    event = self.control.events.get(timeout=0.1)
                except queue.Empty:
                    if not any(t.is_alive() for t in self.threads) and self.control.events.empty():
                        break  # no worker left (the session is ending): nothing more will come
                    continue
                if isinstance(event, Question):
                    self.prompter.answer(event)
                    continue
                if isinstance(event, HostResult):
                    pending -= 1
                    self.results.setdefault(event.host, event)
                yield event  # type: ignore[misc]
                if isinstance(event, Output) and event.job is not None:
                    event.job.shown(len(event.text))  # the consumer is done with it
        except KeyboardInterrupt:
            self.control.interrupted = True
            self.control.stop()
            self.control.finish_stop()
            yield from self._cancelled()
        finally:
            if pending and not self.control.interrupted:
                self.control.stop()  # the consumer went away (a pager quit): stop the hosts
                self.control.finish_stop()
        if pending:
            yield from self._cancelled()

    def _cancelled(self) -> Iterator[HostResult]:
        """Results of hosts that were running or waiting when Ctrl-C came. Workers get up to
        CLEANUP seconds to finish their own cleanup (a copy removes its partial file), so that
        it is done before the command returns and `opsh -c` exits."""
        now = time.monotonic()
        deadline = now + CLEANUP
        while len(self.results) < len(self.hosts) and time.monotonic() < deadline:
            try:
                event = self.control.events.get(timeout=0.05)
            except queue.Empty:
                if not any(t.is_alive() for t in self.threads):
                    break
                continue
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
