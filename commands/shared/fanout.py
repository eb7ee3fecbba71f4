"""One engine for work on many targets at once: `run`, `copy`, `run --via`, `sql|redis|mongo --on`.

Each target's work runs in a worker thread, at most `fanout` at a time, and reports through
one queue; the main thread reads it in slices of a tenth of a second (so Ctrl-C is never
stuck) and hands every event to the consumer, a Handler, in the manner of ClusterShell's
EventHandler:

    ev_start(target)                 its work began (a worker picked it up)
    ev_output(target, stream, text)  whole lines of its output
    ev_progress(target, amount)      part of its work done (bytes copied)
    ev_question([question, ...])     it asks the person something (a password, a host key,
                                     a confirmation); answered here, on the main thread
    ev_done(target, result)          it finished (well or not)
    ev_cancelled(target, result)     the fan-out was stopped before it finished

A question can be held (`Handler.holds`): it waits until every running target has either
asked or finished, then all held questions of its kind come to `ev_question` together, so one
answer can serve them all. Ctrl-C is one path for every consumer: running work is
interrupted (then killed after STOP_GRACE), targets not started are cancelled, what finished
is kept. The engine knows no backend: what a target's work is, how its result looks and how
it is stopped are the caller's (ssh's channels and signals, a database handle's cancel()).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from opsh.shell.errors import Cancelled, OpshError, describe, swallowed

if TYPE_CHECKING:
    from opsh.shell.background import Background

SLICE = 0.1  # how long the main thread waits at a time (Ctrl-C latency)
# Output of one target waiting for the screen: past this its worker waits in emit(), so a
# remote host waits too (a slow terminal slows the hosts and never fills memory).
BUFFER = 1 << 20
STOP_GRACE = 0.5  # Ctrl-C: how long interrupted work has before it is killed
CLEANUP = 3.0  # Ctrl-C: how long workers then have to report (close channels, remove partial files)


class TargetResult(Protocol):
    """What the engine needs of a target's result (the caller's own type: a host's exit and
    output, a database's answer)."""

    error: str | None
    seconds: float

    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=TargetResult)


class Running(Protocol):
    """What a worker registers while its target works, so that Ctrl-C reaches it."""

    def interrupt(self) -> None:
        """Stop, gently and at once (a remote command gets TERM, a query is cancelled)."""

    def kill(self) -> None:
        """Still running STOP_GRACE seconds after interrupt(): stop for good."""


@dataclass
class Outcome:
    """Which targets answered well: the source of @ok and @failed."""

    ok: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- events


@dataclass
class Start:
    target: str


@dataclass
class Output:
    """Whole lines of one target's stdout or stderr."""

    target: str
    stream: str  # "out" | "err"
    text: str
    job: Job


@dataclass
class Progress:
    target: str
    amount: int


@dataclass
class Done(Generic[R]):
    target: str
    result: R


@dataclass
class Question:
    """A worker's question for the person; the main thread answers (or refuses) it once."""

    kind: str  # the asker's word: "secret", "trust", "confirm", "ask"...
    text: str
    target: str = "?"  # who asks (held questions wait for the other running targets)
    answered: bool = False
    _reply: queue.Queue[tuple[bool, Any]] = field(default_factory=lambda: queue.Queue(maxsize=1), repr=False)

    def answer(self, value: Any) -> None:
        if not self.answered:
            self.answered = True
            self._reply.put((True, value))

    def refuse(self, error: BaseException) -> None:
        """The worker raises `error` where it asked."""
        if not self.answered:
            self.answered = True
            self._reply.put((False, error))

    def wait(self, cancel: threading.Event) -> Any:
        """Worker: the answer, or the refusal raised; Cancelled as soon as the run is."""
        while True:
            try:
                ok, value = self._reply.get(timeout=SLICE)
            except queue.Empty:
                if cancel.is_set():
                    raise Cancelled("cancelled") from None
                continue
            if not ok:
                raise value
            return value


Event = Start | Output | Progress | Question | Done[Any]


