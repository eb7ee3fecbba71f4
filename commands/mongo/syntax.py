"""mongosh statements: where one ends, and what a `db.coll.method(...).more(...)` chain says.

A statement ends at a newline or `;` outside brackets, strings, regex literals and comments;
an unclosed bracket means the user is still typing (the mode asks for another line). A chain
is parsed with the relaxed-JSON reader, so its arguments are data, never evaluated code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opsh.shell.errors import UsageError
from opsh.shell.statement import Statement
from opsh.shell.syntax.rjson import CONSTRUCTORS, Reader, RJsonError

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

MAX_DEPTH = 64  # brackets and parentheses nested deeper than this are refused, not recursed into


@dataclass
class Node:
    """A piece of an expression; `pos` locates it in the statement for error messages."""

    pos: int


@dataclass
class Literal(Node):
    value: Any


@dataclass
class Template(Node):
    """A document or array literal with expressions inside (`{_id: doc._id, n: i + 1}`): the
    evaluator fills them in."""

    value: Any


@dataclass
class Name(Node):
    name: str


@dataclass
class Member(Node):
    target: Node
    name: str


@dataclass
class Index(Node):
    target: Node
    key: Node


@dataclass
class Invoke(Node):
    target: Node
    args: list[Node]


@dataclass
class Operation(Node):
    op: str
    operands: list[Node]


@dataclass
class Call:
    """One `.name(args)` of a plain `db.coll.method(...).more(...)` chain (args evaluated)."""

    name: str
    args: list[Any]
    pos: int


@dataclass
class Line:
    """A parsed line: a shell word (`show dbs`, `use x`, `it`), or an expression, perhaps
    assigned to a variable (`var x = ...`). For a plain chain on `db`, `collection` and
    `calls` spell it out (what `db.coll.find(...).sort(...)` asks)."""

    source: str
    word: str = ""  # show | use | it | db | help | exit | quit, for word statements
    argument: str = ""
    expression: Node | None = None
    assign: str = ""  # the variable of `var NAME = ...` (also let/const)
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


def parse_statement(text: str, names: dict[str, Any] | None = None) -> Line:
    """The line as a Line; `names` are the session's variables, which documents may use
    (`db.c.find({_id: id})`). Never evaluates anything; a mistake is an RJsonError or a
    UsageError saying what opsh does not support."""
    source, fmt, yes = strip_options(text)
    word = _WORD_STATEMENT.match(source)
    if word:
        if word.group(1):
            return Line(source, word.group(1), word.group(2), fmt=fmt, yes=yes)
        return Line(source, word.group(3), fmt=fmt, yes=yes)
    line = _Parser(source, names or {}).line()
    line.fmt, line.yes = fmt, yes
    _spell_out_chain(line)
    return line


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


# JavaScript that opsh does not run: said so by name rather than as a syntax error.
_NOT_SUPPORTED = frozenset(
    "function for while do if else switch return try catch throw class async await import export "
    "delete typeof instanceof void yield this with".split()
)
_UNSUPPORTED_HINT = (
    "opsh reads mongosh's method chains, var NAME = ..., printjson(...), print(...) and simple "
    "arithmetic; run other JavaScript in mongosh itself"
)
# Binary operators and how tightly they bind.
_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "===": 3,
    "!==": 3,
    "==": 3,
    "!=": 3,
    "<=": 4,
    ">=": 4,
    "<": 4,
    ">": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
_OPERATORS = sorted(_PRECEDENCE, key=len, reverse=True)


def not_supported(what: str) -> UsageError:
    return UsageError(f"{what} is not supported in opsh", _UNSUPPORTED_HINT)


class ExprReader(Reader):
    """The relaxed-JSON reader whose values inside documents and arrays are expressions (the
    session's variables, `a.b`, `1 + 1`), with nesting bounded and number or escape overflow
    turned into syntax errors."""

    def __init__(self, source: str, parser: _Parser) -> None:
        super().__init__(source)
        self.parser = parser
        self.depth = 0
        self.embedded = False  # a value inside the literal being read is an expression

    def value(self) -> Any:
        """A value inside a document, an array or a constructor's arguments."""
        node = self.parser.expression()
        if isinstance(node, Literal):
            return node.value
        self.embedded = True
        return node

    def literal(self) -> Any:
        """One relaxed-JSON value, as the parser reads a literal."""
        self.depth += 1
        start = self.pos
        try:
            if self.depth > MAX_DEPTH:
                raise self.fail(f"nested more than {MAX_DEPTH} levels deep")
            return super().value()
        except RecursionError:
            raise self.fail("nested too deeply", start) from None
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, RJsonError):
                raise
            raise self.fail(f"bad value: {str(exc)[:80]}", start) from None
        finally:
            self.depth -= 1


