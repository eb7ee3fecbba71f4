"""Completion and colouring of queue-mode lines, from the verbs' specs and what the handle has seen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from opsh.commands.queues.syntax import BY_NAME
from opsh.shell.errors import swallowed
from opsh.shell.lineparse import tokenize

if TYPE_CHECKING:
    from opsh.commands.queues.handle import QueueHandle

# ack/release complete only the ids taken by this handle; other verbs every id seen.
_TAKEN_VERBS = {"ack", "finish", "release", "abort"}


class QueueCompleter(Completer):
    def __init__(self, handle: QueueHandle) -> None:
        self.handle = handle

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = self.handle.current_statement(document.text_before_cursor)
        try:
            words = [t.text for t in tokenize(text, None, partial=True)]
        except Exception:  # noqa: BLE001 - completion must never break typing
            swallowed("completing a queue line")
            return
        at_new_word = not text or text[-1].isspace()
        prefix = "" if at_new_word else (words.pop() if words else "")
        for word, meta in self.candidates(words, prefix):
            yield Completion(word, start_position=-len(prefix), display_meta=meta)

    def candidates(self, words: list[str], prefix: str) -> list[tuple[str, str]]:
        if not words:
            return [(name, verb.summary) for name, verb in sorted(BY_NAME.items()) if name.startswith(prefix)]
        verb = BY_NAME.get(words[0])
        if verb is None:
            return []
        if prefix.startswith("-"):
            flags = [f for p in verb.params if p.is_option for f in p.flags] + ["--format"]
            return [(f, "") for f in flags if f.startswith(prefix)]
        positionals = [p for p in verb.params if not p.is_option]
        index = len([w for w in words[1:] if not w.startswith("-")])
        if index >= len(positionals):
            return []
        param = positionals[index]
        if param.name in ("tube", "target"):
            found = [(t, "tube") for t in self.handle.tube_names()]
            if param.name == "target":
                found += [(i, "task") for i in self.handle.task_ids()]
            return [(w, m) for w, m in found if w.startswith(prefix)]
        if param.name == "id":
            ids = self.handle.task_ids(taken_only=words[0] in _TAKEN_VERBS)
            return [(i, "task") for i in ids if i.startswith(prefix)]
        if param.name == "verb":
            return [(name, "") for name in sorted(BY_NAME) if name.startswith(prefix)]
        return []


class QueueLexer(Lexer):
    """Verb, options and quoted data in colour; an unknown verb in red before Enter."""

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = [_lex_line(line) for line in document.lines]
        return lambda number: lines[number] if number < len(lines) else []


def _lex_line(line: str) -> StyleAndTextTuples:
    try:
        tokens = tokenize(line, None, partial=True)
    except Exception:  # noqa: BLE001 - colouring must never break typing
        swallowed("colouring a queue line")
        return [("", line)]
    styles = [""] * len(line)
    for index, tok in enumerate(tokens):
        if index == 0:
            style = "class:cmd" if tok.text in BY_NAME else "class:cmd.unknown"
        elif tok.quoted:
            style = "class:string"
        elif tok.text.startswith("--"):
            style = "class:option"
        else:
            continue
        for i in range(tok.start, min(tok.end, len(line))):
            styles[i] = style
    from opsh.shell.highlight import group_styles

    return group_styles(line, styles)
