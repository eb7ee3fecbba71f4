"""The memcache mode's verbs and their arguments: a line is a verb and words (redis-cli quoting).

One table says, for each verb, its usage, what it does and how many arguments it takes, so
checking a line, completing it and `help` all read the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsh.shell.errors import UsageError
from opsh.shell.syntax.words import split_args


@dataclass(frozen=True)
class Verb:
    usage: str
    summary: str
    least: int
    most: int


VERBS: dict[str, Verb] = {
    "get": Verb("KEY [KEY ...]", "the value of a key (several keys: a table)", 1, 1000),
    "gets": Verb("KEY [KEY ...]", "values with their CAS tokens and flags", 1, 1000),
    "set": Verb("KEY VALUE [TTL [FLAGS]]", "store a value (TTL in seconds, 0 = none)", 2, 4),
    "add": Verb("KEY VALUE [TTL [FLAGS]]", "store only if the key does not exist", 2, 4),
    "replace": Verb("KEY VALUE [TTL [FLAGS]]", "store only if the key exists", 2, 4),
    "append": Verb("KEY VALUE", "add to the end of a value", 2, 2),
    "prepend": Verb("KEY VALUE", "add to the start of a value", 2, 2),
    "cas": Verb("KEY VALUE CAS [TTL]", "store only if unchanged since `gets` gave CAS", 3, 4),
    "delete": Verb("KEY", "remove a key", 1, 1),
    "incr": Verb("KEY [N]", "add N (default 1) to a number", 1, 2),
    "decr": Verb("KEY [N]", "subtract N (default 1) from a number, stopping at 0", 1, 2),
    "touch": Verb("KEY TTL", "set a new time to live", 2, 2),
    "stats": Verb("[items|slabs|settings|sizes|conns]", "server statistics", 0, 1),
    "flush_all": Verb("[DELAY]", "invalidate every item (asks first)", 0, 1),
    "version": Verb("", "the server's version", 0, 0),
    "help": Verb("[VERB]", "this list, or one verb's usage", 0, 1),
}
STATS_GROUPS = ("items", "slabs", "settings", "sizes", "conns")
# Verbs whose first argument is a key (completion offers the keys seen).
KEYED = frozenset(VERBS) - {"stats", "flush_all", "version", "help"}


def parse(statement: str) -> tuple[str, list[str]] | None:
    """(verb, arguments) of a line, checked against the verb's usage; None for an empty line."""
    words = split_args(statement.strip())
    if not words:
        return None
    name = words[0].lower()
    verb = VERBS.get(name)
    if verb is None:
        raise UsageError(f"unknown memcache verb: {words[0]}", "type `help` for the verbs")
    args = words[1:]
    if not verb.least <= len(args) <= verb.most:
        raise UsageError(f"usage: {name} {verb.usage}")
    return name, args


def number(text: str, what: str) -> int:
    """A TTL, delay, amount or CAS token: a whole number, never negative."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{what} must be a whole number, got {text!r}") from None
    if value < 0:
        raise UsageError(f"{what} must not be negative")
    return value


def encode(text: str) -> bytes:
    """A value as stored: `\\xHH` escapes (surrogates after split_args) become those bytes."""
    return text.encode("utf-8", "surrogateescape")
