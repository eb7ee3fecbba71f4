"""The main thread's side of a fan-out: workers started, events read in short slices and handed
to the Handler, held questions released, and the one Ctrl-C path."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Generic

from opsh.commands.shared.fanout.control import Control, Delegate, Job
from opsh.commands.shared.fanout.events import (
    SLICE,
    Done,
    Event,
    Handler,
    Output,
    Progress,
    Question,
    R,
    Start,
)
from opsh.shell.errors import Cancelled, OpshError, describe, swallowed

if TYPE_CHECKING:
    from opsh.shell.background import Background

# After a stop: how long the workers have to report (close channels, remove partial files).
CLEANUP = 3.0
# Held questions are asked at the latest this long after the last of them came: a target that
# neither asks nor finishes (a host that hangs while connecting, a worker waiting for a
# connection another target is still asking about) never holds the others' questions for long.
HOLD_QUIET = 1.5


@dataclass
class Outcome:
    """Which targets answered well: the source of @ok and @failed."""

    ok: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _next(queues: tuple[queue.Queue[str], ...]) -> str | None:
    for todo in queues:
        try:
            return todo.get_nowait()
        except queue.Empty:
            continue
    return None


def explained(exc: BaseException) -> str:
    """A target's failure as its error: the message, and the hint in brackets."""
    described = describe(exc)
    return described.message + (f" ({described.hint})" if described.hint else "")


class FanOut(Generic[R]):
    """`work(job)` for every target, `fanout` at a time; `start()`, then `follow(handler)` or
    `wait(handler)` on the main thread. `failed(target, error)` makes the result of a target
    whose work raised (`explain` words the exception) or never ran.

    `warm(target)`: its work needs no new connection (a kept one is open). `fanout` bounds what
    is costly to start (logins: the server's CPU, its MaxStartups), not a command on a kept
    connection, which costs a round trip or two: warm targets run `warm_fanout` at a time
    besides, and the other workers help with them once no cold target is left."""

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
        hold_quiet: float = HOLD_QUIET,
        warm: Callable[[str], bool] | None = None,
        warm_fanout: int = 0,
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
        self.warm = [t for t in self.direct if warm(t)] if warm is not None and warm_fanout > 0 else []
        self.warm_set = set(self.warm)
        cold = [t for t in self.direct if t not in self.warm_set]
        self.fanout = max(1, min(fanout, len(cold))) if cold else 0
        self.warm_fanout = min(warm_fanout, len(self.warm))
        self.results: dict[str, R] = {}
        self.todo: queue.Queue[str] = queue.Queue()  # cold targets
        self.warm_todo: queue.Queue[str] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.held: list[Question] = []
        self.held_at = 0.0  # when the last held question came
        self.hold_quiet = hold_quiet
        self.interrupted = False  # Ctrl-C
        self.stopped = False  # Ctrl-C, or the consumer went away

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.control.started

    def start(self, background: Background) -> None:
        """Workers (and the delegate) start on the session's threads, joined at exit."""
        for target in self.direct:
            (self.warm_todo if target in self.warm_set else self.todo).put(target)
        both = (self.todo, self.warm_todo)
        bodies: list[tuple[str, Callable[[], None]]] = [
            (f"opsh-fanout-{n}", partial(self._worker, both)) for n in range(self.fanout)
        ]
        bodies += [(f"opsh-fanout-warm-{n}", partial(self._worker, (self.warm_todo,))) for n in range(self.warm_fanout)]
        if self.delegate is not None:
            bodies.append(("opsh-delegate", self.delegate.run))
        for name, body in bodies:
            thread = background.start(name, body)
            if thread is not None:
                self.threads.append(thread)

    # -- workers --

    def _worker(self, queues: tuple[queue.Queue[str], ...]) -> None:
        """Targets from the first of `queues` that has one, until all are empty."""
        while True:
            target = _next(queues)
            if target is None:
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
                self.held_at = time.monotonic()
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
        """Held questions are asked once no running target can still ask (or none came for
        `hold_quiet` seconds), a kind at a time, in the order of the targets."""
        if not self.held:
            return
        quiet = time.monotonic() - self.held_at >= self.hold_quiet
        if not quiet and self.control.running_besides({q.target for q in self.held}):
            return
        order = {target: index for index, target in enumerate(self.targets)}
        held, self.held = sorted(self.held, key=lambda q: order.get(q.target, len(order))), []
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
