"""Asking the person at the keyboard from inside a connection attempt.

A connection may need a password or a decision about an unknown host key. On the main thread
(`connect`, SSH mode) the question goes straight to the session. In a parallel run the
connection lives in a worker thread, which must not touch the terminal: it posts the question
to the fan-out's main loop (which waits in short slices anyway) and blocks until it is answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.shell.errors import Cancelled, OpshError

if TYPE_CHECKING:
    from opsh.commands.shared.fanout.control import Control
    from opsh.commands.shared.fanout.events import Question
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


class QueuedPrompter(Prompter):
    """For worker threads: each question goes to the fan-out's main thread (Control.ask) and
    the worker waits for the answer; `answer()` is the main thread's side."""

    def __init__(self, session: Session, control: Control) -> None:
        super().__init__(session)
        self.control = control

    def secret(self, prompt: str) -> str:
        return str(self.control.ask("secret", prompt))

    def trust(self, question: str) -> bool:
        if self.accept_all:
            return True
        return bool(self.control.ask("trust", question))

    def answer(self, question: Question) -> None:
        """Main thread: ask the person (an "a" answered earlier still says yes to the rest)."""
        if question.kind == "secret":
            question.answer(Prompter.secret(self, question.text))
        else:
            question.answer(Prompter.trust(self, question.text))