class _Parser:
    """Statements and expressions, by precedence climbing over ExprReader's tokens."""

    def __init__(self, source: str, names: dict[str, Any]) -> None:
        self.reader = ExprReader(source, self)
        self.names = names
        self.source = source
        self.depth = 0

    def line(self) -> Line:
        reader = self.reader
        line = Line(self.source)
        start = reader.pos
        keyword = reader.identifier()
        if keyword in ("var", "let", "const"):
            name = reader.identifier()
            if name is None or name in _NOT_SUPPORTED or name == "db":
                raise reader.fail(f"expected a variable name after {keyword}")
            if not self._take_operator("="):
                raise reader.fail(f"expected '=' after {keyword} {name}")
            line.assign = name
        else:
            reader.pos = start
        line.expression = self.expression()
        if self._peek_operator("=>"):
            raise not_supported("an arrow function (=>)")
        if self._peek_operator("=") and not self._peek_operator("=="):
            raise not_supported("assignment to an existing name")
        if not reader.at_end():
            raise reader.fail("unexpected text after the statement")
        return line

    # ------------------------------------------------------------ expressions

    def expression(self, tightest: int = 1) -> Node:
        """Operators by precedence climbing: a loop per level of binding, not a call."""
        left = self.unary()
        while True:
            pos = self.reader.pos
            op = self._operator()
            if op is None or _PRECEDENCE[op] < tightest:
                return left
            self.reader.pos += len(op)
            with self._nested():
                right = self.expression(_PRECEDENCE[op] + 1)
            left = Operation(pos, op, [left, right])

    def unary(self) -> Node:
        reader = self.reader
        pos = reader.pos
        for op in ("!", "-", "+"):
            if reader.peek() == op and not self._peek_operator("!=") and not reader.source[reader.pos + 1 : reader.pos + 2].isdigit():
                reader.pos += 1
                with self._nested():
                    return Operation(pos, op, [self.unary()])
        return self.postfix(self.primary())

    def primary(self) -> Node:
        reader = self.reader
        ch = reader.peek()
        pos = reader.pos
        if ch == "(":
            reader.pos += 1
            with self._nested():
                inner = self.expression()
            reader.expect(")")
            return inner
        if not ch:
            raise reader.fail("expected a value, found the end")
        name = reader.identifier()
        if name is not None:
            if name in _NOT_SUPPORTED:
                raise not_supported(f"`{name}`")
            literal = name == "new" or name in _LITERAL_WORDS or (name in CONSTRUCTORS and reader.peek() == "(")
            if not literal or name in self.names:
                return Name(pos, name)
            reader.pos = pos
        return self._literal(pos)

    def _literal(self, pos: int) -> Node:
        """A relaxed-JSON value; a document or array with expressions inside is a Template."""
        reader = self.reader
        outer, reader.embedded = reader.embedded, False
        with self._nested():
            value = reader.literal()
        node: Node = Template(pos, value) if reader.embedded else Literal(pos, value)
        reader.embedded = outer or reader.embedded
        return node

    def postfix(self, node: Node) -> Node:
        reader = self.reader
        while True:
            pos = reader.pos
            if reader.take("."):
                name = reader.identifier()
                if name is None:
                    raise reader.fail("expected a name after '.'")
                node = Member(pos + 1, node, name)
            elif reader.peek() == "[":
                reader.pos += 1
                with self._nested():
                    key = self.expression()
                reader.expect("]")
                node = Index(pos, node, key)
            elif reader.peek() == "(":
                node = Invoke(pos, node, self.arguments())
            else:
                return node

    def arguments(self) -> list[Node]:
        reader = self.reader
        reader.expect("(")
        args: list[Node] = []
        with self._nested():
            while not reader.take(")"):
                args.append(self.expression())
                if self._peek_operator("=>"):
                    raise not_supported("an arrow function (=>)")
                if reader.take(","):
                    continue
                if reader.peek() != ")":
                    raise reader.fail("expected ',' or ')' between arguments")
        return args

    # ------------------------------------------------------------ tokens

    def _next_is(self, ch: str, name: str) -> bool:
        reader = self.reader
        start = reader.pos
        reader.identifier()
        found = reader.peek() == ch
        reader.pos = start
        return found

    def _peek_operator(self, op: str) -> bool:
        self.reader.skip_space()
        return self.source.startswith(op, self.reader.pos)

    def _take_operator(self, op: str) -> bool:
        """Take `op` if it is next and is not the start of a longer operator (`=` of `==`)."""
        if not self._peek_operator(op):
            return False
        after = self.source[self.reader.pos + len(op) : self.reader.pos + len(op) + 1]
        if after in ("=", ">"):
            return False
        self.reader.pos += len(op)
        return True

    def _operator(self) -> str | None:
        """The binary operator next in the text, if any (the longest that matches)."""
        self.reader.skip_space()
        pos = self.reader.pos
        for op in _OPERATORS:
            if self.source.startswith(op, pos):
                return op
        return None

    @contextmanager
    def _nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.reader.fail(f"nested more than {MAX_DEPTH} levels deep")
        try:
            yield
        finally:
            self.depth -= 1


_LITERAL_WORDS = frozenset(("true", "false", "null", "undefined", "NaN", "Infinity", "MinKey", "MaxKey"))


def _spell_out_chain(line: Line) -> None:
    """For `db.a.b.find(...).sort(...)`, `db["x"]...` and `db.getCollection("x")...` with
    literal arguments: the collection and the calls, as the tests and completion read them."""
    calls: list[Call] = []
    node = line.expression
    while isinstance(node, Invoke) and isinstance(node.target, Member):
        if not all(isinstance(a, Literal) for a in node.args):
            return
        calls.insert(0, Call(node.target.name, [a.value for a in node.args], node.target.pos))  # type: ignore[attr-defined]
        node = node.target.target
    names: list[str] = []
    while isinstance(node, (Member, Index)):
        if isinstance(node, Member):
            names.insert(0, node.name)
        elif isinstance(node.key, Literal) and isinstance(node.key.value, str):
            names.insert(0, node.key.value)
        else:
            return
        node = node.target
    if not (isinstance(node, Name) and node.name == "db") or not calls:
        return
    if not names and calls[0].name == "getCollection" and len(calls) > 1:
        first = calls.pop(0)
        if len(first.args) == 1 and isinstance(first.args[0], str):
            names = [first.args[0]]
    line.collection = ".".join(names) if names else None
    line.calls = calls
