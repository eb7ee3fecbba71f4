"""SQL highlighting at the prompt: pygments' MySQL / SQL lexers, in the shell's colours.

The prompt's style does not carry pygments' token styles, so the token classes are mapped
here to the same colours the local line uses (keywords like commands, strings, comments).
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer, PygmentsLexer

# Longest prefix first: the first match decides.
_STYLES = (
    ("class:pygments.keyword", "ansigreen bold"),
    ("class:pygments.name.builtin", "ansicyan"),
    ("class:pygments.name.function", "ansicyan"),
    ("class:pygments.name.variable", "class:variable"),
    ("class:pygments.name.quoted", "ansiyellow"),
    ("class:pygments.literal.string.symbol", "ansiyellow"),
    ("class:pygments.literal.string", "class:string"),
    ("class:pygments.literal.number", "ansimagenta"),
    ("class:pygments.comment", "class:comment"),
)


def _style(pygments_class: str) -> str:
    for prefix, style in _STYLES:
        if pygments_class.startswith(prefix):
            return style
    return ""


class SqlLexer(Lexer):
    def __init__(self, dialect: str) -> None:
        from pygments.lexers import MySqlLexer
        from pygments.lexers import SqlLexer as GenericSqlLexer

        self.inner = PygmentsLexer(MySqlLexer if dialect == "mysql" else GenericSqlLexer)

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        get_line = self.inner.lex_document(document)

        def line(number: int) -> StyleAndTextTuples:
            return [(_style(style), text) for style, text, *_ in get_line(number)]

        return line
