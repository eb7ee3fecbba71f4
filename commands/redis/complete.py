"""Completion, the argument hint and highlighting in Redis mode.

Command names complete with their argument syntax as the menu's meta text (`SET` shows
`key value [NX|XX] [GET] ...`), container commands with their subcommands, a command's option
words where its syntax allows them (`SET k v ` offers NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL),
and arguments in a key position with key names seen in replies or found by the background
SCAN. Once a command is typed, `hint()` gives what is still to come (`ZADD myz ` shows
`[NX|XX] [GT|LT] [CH] [INCR] score member ...`), as redis-cli shows it after the cursor.
Everything is read from the handle's in-memory catalog and key cache: nothing here talks to
the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from opsh.commands.redis.docs import CommandDoc
from opsh.commands.redis.help import MODE_WORDS
from opsh.commands.redis.render import quote
from opsh.commands.redis.syntax import CONTAINERS
from opsh.shell import kinds
from opsh.shell.syntax.words import split_partial

if TYPE_CHECKING:
    from opsh.commands.redis.handle import RedisHandle
    from opsh.shell.session import Session

HINT_WIDTH = 70


class RedisCompleter(Completer):
    def __init__(self, handle: RedisHandle, session: Session) -> None:
        self.handle = handle
        self.session = session

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        statement = self.handle.current_statement(document.text_before_cursor)
        words, prefix, typed = split_partial(statement)
        for text, meta in self.candidates(words, prefix):
            yield Completion(text, start_position=-typed, display_meta=_short(meta))

    def candidates(self, words: list[str], prefix: str) -> Iterable[tuple[str, str]]:
        """(text to insert, meta) for the word `prefix` after the finished `words`."""
        catalog = self.handle.catalog
        if not words:
            return self.command_names(prefix)
        first = words[0].lower().lstrip("\\")
        if first == "peek":
            return self.keys(prefix) if len(words) == 1 else []
        if first == "pipe":
            return kinds.path_candidates(self.session, prefix) if len(words) == 1 else []
        if first == "help":
            return self.command_names(prefix, mode_words=False) if len(words) == 1 else []
        if words[0].upper() in CONTAINERS and len(words) == 1:
            subs = catalog.subcommands(words[0])
            return _names(((d.name.split()[1], d) for d in subs), prefix)
        doc = catalog.get(words)
        if doc is None:
            return []
        binding = doc.bind(words[len(doc.name.split()) :])
        found: list[tuple[str, str]] = []
        expected = binding.expected()
        if expected is not None and expected.kind == "key":
            found += self.keys(prefix)
        upper = prefix.upper()
        found += [(_cased(word, prefix), syntax) for word, syntax in binding.options() if word.startswith(upper)]
        return found

    def command_names(self, prefix: str, mode_words: bool = True) -> list[tuple[str, str]]:
        catalog = self.handle.catalog
        found = _names(((d.name, d) for d in catalog.top_level()), prefix)
        if mode_words:
            found += [(w, meta) for w, meta in MODE_WORDS.items() if w.startswith(prefix.lower())]
        return found

    def keys(self, prefix: str) -> list[tuple[str, str]]:
        return [(_quoted(k), "key") for k in self.handle.keys.matching(self.handle.db, prefix)]


def argument_hint(handle: RedisHandle, text_before_cursor: str) -> str:
    """What is still to type of the command at the cursor, for the inline hint: the whole
    syntax right after the command name (` key [NX|XX] ...`), the arguments not given yet
    after a space; nothing while a word is being typed (the completion menu shows then)."""
    statement = handle.current_statement(text_before_cursor)
    words, prefix, _typed = split_partial(statement)
    if prefix and not words:
        word = prefix.lower().lstrip("\\")
        if word in MODE_WORDS:
            return " " + MODE_WORDS[word].split("  ")[0]
        doc = handle.catalog.commands.get(prefix.upper())
        return f" {doc.hint}" if doc is not None and doc.hint and prefix.upper() not in CONTAINERS else ""
    if prefix or not words:
        return ""
    if words[0].lower().lstrip("\\") in MODE_WORDS:
        return ""
    doc = handle.catalog.get(words)
    if doc is None or (words[0].upper() in CONTAINERS and len(words) == 1):
        return ""
    return _short(doc.bind(words[len(doc.name.split()) :]).hint(), HINT_WIDTH * 2)


def _names(docs: Iterable[tuple[str, CommandDoc]], prefix: str) -> list[tuple[str, str]]:
    upper = prefix.upper()
    found = [(_cased(name, prefix), doc.hint or doc.summary) for name, doc in docs if name.startswith(upper)]
    return sorted(found)


def _cased(word: str, prefix: str) -> str:
    """Completions follow the case being typed: `hge` gives `hgetall`, `HGE` gives `HGETALL`."""
    return word.lower() if prefix and prefix.islower() else word


def _quoted(key: str) -> str:
    if key and not any(c.isspace() or c in "\"'\\;" for c in key) and key.isprintable():
        return key
    return quote(key.encode("utf-8", "surrogateescape"))


def _short(text: str, width: int = HINT_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


class RedisLexer(Lexer):
    """Known command names green, unknown red, quoted strings yellow."""

    def __init__(self, handle: RedisHandle) -> None:
        self.handle = handle

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = [self.lex_line(line) for line in document.lines]
        return lambda number: lines[number] if number < len(lines) else []

    def lex_line(self, line: str) -> StyleAndTextTuples:
        out: StyleAndTextTuples = []
        expect_command = True
        pos = 0
        while pos < len(line):
            ch = line[pos]
            if ch.isspace() or ch == ";":
                out.append(("", ch))
                expect_command = expect_command or ch == ";"
                pos += 1
                continue
            end = _word_end(line, pos)
            word = line[pos:end]
            if expect_command:
                out.append((self._command_style(word), word))
                expect_command = False
            else:
                out.append(("class:string" if word[:1] in "\"'" else "", word))
            pos = end
        return out

    def _command_style(self, word: str) -> str:
        known = word.upper() in self.handle.catalog.commands or word.lower().lstrip("\\") in MODE_WORDS
        return "class:cmd" if known else "class:cmd.unknown"


def _word_end(line: str, pos: int) -> int:
    quote_char = ""
    while pos < len(line):
        ch = line[pos]
        if quote_char:
            if ch == "\\":
                pos += 2
                continue
            if ch == quote_char:
                quote_char = ""
        elif ch in "\"'":
            quote_char = ch
        elif ch.isspace() or ch == ";":
            return pos
        pos += 1
    return len(line)
