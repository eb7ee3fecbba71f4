"""One statement of a mode as a value: its text, what follows it, and what the line asked.

Each mode decides where its statements end (`Handle.next_statement`). It hands the Engine a
Statement rather than text with marks in it, so nothing has to be cut off again later: SQL's
`\\G` is `vertical`, `\\c` is the terminator, a trailing `\\> file` is `redirect`. The redirect
is read from the raw text, before `${var}` expansion, so a variable's value can never send
output to a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opsh.shell.lineparse import Redirect, find_backslash_redirect, split_first_at

DISCARD = "\\c"


@dataclass(frozen=True)
class Statement:
    """`text` without its terminator and redirect; `rest` is the input after the terminator.

    `terminator` is what ended it (";", "\\G", "\\g", "\\c", "\\n"...), "" when the input ended
    first."""

    text: str
    rest: str = ""
    terminator: str = ""
    redirect: Redirect | None = None
    vertical: bool = False

    @classmethod
    def cut(cls, raw: str, rest: str, terminator: str, *, vertical: bool = False) -> Statement:
        """The statement a mode cut out of its input (`raw`: terminator already removed), with a
        trailing `\\>`, `\\>>` or `\\|` taken off into `redirect`."""
        text, redirect = find_backslash_redirect(raw)
        return cls(text, rest, terminator, redirect, vertical)

    @property
    def discarded(self) -> bool:
        """`\\c` ended it: the user abandoned what they typed."""
        return self.terminator == DISCARD



Splitter = Callable[[str], "Statement | None"]


def statement_at_end(text: str, split: Splitter) -> str:
    """The statement the end of `text` is in (what a cursor there is typing): finished
    statements before it are dropped, as `split` (a mode's next_statement) finds them."""
    rest = text
    while True:
        statement = split(rest)
        if statement is None or not statement.terminator or len(statement.rest) >= len(rest):
            return rest.lstrip()
        rest = statement.rest


def local_statement(text: str) -> Statement:
    """The first local statement: up to an unquoted `;` or the end of its line, as in a shell
    (a `!` line is one command to its line's end). Continued lines are joined before this."""
    line, newline, after = text.partition("\n")
    statement, rest, terminator = split_first_at(line)
    if terminator:
        return Statement(statement, rest + newline + after, terminator)
    return Statement(statement, after, newline)