class Handler(Generic[R]):
    """The consumer of a fan-out's events, all called on the main thread. Override what you
    need; output and progress are ignored, and nobody answers questions, by default."""

    def ev_start(self, target: str) -> None:
        pass

    def ev_output(self, target: str, stream: str, text: str) -> None:
        pass

    def ev_progress(self, target: str, amount: int) -> None:
        pass

    def holds(self, question: Question) -> bool:
        """True: keep it until no running target can still ask, then ask those held together."""
        return False

    def ev_question(self, questions: list[Question]) -> None:
        """Answer each (one question, or those held together). What this raises is the answer
        of every question left unanswered."""
        raise OpshError(f"nobody answers {questions[0].text!r} here")

    def ev_done(self, target: str, result: R) -> None:
        pass

    def ev_cancelled(self, target: str, result: R) -> None:
        pass


# ---------------------------------------------------------------- the workers' side


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
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self._local = threading.local()  # which target this worker thread works for

    def post(self, event: Event) -> None:
        self.events.put(event)

    def ask(self, kind: str, text: str) -> Any:
        """From a worker: the question goes to the main thread; blocks until it is answered
        (its refusal is raised here) or the run is cancelled."""
        question = Question(kind, text, getattr(self._local, "target", "?"))
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
        self.unregister(target)

    def running_besides(self, targets: set[str]) -> bool:
        with self.lock:
            return bool(self.busy - targets)

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


class Delegate(Protocol):
    """Targets a fan-out hands to another engine as a whole (the gateways of `run --via`):
    `run()` is a thread body that posts their events on the fan-out's Control (Output through
    a Job of theirs, Done for each), so the same handler and the same Ctrl-C serve them."""

    targets: list[str]

    def run(self) -> None: ...


def explained(exc: BaseException) -> str:
    """A target's failure as its error: the message, and the hint in brackets."""
    described = describe(exc)
    return described.message + (f" ({described.hint})" if described.hint else "")


# ---------------------------------------------------------------- the main thread's side


