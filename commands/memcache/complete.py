"""Completion and colours in memcache mode: verbs with their usage, key names seen this session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from opsh.commands.memcache.syntax import KEYED, STATS_GROUPS, VERBS
from opsh.shell.syntax.words import split_partial

if TYPE_CHECKING:
    from opsh.commands.memcache.handle import MemcacheHandle

KEYS_SHOWN = 200


class VerbCompleter(Completer):
    def __init__(self, handle: MemcacheHandle) -> None:
        self.handle = handle

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        words, prefix, typed = split_partial(self.handle.current_statement(document.text_before_cursor))
        if not words:
            for name, verb in VERBS.items():
                if name.startswith(prefix.lower()):
                    yield Completion(name, -typed, display_meta=verb.usage or verb.summary)
        elif words[0].lower() == "stats" and len(words) == 1:
            for group in STATS_GROUPS:
                if group.startswith(prefix):
                    yield Completion(group, -typed)
        elif words[0].lower() in KEYED and (len(words) == 1 or words[0].lower() in ("get", "gets")):
            for key in sorted(k for k in self.handle.keys if k.startswith(prefix))[:KEYS_SHOWN]:
                yield Completion(key, -typed, display_meta="key")


class VerbLexer(Lexer):
    """A known verb like a command, an unknown one red before Enter."""

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        def line(number: int) -> StyleAndTextTuples:
            text = document.lines[number] if number < len(document.lines) else ""
            head, sep, rest = text.lstrip().partition(" ")
            indent = text[: len(text) - len(text.lstrip())]
            style = "class:cmd" if head.lower() in VERBS else "class:cmd.unknown"
            return [("", indent), (style, head), ("", sep + rest)] if head else [("", text)]

        return line
