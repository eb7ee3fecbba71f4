"""The fan-out's event protocol: what a target's work reports, and the Handler that consumes it
on the main thread (see the package's docstring)."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from opsh.shell.errors import Cancelled, OpshError

if TYPE_CHECKING:
    from opsh.commands.shared.fanout.control import Job

SLICE = 0.1  # how long a waiting thread sleeps at a time (Ctrl-C latency)


class TargetResult(Protocol):
    """What the engine needs of a target's result (the caller's own type: a host's exit and
    output, a database's answer)."""

    error: str | None
    seconds: float

    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=TargetResult)


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

    kind: str  # the asker's word: "secret", "trust", "sudo", "confirm", "ask"...
    text: str
    target: str = "?"  # who asks (held questions wait for the other running targets)
    about: Any = None  # what the handler needs besides the text (a host key, a user name)
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
        """True: keep it until no running target can still ask (or the askers have waited
        HOLD_QUIET without another question coming), then ask those held together."""
        return False

    def ev_question(self, questions: list[Question]) -> None:
        """Answer each (one question, or those held together). What this raises is the answer
        of every question left unanswered."""
        raise OpshError(f"nobody answers {questions[0].text!r} here")

    def ev_done(self, target: str, result: R) -> None:
        pass

    def ev_cancelled(self, target: str, result: R) -> None:
        pass
