"""The parallel part of `--on TARGETS`: worker threads, relayed questions, Ctrl-C.

Each target runs on its own connection in a worker thread, at most `fanout` at a time. An
open handle is used itself (it is one connection, and only its worker touches it while the
main thread waits); a [connections.NAME] entry that is not open gets a fresh connection,
opened in the worker and closed when its answer is in. The statement goes through the
handle's own checks, so readonly refusals and danger questions are per target.

Workers never touch the terminal: while the fan-out runs, `session.io` is a relay that posts a
worker's question (a password, a confirmation) to the main thread's loop. Passwords are asked
one at a time as they come; confirmations are held until every running target has either
asked or finished, then asked ONCE, naming every target, and the answer goes to all of them.
The main thread waits in slices of a tenth of a second, so Ctrl-C reaches it at once: it
cancels every running statement (the handle's cancel(): KILL QUERY on a side connection for
MySQL, dropping the connection for Redis, closing cursors for Mongo; fresh connections are
closed too) and returns what finished.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.many.merge import Settled, settle
from opsh.shell.errors import Cancelled, describe, swallowed
from opsh.shell.interact import Interaction

if TYPE_CHECKING:
    from opsh.commands.shared.many.targets import Backend
    from opsh.shell.handles import Handle
    from opsh.shell.session import Session

SLICE = 0.1  # how long the main thread waits at a time (Ctrl-C latency)
CLEANUP = 5.0  # after Ctrl-C: how long cancelled statements have to come back


@dataclass
class Answer:
    """One target's outcome: its result read to the end in the worker, or why it failed."""

    target: str
    result: Settled | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Question:
    """A worker's question for the main thread; the reply is (True, value) or (False, error)."""

    kind: str  # confirm | secret | ask
    text: str
    target: str
    reply: queue.Queue[tuple[bool, Any]] = field(default_factory=lambda: queue.Queue(maxsize=1))


class Relay(Interaction):
    """`session.io` while a fan-out runs: the main thread asks directly, a worker through the
    fan-out's loop (and blocks until the main thread answers)."""

    def __init__(self, inner: Interaction, fan: Fan) -> None:
        self.inner = inner
        self.fan = fan

    @property
    def interactive(self) -> bool:  # type: ignore[override]
        return bool(self.inner.interactive)

    @property
    def assume_yes(self) -> bool:
        return self.inner.assume_yes

    @assume_yes.setter
    def assume_yes(self, value: bool) -> None:
        self.inner.assume_yes = value

    def confirm(self, question: str) -> bool:
        return bool(self._ask("confirm", question))

    def secret(self, prompt: str) -> str:
        return str(self._ask("secret", prompt))

    def ask(self, prompt: str) -> str:
        return str(self._ask("ask", prompt))

    def _ask(self, kind: str, text: str) -> Any:
        if threading.current_thread() is threading.main_thread():
            return getattr(self.inner, kind)(text)
        return self.fan.ask(kind, text)


