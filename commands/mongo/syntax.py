"""mongosh statements: where one ends, and what a `db.coll.method(...).more(...)` chain says.

A statement ends at a newline or `;` outside brackets, strings, regex literals and comments;
an unclosed bracket means the user is still typing (the mode asks for another line). A chain
is parsed with the relaxed-JSON reader, so its arguments are data, never evaluated code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from opsh.shell.statement import Statement
from opsh.shell.syntax.rjson import Reader, RJsonError

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = set(_OPENERS.values())
# A `/` starts a regex literal (not a division) after one of these, or at the start.
_REGEX_AFTER = set("(,:[{=!&|?;")
_WORD_STATEMENT = re.compile(r"^\s*(show|use)\s+(\S+)\s*$|^\s*(it|db|help|exit|quit)\s*$")
_TRAILING_OPTION = re.compile(r"\s+(--yes|--format[= ]\s*(\w+))\s*$")


def split_statement(text: str) -> tuple[str, str] | None:
    """(statement, rest), or None while a bracket, block comment or regex is still open."""
    end = _find_end(text)
    return None if end is None else (text[:end], text[end + 1 :])


def next_statement(text: str) -> Statement | None:
    """The first statement as the mode runs it: a trailing `\\> file` becomes its redirect."""
    end = _find_end(text)
    if end is None:
        return None
    return Statement.cut(text[:end], text[end + 1 :], text[end : end + 1])


def _find_end(text: str) -> int | None:
    """Index of the `;` or newline that ends the first statement (len(text) when the text ends
    first), or None while something is still open."""
    depth: list[str] = []
    i = 0
    last_significant = ""
    while i < len(text):
        ch = text[i]
        if ch in "'\"`":
            i = _skip_string(text, i)
            last_significant = ch
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            if end < 0:
                return None if depth else len(text)
            i = end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return None
            i = end + 2
            continue
        if ch == "/" and (not last_significant or last_significant in _REGEX_AFTER):
            i = _skip_regex(text, i)
            last_significant = "/"
            continue
        if ch in _OPENERS:
            depth.append(_OPENERS[ch])
        elif ch in _CLOSERS:
            if depth and depth[-1] == ch:
                depth.pop()
            # a stray closer is left for the parser to report
        elif ch in ";\n" and not depth:
            return i
        if not ch.isspace():
            last_significant = ch
        i += 1
    return None if depth else len(text)


def _skip_string(text: str, i: int) -> int:
    """Index after the string starting at i; a newline ends an unterminated one (the parser reports it)."""
    quote = text[i]
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        if ch == "\n" and quote != "`":
            return i
        i += 1
    return i


def _skip_regex(text: str, i: int) -> int:
    in_class = False
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "\n":
            return i
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            return i + 1
        i += 1
    return i


# ---------------------------------------------------------------- parsed statements


@dataclass
class Call:
    """One `.name(args)` of a chain; `pos` locates it for error messages."""

    name: str
    args: list[Any]
    pos: int


@dataclass
class Line:
    """A parsed line: a shell word (`show dbs`, `use x`, `it`) or a chain on `db`."""

    source: str
    word: str = ""  # show | use | it | db | help | exit | quit, for word statements
    argument: str = ""
    collection: str | None = None  # None: a method of the database itself
    calls: list[Call] = field(default_factory=list)
    fmt: str | None = None  # a trailing `--format X`
    yes: bool = False  # a trailing `--yes`

    @property
    def method(self) -> Call | None:
        return self.calls[0] if self.calls else None

    @property
    def modifiers(self) -> list[Call]:
        return self.calls[1:]


def parse_statement(text: str) -> Line:
    source, fmt, yes = strip_options(text)
    word = _WORD_STATEMENT.match(source)
    if word:
        if word.group(1):
            return Line(source, word.group(1), word.group(2), fmt=fmt, yes=yes)
        return Line(source, word.group(3), fmt=fmt, yes=yes)
    statement = _parse_chain(source)
    statement.fmt, statement.yes = fmt, yes
    return statement


def strip_options(text: str) -> tuple[str, str | None, bool]:
    """A statement may end with `--format X` and/or `--yes` (opsh options, not mongosh)."""
    fmt: str | None = None
    yes = False
    source = text.strip()
    while True:
        match = _TRAILING_OPTION.search(" " + source)
        if not match:
            return source, fmt, yes
        if match.group(2):
            fmt = fmt or match.group(2)
        else:
            yes = True
        source = (" " + source)[: match.start()].strip()


def _parse_chain(source: str) -> Line:
    reader = Reader(source)
    head = reader.identifier()
    if head != "db":
        raise RJsonError(
            "expected db.COLLECTION.method(...), show dbs|collections, use DB or it",
            source,
            0,
        )
    statement = Line(source)
    names: list[tuple[str, int]] = []
    while reader.take("."):
        pos = reader.pos
        name = reader.identifier()
        if name is None:
            raise reader.fail("expected a name after '.'")
        if reader.peek() == "(":
            statement.calls.append(Call(name, reader.arguments(), pos))
            break
        names.append((name, pos))
        if reader.peek() == "[":
            names.append((_bracket_name(reader), reader.pos))
    if reader.peek() == "[" and not statement.calls:
        names.append((_bracket_name(reader), reader.pos))
    _resolve_target(statement, names, reader)
    while reader.take("."):
        pos = reader.pos
        name = reader.identifier()
        if name is None:
            raise reader.fail("expected a method name after '.'")
        if reader.peek() != "(":
            raise reader.fail(f"expected '(' after .{name}")
        statement.calls.append(Call(name, reader.arguments(), pos))
    if not reader.at_end():
        raise reader.fail("unexpected text after the statement")
    return statement


def _bracket_name(reader: Reader) -> str:
    reader.expect("[")
    if reader.peek() not in "'\"":
        raise reader.fail("expected a quoted collection name in db[...]")
    name = reader.string()
    reader.expect("]")
    return name


def _resolve_target(statement: Line, names: list[tuple[str, int]], reader: Reader) -> None:
    """`db.a.b.find()` is collection "a.b"; `db.getCollection("x").find()` is "x"."""
    first = statement.method
    if first is not None and first.name == "getCollection" and not names:
        if len(first.args) != 1 or not isinstance(first.args[0], str):
            raise RJsonError('write db.getCollection("name")', reader.source, first.pos)
        statement.collection = first.args[0]
        statement.calls.clear()
        return
    if names:
        statement.collection = ".".join(name for name, _ in names)
