"""Questions during `--on TARGETS`: relayed from the workers, asked on the main thread.

Workers never touch the terminal: while the fan-out runs, `session.io` is a Relay that posts a
worker's question (a password, a confirmation) to the fan-out's main thread. There, Asking
(the fan-out's handler) asks passwords one at a time as they come; confirmations are held
until every running target has either asked or finished, then asked ONCE, naming every
target, and the answer goes to all of them (and to any target that asks later).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.fanout.events import Handler, Question
from opsh.commands.shared.many.work import Answer
from opsh.shell.interact import Interaction

if TYPE_CHECKING:
    from opsh.commands.shared.fanout.control import Control


class Relay(Interaction):
    """`session.io` while a fan-out runs: the main thread asks directly, a worker through the
    fan-out (and blocks until the main thread answers)."""

    def __init__(self, inner: Interaction, control: Control) -> None:
        self.inner = inner
        self.control = control

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
        return self.control.ask(kind, text)


class Asking(Handler[Answer]):
    """The `--on` consumer of the fan-out: its questions, asked through the session's own
    Interaction (`inner`, not the Relay). The answers are merged once all are in."""

    def __init__(self, inner: Interaction, names: list[str]) -> None:
        self.inner = inner
        self.names = names
        self.confirmed: bool | None = None  # the one answer to the targets' confirmations

    def holds(self, question: Question) -> bool:
        return question.kind == "confirm" and self.confirmed is None

    def ev_question(self, questions: list[Question]) -> None:
        if questions[0].kind == "confirm":
            if self.confirmed is None:
                self.confirmed = bool(self.inner.confirm(combined(questions, self.names)))
            for question in questions:
                question.answer(self.confirmed)
            return
        for question in questions:
            question.answer(getattr(self.inner, question.kind)(question.text))


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
