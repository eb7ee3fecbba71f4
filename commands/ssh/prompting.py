"""Asking the person at the keyboard from inside a connection attempt.

A connection may need a password or a decision about an unknown host key. On the main thread
(`connect`, SSH mode) the question goes straight to the session. In a parallel run the
connection lives in a worker thread, which must not touch the terminal: it posts the question
to the run's main loop (which waits in short slices anyway) and blocks until it is answered.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shell.errors import Cancelled, OpshError

if TYPE_CHECKING:
    from shell.session import Session


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
    kind: str  # "secret" | "trust"
    text: str
    answer: Future[object] = field(default_factory=Future)


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
        return bool(self._ask("trust", question))

    def _ask(self, kind: str, text: str) -> object:
        with self.lock:
            question = Question(kind, text)
            self.outbox.put(question)
            while True:
                if self.cancel.is_set():
                    raise Cancelled("cancelled")
                try:
                    return question.answer.result(timeout=0.1)
                except TimeoutError:
                    continue

    def answer(self, question: Question) -> None:
        """Main thread: ask the person and hand the answer (or the failure) to the worker."""
        try:
            if question.kind == "secret":
                question.answer.set_result(Prompter.secret(self, question.text))
            else:
                question.answer.set_result(Prompter.trust(self, question.text))
        except BaseException as exc:  # noqa: BLE001 - the worker re-raises it (Ctrl-C included)
            question.answer.set_exception(exc if isinstance(exc, Exception) else Cancelled("cancelled"))
            if not isinstance(exc, Exception):
                raise
