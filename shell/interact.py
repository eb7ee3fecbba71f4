"""Asking the person at the keyboard: confirmations, hidden passwords, yes/no questions.

Commands never read stdin themselves. They call the session, which asks through one of these:
a terminal asks; a script or a pipe cannot, so it refuses dangerous actions unless `--yes`
was given and fails clearly when a secret is needed but none was configured.
"""

from __future__ import annotations

import getpass
import sys
from collections import deque
from collections.abc import Iterable

from opsh.shell.errors import Cancelled, OpshError


class Interaction:
    """Base: the non-interactive behaviour (scripts, -c, pipes)."""

    interactive = False

    def __init__(self, assume_yes: bool = False) -> None:
        self.assume_yes = assume_yes

    def confirm(self, question: str) -> bool:
        """True to go ahead. Without a terminal only --yes says yes."""
        return self.assume_yes

    def secret(self, prompt: str) -> str:
        raise OpshError(
            f"{prompt.rstrip(': ')} needed, but there is no terminal to ask on",
            "configure password_env, or run interactively",
        )

    def ask(self, prompt: str) -> str:
        raise OpshError(f"cannot ask {prompt.strip()!r} without a terminal")


class BatchInteraction(Interaction):
    """`-c`, scripts and pipes: dangerous actions need --yes, but when a terminal is attached
    a password can still be typed (hidden), so a script never has to carry one."""

    def secret(self, prompt: str) -> str:
        if not sys.stderr.isatty():
            return super().secret(prompt)
        try:
            with open("/dev/tty", "r+") as tty:  # noqa: F841 - only checks that a terminal exists
                pass
        except OSError:
            return super().secret(prompt)
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise Cancelled("no password given") from None


class TerminalInteraction(Interaction):
    """Asks on the terminal: y/N confirmations, getpass for secrets."""

    interactive = True

    def confirm(self, question: str) -> bool:
        if self.assume_yes:
            return True
        answer = self.ask(f"{question} [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    def secret(self, prompt: str) -> str:
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise Cancelled("no password given") from None

    def ask(self, prompt: str) -> str:
        sys.stdout.flush()
        try:
            return input(prompt)
        except EOFError:
            return ""


class ScriptedInteraction(Interaction):
    """Answers from a list, as a person would type them: for tests of the asking paths."""

    interactive = True

    def __init__(self, answers: Iterable[str] = (), assume_yes: bool = False) -> None:
        super().__init__(assume_yes)
        self.answers: deque[str] = deque(answers)
        self.asked: list[str] = []

    def _next(self, prompt: str) -> str:
        self.asked.append(prompt)
        if not self.answers:
            raise Cancelled(f"no answer scripted for {prompt!r}")
        return self.answers.popleft()

    def confirm(self, question: str) -> bool:
        if self.assume_yes:
            return True
        return self._next(question).strip().lower() in ("y", "yes")

    def secret(self, prompt: str) -> str:
        return self._next(prompt)

    def ask(self, prompt: str) -> str:
        return self._next(prompt)
