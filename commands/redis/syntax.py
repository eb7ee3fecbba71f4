"""What a typed Redis command is: its name (a container's subcommand included), whether it
blocks by design, and how key names are written.

The words themselves come from opsh.shell.syntax.words (redis-cli's quoting, shared with
memcache mode); statements are split by the base Handle (`;` or a newline outside quotes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Container commands whose second word is a subcommand (`CONFIG GET`, `CLIENT LIST`).
CONTAINERS = frozenset(
    [
        "ACL",
        "CLIENT",
        "CLUSTER",
        "COMMAND",
        "CONFIG",
        "FUNCTION",
        "LATENCY",
        "MEMORY",
        "MODULE",
        "OBJECT",
        "PUBSUB",
        "SCRIPT",
        "SLOWLOG",
        "XGROUP",
        "XINFO",
    ]
)
# Commands that wait for data by design: no read timeout for them (Ctrl-C ends the wait).
_BLOCKING = frozenset(
    ["BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF"]
)


def command_name(words: Sequence[str]) -> str:
    """`GET`, or `CONFIG SET` for a container command."""
    first = words[0].upper()
    if first in CONTAINERS and len(words) > 1:
        return f"{first} {words[1].upper()}"
    return first


def is_blocking(args: Sequence[Any]) -> bool:
    """Whether the command waits for data by design, so no read timeout applies to it."""
    name = str(args[0]).upper()
    if name in _BLOCKING:
        return True
    if name in ("XREAD", "XREADGROUP"):
        return any(str(a).upper() == "BLOCK" for a in args)
    return name == "DEBUG" and len(args) > 1 and str(args[1]).upper() == "SLEEP"


def key_text(key: Any) -> str:
    """A key as the shell shows and sends it (undecodable bytes kept as surrogate escapes)."""
    return key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else str(key)


# ---------------------------------------------------------------- a command's arguments


@dataclass(frozen=True)
class Arg:
    """One argument of a command's syntax, as COMMAND DOCS describes it.

    `kind` is the docs' type: key, string, integer, double, pattern, unix-time, pure-token
    (the word itself, `NX`), oneof (one of `children`), block (`children` in sequence).
    `token` is the word that introduces it (`EX` before `seconds`)."""

    name: str
    kind: str = "string"
    token: str = ""
    optional: bool = False
    multiple: bool = False
    children: tuple[Arg, ...] = ()

    def starts(self) -> frozenset[str]:
        """The option words that can begin this argument (none: it begins with a value)."""
        if self.token:
            return frozenset((self.token.upper(),))
        if self.kind == "oneof":
            return frozenset().union(*(c.starts() for c in self.children))
        if self.kind == "block" and self.children:
            return self.children[0].starts()
        return frozenset()

    def syntax(self) -> str:
        """As the Redis docs write it: `[EX seconds|PX milliseconds]`, `key [key ...]`."""
        if self.kind == "pure-token":
            text = self.token or self.name
        elif self.kind == "oneof":
            text = "|".join(c.syntax() for c in self.children)
        elif self.kind == "block":
            text = " ".join(c.syntax() for c in self.children)
        else:
            text = self.name
        if self.token and self.kind != "pure-token":
            text = f"{self.token} {text}"
        if self.multiple:
            text = f"{text} [{text} ...]"
        return f"[{text}]" if self.optional else text

    def repeat_syntax(self) -> str:
        """What is left of a multiple argument once given: `[score member ...]`."""
        inner = Arg(self.name, self.kind, self.token, children=self.children).syntax()
        return f"[{inner} ...]"


@dataclass
class Binding:
    """Which of a command's arguments the typed words have filled so far, and what may come next.

    The words bind left to right: a word that is an option word of an argument not given yet
    takes that argument (options may come in any order, as Redis accepts them); any other word
    fills the next value the syntax asks for. Redis's grammar is looser than any small matcher,
    so this is used for hints and completion only, never to refuse a command."""

    args: tuple[Arg, ...]
    used: set[int] = field(default_factory=set)
    pending: list[Arg] = field(default_factory=list)  # values owed by the last option word or block
    key_words: list[int] = field(default_factory=list)  # indexes of the words that are key names

    @classmethod
    def of(cls, args: Sequence[Arg], words: Sequence[str]) -> Binding:
        binding = cls(tuple(args))
        for index, word in enumerate(words):
            binding.take(index, word)
        return binding

    def take(self, index: int, word: str) -> None:
        if self.pending:
            self._fill(self.pending.pop(0), index, word)
            return
        upper = word.upper()
        for i, arg in enumerate(self.args):
            if (i not in self.used or arg.multiple) and upper in arg.starts():
                self.used.add(i)
                self.pending[:0] = _after_word(arg, upper)
                return
        slot = self._next_value()
        if slot is not None:
            i, arg = slot
            self.used.add(i)
            self._fill(arg, index, word)

    def _fill(self, arg: Arg, index: int, word: str) -> None:
        """`word` is the value of `arg` (a block: its first value; the rest become pending)."""
        if arg.kind == "block" and arg.children:
            self.pending[:0] = list(arg.children[1:])
            self._fill(arg.children[0], index, word)
        elif arg.kind == "oneof" and arg.children:
            chosen = next((c for c in arg.children if word.upper() in c.starts()), None)
            if chosen is not None:
                self.pending[:0] = _after_word(chosen, word.upper())
        elif arg.kind == "key":
            self.key_words.append(index)

    def _next_value(self) -> tuple[int, Arg] | None:
        """The argument the next plain value fills: more of a multiple argument already begun
        (`DEL a b c`: which words belong to what comes after it is only known at the end), else
        the first required one not given, else the first optional value without a word."""
        required = next((i for i, a in enumerate(self.args) if i not in self.used and not a.optional and not a.starts()), None)
        begun = [i for i in self.used if self.args[i].multiple and not self.args[i].starts()]
        if begun and (required is None or max(begun) < required):
            return max(begun), self.args[max(begun)]
        if required is not None:
            return required, self.args[required]
        for i, arg in enumerate(self.args):
            if i not in self.used and not arg.starts():
                return i, arg
        return None

    def expected(self) -> Arg | None:
        """The argument the next word would be a value of (None: only option words, or nothing)."""
        if self.pending:
            return self.pending[0]
        slot = self._next_value()
        return slot[1] if slot else None

    def options(self) -> list[tuple[str, str]]:
        """(option word, its syntax) for what may come next: the words of arguments not given
        yet that the syntax allows here (not before a required value still missing: `SET k `
        wants the value before NX)."""
        if self.pending:
            head = self.pending[0]
            return [(w, head.syntax()) for w in _ordered_starts(head)]
        required = next(
            (i for i, a in enumerate(self.args) if i not in self.used and not a.optional and not a.starts()),
            len(self.args),
        )
        found: dict[str, str] = {}
        for i, arg in enumerate(self.args[: required + 1]):
            if i not in self.used or arg.multiple:
                for word, syntax in _word_syntaxes(arg):
                    found.setdefault(word, syntax)
        return list(found.items())

    def hint(self) -> str:
        """The syntax of what is still to come: values owed first, then the arguments not given."""
        parts = [a.syntax() for a in self.pending]
        for i, arg in enumerate(self.args):
            if i in self.used:
                if arg.multiple:
                    parts.append(arg.repeat_syntax())
                continue
            parts.append(arg.syntax())
        return " ".join(parts)


def _after_word(arg: Arg, word: str) -> list[Arg]:
    """What `arg` still needs once its option word `word` was typed."""
    if arg.kind == "pure-token":
        return []
    if arg.token:
        return [Arg(arg.name, arg.kind, children=arg.children)]
    if arg.kind == "oneof":
        chosen = next((c for c in arg.children if word in c.starts()), None)
        return _after_word(chosen, word) if chosen else []
    if arg.kind == "block" and arg.children:
        return _after_word(arg.children[0], word) + list(arg.children[1:])
    return []


def _word_syntaxes(arg: Arg) -> list[tuple[str, str]]:
    """Each option word that can begin `arg`, with the syntax of the part it begins."""
    if arg.token:
        return [(arg.token.upper(), Arg(arg.name, arg.kind, arg.token, children=arg.children).syntax())]
    if arg.kind == "oneof":
        return [pair for child in arg.children for pair in _word_syntaxes(child)]
    if arg.kind == "block" and arg.children:
        first = _word_syntaxes(arg.children[0])
        return [(word, Arg(arg.name, "block", children=arg.children).syntax()) for word, _ in first]
    return []


def _ordered_starts(arg: Arg) -> list[str]:
    if arg.token:
        return [arg.token.upper()]
    if arg.kind == "oneof":
        return [w for c in arg.children for w in _ordered_starts(c)]
    if arg.kind == "block" and arg.children:
        return _ordered_starts(arg.children[0])
    return []


def parse_syntax(hint: str) -> tuple[Arg, ...]:
    """Arguments read off a syntax string as the docs write it (the built-in table's
    `key value [NX|XX] [EX seconds|PX ms|KEEPTTL]`, `key [key ...]`). Upper-case words are
    option words; `key`, `source` and `destination` are key names."""
    return _SyntaxReader(hint).sequence(end="")


class _SyntaxReader:
    def __init__(self, text: str) -> None:
        self.tokens = text.replace("[", " [ ").replace("]", " ] ").replace("|", " | ").split()
        self.pos = 0

    def _peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def sequence(self, end: str) -> tuple[Arg, ...]:
        """Arguments up to `end` ("]" inside brackets, where `|` also ends a choice)."""
        items: list[Arg] = []
        while self.pos < len(self.tokens):
            word = self._peek()
            if end and word in (end, "|"):
                break
            self.pos += 1
            if word == "[":
                self._bracket(items)
            elif word == "|" and items:  # a choice outside brackets: `LEFT|RIGHT`
                following = self._one()
                if following is not None:
                    items[-1] = _either(items[-1], following)
            elif word not in ("]", "|", "..."):
                items.append(self._word(word))
        return tuple(items)

    def _one(self) -> Arg | None:
        """One word of an `A|B` choice outside brackets (each choice is a single word there)."""
        word = self._peek()
        if not word or word in ("[", "]", "|", "..."):
            return None
        self.pos += 1
        return Arg(word.lower(), "pure-token", word) if _is_token(word) else _value(word)

    def _word(self, word: str) -> Arg:
        if _is_token(word):
            nxt = self._peek()
            if nxt and nxt not in ("[", "]", "|", "...") and not _is_token(nxt):
                self.pos += 1
                return Arg(nxt, _value(nxt).kind, token=word)
            return Arg(word.lower(), "pure-token", word)
        return _value(word)

    def _bracket(self, items: list[Arg]) -> None:
        """`[...]`: an optional part, or `x [x ...]` (the words before repeat)."""
        close = self._closing()
        inside = self.tokens[self.pos : close]
        if inside and inside[-1] == "..." and "[" not in inside:
            count = len([w for w in inside[:-1] if w != "|"])
            self.pos = close + 1
            if 0 < count <= len(items):
                repeated = items[-count:]
                del items[-count:]
                items.append(_repeated(repeated))
            return
        options = [_group(self.sequence(end="]"))]
        while self._peek() == "|":
            self.pos += 1
            options.append(_group(self.sequence(end="]")))
        if self._peek() == "]":
            self.pos += 1
        chosen = options[0] if len(options) == 1 else Arg("choice", "oneof", children=tuple(options))
        items.append(_with(chosen, optional=True))

    def _closing(self) -> int:
        depth = 1
        for index in range(self.pos, len(self.tokens)):
            if self.tokens[index] == "[":
                depth += 1
            elif self.tokens[index] == "]":
                depth -= 1
                if depth == 0:
                    return index
        return len(self.tokens)


def _repeated(items: list[Arg]) -> Arg:
    """`x [x ...]`; `STREAMS key [key ...]` repeats the value, not the option word."""
    if len(items) > 1:
        return Arg("block", "block", children=tuple(items), multiple=True)
    (item,) = items
    if item.token and item.kind != "pure-token":
        value = Arg(item.name, item.kind, multiple=True)
        return Arg(item.name, "block", token=item.token, children=(value,))
    return _with(item, multiple=True)


def _is_token(word: str) -> bool:
    return len(word) > 1 and word.isupper() and word.replace("-", "").replace("_", "").isalpha()


def _group(items: tuple[Arg, ...]) -> Arg:
    return items[0] if len(items) == 1 else Arg("block", "block", children=items)


def _either(first: Arg, second: Arg) -> Arg:
    if first.kind == "oneof" and not first.optional:
        return _with(first, children=(*first.children, second))
    return Arg("choice", "oneof", children=(first, second))


def _value(word: str) -> Arg:
    return Arg(word, "key" if word in ("key", "source", "destination") else "string")


def _with(arg: Arg, **changes: Any) -> Arg:
    from dataclasses import replace

    return replace(arg, **changes)
