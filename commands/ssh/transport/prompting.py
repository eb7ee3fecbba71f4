"""Asking the person at the keyboard from inside a connection attempt.

A connection may need a password or a decision about an unknown host key. On the main thread
(`connect`, SSH mode) the question goes straight to the session. In a parallel run the
connection lives in a worker thread, which must not touch the terminal: it posts the question
to the fan-out's main loop (which waits in short slices anyway) and blocks until it is answered.

Unknown host keys of a run are asked about together: the fan-out holds them until every
host that is still connecting has asked or got past its key, then one table lists them with
their fingerprints and one answer says yes to all, no to all, or one by one. Whatever was
typed while the run went on is thrown away first: a line typed ahead is never an answer.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsh.shell.errors import Cancelled, OpshError, swallowed

if TYPE_CHECKING:
    from opsh.commands.shared.fanout.control import Control
    from opsh.commands.shared.fanout.events import Question
    from opsh.shell.session import Session

ALL = ("a", "all", "y", "yes")  # in the question about several hosts
ONE_BY_ONE = ("o", "one", "one by one")


class CannotAsk(OpshError):
    """There is nobody to ask (a script, no terminal)."""


@dataclass(frozen=True)
class UnknownKey:
    """A host key that is not in known_hosts, as the person is asked about it."""

    host: str  # the name as typed
    known_as: str  # the name known_hosts would give it
    key_type: str
    fingerprint: str

    @property
    def where(self) -> str:
        return self.known_as if self.known_as == self.host else f"{self.host} ({self.known_as})"

    @property
    def described(self) -> str:
        return f"{self.key_type} key {self.fingerprint}"

    @property
    def question(self) -> str:
        return f"The authenticity of {self.where} is unknown: {self.described}. Trust it?"


def key_table(keys: list[UnknownKey]) -> str:
    """The keys asked about together, one aligned line per host."""
    rows = [("host", "known_hosts name", "key", "fingerprint")]
    rows += [(key.host, key.known_as, key.key_type, key.fingerprint) for key in keys]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    head = f"{len(keys)} hosts have keys that are not in known_hosts (compare each fingerprint with the host's own):"
    return "\n".join([head, *lines])


def discard_typeahead() -> None:
    """Lines typed while the command ran are not answers to a question it asks now: what waits
    unread on the terminal is thrown away before asking."""
    import termios

    try:
        descriptor = sys.stdin.fileno()
        if sys.stdin.isatty():
            termios.tcflush(descriptor, termios.TCIFLUSH)
    except (OSError, ValueError, termios.error):
        swallowed("discarding input typed ahead (no terminal to flush)")


class Prompter:
    """Asks through the session (main thread only)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.accept_all = False  # "yes to all": the rest of the command's keys are trusted
        self.refuse_all = False  # "no to all": the rest are refused

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

    def trust(self, key: UnknownKey) -> bool:
        """A yes/no/all question that only a person at a terminal may answer (never --yes)."""
        decided = self._decided()
        return decided if decided is not None else self._ask_about(key)

    def trust_all(self, keys: list[UnknownKey]) -> list[bool]:
        """Several hosts' keys at once: the table, then yes to all, no to all or one by one."""
        decided = self._decided()
        if decided is not None:
            return [decided] * len(keys)
        if len(keys) == 1:
            return [self._ask_about(keys[0])]
        answer = self._ask(key_table(keys) + "\nTrust them? [y=yes to all / N=no to all / o=one by one] ")
        if answer in ALL:
            self.accept_all = True
            return [True] * len(keys)
        if answer in ONE_BY_ONE:
            return [self._ask(f"{key.question} [y/N] ") in ("y", "yes") for key in keys]
        self.refuse_all = True
        return [False] * len(keys)

    def _ask_about(self, key: UnknownKey) -> bool:
        answer = self._ask(f"{key.question} [y/N/a=yes to all] ")
        if answer in ("a", "all"):
            self.accept_all = True
            return True
        return answer in ("y", "yes")

    def _decided(self) -> bool | None:
        if self.accept_all:
            return True
        if self.refuse_all:
            return False
        if not self.interactive:
            raise CannotAsk("cannot ask about a host key without a terminal")
        return None

    def _ask(self, prompt: str) -> str:
        discard_typeahead()
        return self.session.io.ask(prompt).strip().lower()


class QueuedPrompter(Prompter):
    """For worker threads: each question goes to the fan-out's main thread (Control.ask) and
    the worker waits for the answer; `answer()` and `answer_keys()` are the main thread's side."""

    def __init__(self, session: Session, control: Control) -> None:
        super().__init__(session)
        self.control = control

    def secret(self, prompt: str) -> str:
        return str(self.control.ask("secret", prompt))

    def trust(self, key: UnknownKey) -> bool:
        decided = self._decided()
        if decided is not None:
            return decided
        return bool(self.control.ask("trust", key.question, about=key))

    def ask_secret(self, prompt: str) -> str:
        """Main thread: a hidden answer, asked now."""
        return Prompter.secret(self, prompt)

    def answer(self, question: Question) -> None:
        """Main thread: ask the person."""
        if question.kind == "secret":
            question.answer(self.ask_secret(question.text))
        else:
            self.answer_keys([question])

    def answer_keys(self, questions: list[Question]) -> None:
        """Main thread: the unknown keys held together, asked about at once."""
        verdicts = self.trust_all([question.about for question in questions])
        for question, trusted in zip(questions, verdicts, strict=True):
            question.answer(trusted)