class FanOut(Generic[R]):
    """`work(job)` for every target, `fanout` at a time; `start()`, then `follow(handler)` or
    `wait(handler)` on the main thread. `failed(target, error)` makes the result of a target
    whose work raised (`explain` words the exception) or never ran."""

    def __init__(
        self,
        targets: list[str],
        work: Callable[[Job], R],
        failed: Callable[[str, str], R],
        fanout: int,
        control: Control | None = None,
        *,
        explain: Callable[[BaseException], str] = explained,
        delegate: Delegate | None = None,
        cleanup: float = CLEANUP,
    ) -> None:
        self.targets = targets
        self.work = work
        self.failed = failed
        self.explain = explain
        self.control = control or Control()
        self.delegate = delegate
        self.cleanup = cleanup
        delegated = set(delegate.targets) if delegate is not None else set()
        self.direct = [t for t in targets if t not in delegated]
        self.fanout = max(1, min(fanout, len(self.direct) or 1))
        self.results: dict[str, R] = {}
        self.todo: queue.Queue[str] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.held: list[Question] = []
        self.interrupted = False  # Ctrl-C
        self.stopped = False  # Ctrl-C, or the consumer went away

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.control.started

    def start(self, background: Background) -> None:
        """Workers (and the delegate) start on the session's threads, joined at exit."""
        for target in self.direct:
            self.todo.put(target)
        bodies = [(f"opsh-fanout-{n}", self._worker) for n in range(self.fanout if self.direct else 0)]
        if self.delegate is not None:
            bodies.append(("opsh-delegate", self.delegate.run))
        for name, body in bodies:
            thread = background.start(name, body)
            if thread is not None:
                self.threads.append(thread)

    # -- workers --

    def _worker(self) -> None:
        while True:
            try:
                target = self.todo.get_nowait()
            except queue.Empty:
                return
            self.control.post(Done(target, self._one(target)))

    def _one(self, target: str) -> R:
        job = Job(target, self.control)
        if job.cancelled():
            return self.failed(target, "cancelled")
        self.control.enter(target)
        try:
            result = self.work(job)
        except Exception as exc:  # noqa: BLE001 - one target's failure never stops the others
            result = self.failed(target, self.explain(exc))
        finally:
            self.control.leave(target)
        if job.cancelled() and not result.ok:
            result.error = "cancelled"  # it was running when Ctrl-C came, and ended because of it
        result.seconds = result.seconds or time.monotonic() - job.started
        return result

    # -- the main thread --

    def wait(self, handler: Handler[R]) -> None:
        """`follow` to the end, for a consumer that shows nothing while it runs."""
        for _ in self.follow(handler):
            pass

    def follow(self, handler: Handler[R]) -> Iterator[None]:
        """Each event to `handler` as it comes, then a yield (a streaming consumer shows what
        the handler made of it), until every target has a result. Ctrl-C, or the consumer
        going away (the generator closed), stops the rest."""
        try:
            while not self.stopped and len(self.results) < len(self.targets):
                try:
                    event = self.control.events.get(timeout=SLICE)
                except queue.Empty:
                    self._release_held(handler)
                    if self._no_worker_left():
                        break  # the session is ending: nothing more will come
                    continue
                self._deliver(event, handler)
                yield
                if isinstance(event, Output):
                    event.job.shown(len(event.text))  # the consumer is done with it
        except KeyboardInterrupt:
            self.interrupted = True
        finally:
            if len(self.results) < len(self.targets):
                self._stop()
        yield from self._settle(handler)

    def interrupt(self) -> None:
        """Ctrl-C that landed in the consumer (while it wrote a line), not in `follow`."""
        self.interrupted = True
        self._stop()

    def _deliver(self, event: Event, handler: Handler[R]) -> None:
        if isinstance(event, Output):
            handler.ev_output(event.target, event.stream, event.text)
        elif isinstance(event, Progress):
            handler.ev_progress(event.target, event.amount)
        elif isinstance(event, Start):
            handler.ev_start(event.target)
        elif isinstance(event, Question):
            if handler.holds(event):
                self.held.append(event)
            else:
                self._ask(handler, [event])
        else:
            self._record(event.target, event.result, handler)
        self._release_held(handler)

    def _record(self, target: str, result: R, handler: Handler[R]) -> None:
        if target in self.results:
            return
        self.results[target] = result
        if self.stopped and not result.ok:
            handler.ev_cancelled(target, result)
        else:
            handler.ev_done(target, result)

    def _release_held(self, handler: Handler[R]) -> None:
        """Held questions are asked once no running target can still ask, a kind at a time."""
        if not self.held or self.control.running_besides({q.target for q in self.held}):
            return
        held, self.held = self.held, []
        for kind in dict.fromkeys(q.kind for q in held):
            self._ask(handler, [q for q in held if q.kind == kind])

    def _ask(self, handler: Handler[R], questions: list[Question]) -> None:
        try:
            handler.ev_question(questions)
        except Exception as exc:  # noqa: BLE001 - a refusal is the asking worker's error
            for question in questions:
                question.refuse(exc)
        except BaseException:  # Ctrl-C while asking: the workers stop, the run is cancelled
            for question in questions:
                question.refuse(Cancelled("cancelled"))
            raise
        for question in questions:
            question.refuse(OpshError(f"no answer to {question.text!r}"))  # (a no-op once answered)

    def _no_worker_left(self) -> bool:
        return not any(t.is_alive() for t in self.threads) and self.control.events.empty()

    def _stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        for question in self.held:
            question.refuse(Cancelled("cancelled"))
        self.held = []
        self.control.stop()
        self.control.finish_stop()

    def _settle(self, handler: Handler[R]) -> Iterator[None]:
        """After a stop: the workers get up to `cleanup` seconds to report (a copy removes its
        partial file, a query comes back cancelled) before the command returns; a target that
        never reports is cancelled."""
        deadline = time.monotonic() + self.cleanup
        try:
            while len(self.results) < len(self.targets) and time.monotonic() < deadline:
                try:
                    event = self.control.events.get(timeout=SLICE / 2)
                except queue.Empty:
                    if not any(t.is_alive() for t in self.threads):
                        break
                    continue
                if isinstance(event, Question):
                    event.refuse(Cancelled("cancelled"))
                elif isinstance(event, Done) and event.target not in self.results:
                    self._record(event.target, event.result, handler)
                    yield
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting (the workers are daemons)
            swallowed("waiting for cancelled targets (a second Ctrl-C)")
        now = time.monotonic()
        for target in self.targets:
            if target not in self.results:
                result = self.failed(target, "cancelled")
                result.seconds = now - self.control.started
                self._record(target, result, handler)
                yield

    def ordered(self) -> list[R]:
        return [self.results[t] for t in self.targets if t in self.results]

    def outcome(self) -> Outcome:
        """For @ok / @failed: a target without a result counts as failed."""
        ok = [t for t in self.targets if t in self.results and self.results[t].ok]
        done = set(ok)
        return Outcome(ok, [t for t in self.targets if t not in done])
