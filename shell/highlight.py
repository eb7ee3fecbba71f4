"""Syntax highlighting of the line being typed; the lexer follows the current mode.

Local lines are coloured from the tokenizer and the registry (a known command is green, an
unknown one red before Enter is pressed); backend modes bring their own pygments lexer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from opsh.shell.completion import mode_line
from opsh.shell.lineparse import Token, tokenize

if TYPE_CHECKING:
    from opsh.shell.session import Session

STYLE = Style.from_dict(
    {
        "cmd": "ansigreen bold",
        "cmd.unknown": "ansired",
        "option": "ansicyan",
        "string": "ansiyellow",
        "variable": "ansimagenta",
        "operator": "ansiblue bold",
        "shell": "ansibrightblack",
        "comment": "ansibrightblack italic",
        "prompt": "bold",
        "prompt.tag": "ansired bold",
        "prompt.mode": "ansicyan bold",
        "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
        "toolbar.ok": "ansigreen",
        "toolbar.fail": "ansired",
        # Token classes of the modes' pygments lexers (SQL, JavaScript for mongo...), in the same
        # palette: the default pygments style is off, so without these they would stay plain.
        "pygments.keyword": "ansiblue bold",
        "pygments.name.builtin": "ansigreen",
        "pygments.literal.string": "ansiyellow",
        "pygments.literal.number": "ansicyan",
        "pygments.operator": "ansiblue",
        "pygments.comment": "ansibrightblack italic",
        "pygments.error": "ansired",
    }
)


class LocalLexer(Lexer):
    """Colours one local line: command, options, quoted strings, ${vars}, redirections."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = [self.lex_line(line) for line in document.lines]
        return lambda number: lines[number] if number < len(lines) else []

    def lex_line(self, line: str) -> StyleAndTextTuples:
        stripped = line.lstrip()
        if stripped.startswith("!"):
            return [("class:shell", line)]
        if stripped.startswith("#"):
            return [("class:comment", line)]
        styles = ["" for _ in line]
        try:
            tokens = tokenize(line, None, partial=True)
        except Exception:  # noqa: BLE001 - highlighting must never break typing
            return [("", line)]
        expect_command = True
        for tok in tokens:
            style = self._style(tok.text, tok.op, tok.quoted, expect_command)
            expect_command = tok.op and tok.text == ";"
            for i in range(tok.start, min(tok.end, len(line))):
                styles[i] = style
            _mark_variables(line, tok.start, tok.end, styles)
        comment = _comment_start(line, tokens)
        if comment is not None:
            for i in range(comment, len(line)):
                styles[i] = "class:comment"
        return group_styles(line, styles)

    def _style(self, text: str, op: bool, quoted: bool, first: bool) -> str:
        if op:
            return "class:operator"
        if first:
            known = self.session.registry.find(text.lstrip("\\")) is not None
            return "class:cmd" if known else "class:cmd.unknown"
        if quoted:
            return "class:string"
        if text.startswith("-") and len(text) > 1:
            return "class:option"
        return ""


def _mark_variables(line: str, start: int, end: int, styles: list[str]) -> None:
    pos = line.find("${", start, end)
    while pos >= 0:
        close = line.find("}", pos, end)
        stop = close + 1 if close >= 0 else end
        for i in range(pos, stop):
            styles[i] = "class:variable"
        pos = line.find("${", stop, end)


def _comment_start(line: str, tokens: list[Token]) -> int | None:
    last = tokens[-1].end if tokens else 0
    rest = line[last:]
    index = rest.find("#")
    return last + index if index >= 0 else None


def group_styles(line: str, styles: list[str]) -> StyleAndTextTuples:
    """One style per character -> prompt_toolkit fragments (runs of the same style joined)."""
    out: StyleAndTextTuples = []
    for ch, style in zip(line, styles, strict=True):
        if out and out[-1][0] == style:
            out[-1] = (style, out[-1][1] + ch)
        else:
            out.append((style, ch))
    return out


class ModeLexer(Lexer):
    """Picks the lexer of the current mode at every redraw."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.local = LocalLexer(session)

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        handle = self.session.current_handle
        if handle is not None and mode_line(handle, document.text):
            lexer = handle.lexer()
            if lexer is not None:
                return lexer.lex_document(document)
            return lambda number: [("", document.lines[number])] if number < len(document.lines) else []
        return self.local.lex_document(document)
