"""Asking the person at the keyboard from inside a connection attempt.

A connection may need a password or a decision about an unknown host key. On the main thread
(`connect`, SSH mode) the question goes straight to the session. In a parallel run the
connection lives in a worker thread, which must not touch the terminal: it posts the question
to the run's main loop (which waits in short slices anyway) and blocks until it is answered.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opsh.shell.errors import Cancelled, OpshError

if TYPE_CHECKING:
    from opsh.shell.session import Session


class CannotAsk(OpshError):
    """There is nobody to ask (a script, no terminal)."""


class Prompter:
    """Asks through the session (main thread only)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.accept_all = False  # "a" answered to a host key question: yes to the rest

    @property
    def interactive(self) -> bool:
        return bool(self.session.io.interactive)

    def secret(self, prompt: str) -> str:
        try:
            return self.session.secret(prompt)
        except Cancelled:
            raise
        except OpshError as exc:
            raise CannotAsk(exc.message, exc.hint) from None

    def trust(self, question: str) -> bool:
        """A yes/no/all question that only a person at a terminal may answer (never --yes)."""
        if self.accept_all:
            return True
        if not self.interactive:
            raise CannotAsk("cannot ask about a host key without a terminal")
        answer = self.session.io.ask(f"{question} [y/N/a=yes to all] ").strip().lower()
        if answer in ("a", "all"):
            self.accept_all = True
            return True
        return answer in ("y", "yes")


@dataclass
class Question:
    """One question from a worker; the main thread fills in `value` or `error`, then `done`."""

    kind: str  # "secret" | "trust"
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    value: object = None
    error: Exception | None = None


class QueuedPrompter(Prompter):
    """For worker threads: questions go to `outbox`, answered by the main loop's `answer()`."""

    def __init__(self, session: Session, outbox: queue.Queue[object], cancel: threading.Event) -> None:
        super().__init__(session)
        self.outbox = outbox
        self.cancel = cancel
        self.lock = threading.Lock()  # one question on screen at a time

    def secret(self, prompt: str) -> str:
        return str(self._ask("secret", prompt))

    def trust(self, question: str) -> bool:
        if self.accept_all:
            return True
        return bool(self._ask("trust", question))

    def _ask(self, kind: str, text: str) -> object:
        with self.lock:
            if kind == "trust" and self.accept_all:  # answered "all" while this one waited
                return True
            question = Question(kind, text)
            self.outbox.put(question)
            while not question.done.wait(0.1):
                if self.cancel.is_set():
                    raise Cancelled("cancelled")
            if question.error is not None:
                raise question.error
            return question.value

    def answer(self, question: Question) -> None:
        """Main thread: ask the person and hand the answer (or the failure) to the worker."""
        try:
            if question.kind == "secret":
                question.value = Prompter.secret(self, question.text)
            else:
                question.value = Prompter.trust(self, question.text)
        except Exception as exc:  # noqa: BLE001 - the worker re-raises it
            question.error = exc
        except BaseException:
            question.error = Cancelled("cancelled")  # Ctrl-C: the worker stops, the run is cancelled
            raise
        finally:
            question.done.set()