class Fan:
    """One fan-out: `run()` on the main thread returns an Answer per target, in order."""

    def __init__(self, session: Session, backend: Backend, names: list[str], statement: Any, fanout: int) -> None:
        self.session = session
        self.backend = backend
        self.names = names
        self.statement = statement
        self.fanout = max(1, min(fanout, len(names)))
        self.events: queue.Queue[Answer | Question] = queue.Queue()
        self.pending: queue.Queue[str] = queue.Queue()
        self.cancel = threading.Event()
        self.lock = threading.Lock()
        self.active: dict[str, tuple[Handle, bool]] = {}  # target -> (handle, opened by us)
        self.busy: set[str] = set()
        self.held: list[Question] = []
        self.confirmed: bool | None = None
        self.answers: dict[str, Answer] = {}
        self.interrupted = False
        self.started = time.monotonic()
        self.local = threading.local()
        self.inner = session.io

    # ------------------------------------------------------------ main thread

    def run(self) -> list[Answer]:
        for name in self.names:
            self.pending.put(name)
        self.session.io = Relay(self.inner, self)
        try:
            for index in range(self.fanout):
                threading.Thread(target=self._worker, name=f"opsh-many-{index}", daemon=True).start()
            self._loop()
        except KeyboardInterrupt:
            self._interrupt()
        finally:
            self.session.io = self.inner
        return [self.answers.get(n) or Answer(n, error="cancelled") for n in self.names]

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def _loop(self) -> None:
        while len(self.answers) < len(self.names):
            try:
                event = self.events.get(timeout=SLICE)
            except queue.Empty:
                self._ask_held()
                continue
            if isinstance(event, Answer):
                self.answers[event.target] = event
            else:
                self._question(event)
            self._ask_held()

    def _question(self, question: Question) -> None:
        if question.kind != "confirm":
            try:
                value = getattr(self.inner, question.kind)(question.text)
            except BaseException as exc:  # a refusal or Ctrl-C is the worker's answer too
                question.reply.put((False, exc))
                if isinstance(exc, KeyboardInterrupt):
                    raise
                return
            question.reply.put((True, value))
        elif self.confirmed is not None:
            question.reply.put((True, self.confirmed))
        else:
            self.held.append(question)

    def _ask_held(self) -> None:
        """Ask the held confirmations as one question once no running target can still ask."""
        if not self.held:
            return
        with self.lock:
            still_running = self.busy - {q.target for q in self.held}
        if still_running:
            return
        held, self.held = self.held, []
        try:
            self.confirmed = bool(self.inner.confirm(combined(held, self.names)))
        except BaseException:
            self.held = held
            raise
        for question in held:
            question.reply.put((True, self.confirmed))

    def _interrupt(self) -> None:
        """Ctrl-C: nothing new starts, every running statement is cancelled, what finished stays."""
        self.interrupted = True
        self.cancel.set()
        for question in self.held:
            question.reply.put((False, Cancelled("cancelled")))
        self.held = []
        with self.lock:
            running = list(self.active.values())
        for handle, owned in running:
            _stop(handle, owned)
        deadline = time.monotonic() + CLEANUP
        try:
            while len(self.answers) < len(self.names) and time.monotonic() < deadline:
                try:
                    event = self.events.get(timeout=SLICE)
                except queue.Empty:
                    continue
                if isinstance(event, Answer):
                    self.answers[event.target] = event
                else:
                    event.reply.put((False, Cancelled("cancelled")))
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, the workers are daemons
            swallowed("waiting for cancelled targets (second Ctrl-C)")

    # ------------------------------------------------------------ workers

    def ask(self, kind: str, text: str) -> Any:
        """From a worker: post the question, wait for the main thread's answer."""
        question = Question(kind, text, getattr(self.local, "target", "?"))
        self.events.put(question)
        ok, value = question.reply.get()
        if not ok:
            raise value
        return value

    def _worker(self) -> None:
        while not self.cancel.is_set():
            try:
                name = self.pending.get_nowait()
            except queue.Empty:
                return
            self.events.put(self._one(name))
        while True:  # cancelled before they started
            try:
                self.events.put(Answer(self.pending.get_nowait(), error="cancelled"))
            except queue.Empty:
                return

    def _one(self, name: str) -> Answer:
        self.local.target = name
        started = time.monotonic()
        answer = Answer(name)
        handle = self.session.handles.get(name)
        owned = handle is None
        with self.lock:
            self.busy.add(name)
        try:
            if handle is None:
                handle = self._open(name)
            with self.lock:
                self.active[name] = (handle, owned)
            if self.cancel.is_set():
                raise Cancelled("cancelled")
            answer.result = settle(self.backend.run(self.session, handle, self.statement))
            if self.cancel.is_set():  # cut short (a killed SLEEP answers 1): not an answer
                answer.result, answer.error = None, "cancelled"
        except BaseException as exc:  # noqa: BLE001 - a target's failure is its answer, not the run's
            answer.error = "cancelled" if self.cancel.is_set() else _message(exc)
        finally:
            with self.lock:
                self.active.pop(name, None)
                self.busy.discard(name)
            if owned and handle is not None:
                _close(handle)
            answer.seconds = time.monotonic() - started
        return answer

    def _open(self, name: str) -> Handle:
        """A fresh connection for a config entry: the config's URL, readonly, tag and password
        (password_env, else the relayed hidden prompt); never added to the session."""
        from opsh.shell.connect import open_connection

        return open_connection(self.session, name)


def combined(held: list[Question], names: list[str]) -> str:
    """One question for every target that asked: the common question with the target names
    in place of each one's own name, or each target's question on a line of its own."""
    order = {name: index for index, name in enumerate(names)}
    held = sorted(held, key=lambda q: order.get(q.target, len(order)))
    if len(names) == 1 and len(held) == 1:
        return held[0].text
    everyone = ", ".join(names)
    shapes = {_without_name(q.text, q.target) for q in held}
    if len(shapes) == 1:
        shape = shapes.pop()
        if "{targets}" in shape:
            return shape.replace("{targets}", everyone)
        return f"On {everyone}: {shape}"
    lines = "\n".join(f"  {q.target}: {q.text}" for q in held)
    return f"{len(held)} targets ask first:\n{lines}\nGo ahead on {everyone}?"


def _without_name(text: str, name: str) -> str:
    """The question with its last mention of the target's name as a placeholder."""
    matches = list(re.finditer(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text))
    if not matches:
        return text
    last = matches[-1]
    return text[: last.start()] + "{targets}" + text[last.end() :]


def _message(exc: BaseException) -> str:
    described = describe(exc)
    return described.message + (f" ({described.hint})" if described.hint else "")


def _stop(handle: Handle, owned: bool) -> None:
    try:
        handle.cancel()
    except Exception:  # noqa: BLE001 - cancelling one target must not stop cancelling the others
        swallowed(f"cancelling the statement on {handle.name}")
    if owned:
        _close(handle)


def _close(handle: Handle) -> None:
    try:
        handle.close()
    except Exception:  # noqa: BLE001 - close() must not raise, but a driver may
        swallowed(f"closing the fan-out connection to {handle.name}")
