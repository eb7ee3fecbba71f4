"""Where one SQL statement ends, and the code words of a statement (no strings, no comments).

SQL mode sends lines until the delimiter (`;`, or what `DELIMITER` set, or the mysql client's
`\\G` / `\\g`) outside quotes, backticks and comments ends the statement, so a `;` inside
`'a;b'` or `-- note;` never splits; a `\\> file` ends it too, at the end of its line.

Compound statements stay whole: for MySQL/MariaDB a `;` inside the BEGIN ... END body of a
procedure, function, trigger or event (or a `BEGIN NOT ATOMIC` / IF / LOOP block) does not end
it; for SQLite a statement ends where `sqlite3.complete_statement` says it does (a trigger's
body included). The mysql client's line commands (`DELIMITER`, `use`, `source`, `exit`) end at
the end of their line, no `;` needed.

The dialects differ only in details: MySQL escapes with backslashes inside strings, has
`#` comments and executable `/*! ... */` comments; SQLite does neither and quotes identifiers
with double quotes or brackets. A dialect may also have dollar-quoted strings (`$$ ... $$`,
`$tag$ ... $tag$`) and E'...' strings with backslash escapes (PostgreSQL): a `;` in them is text.
How a `;` is judged to end a statement is the dialect's `ends`: "blocks" counts the BEGIN ... END
of a routine's body (MySQL, PostgreSQL's BEGIN ATOMIC), "sqlite" asks sqlite3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from opsh.shell.errors import UsageError

# A backslash command that ends a statement: \G (vertical output), \g (like ;), \c (discard).
TERMINATORS = ("\\G", "\\g", "\\c")
# Backslash words that send the result elsewhere (`\\>>` is `\\>` then `>`).
REDIRECTS = ("\\>", "\\|")
DEFAULT_DELIMITER = ";"
# Client commands of the mysql client: one line each, recognised at the start of a statement.
LINE_COMMANDS = frozenset({"delimiter", "use", "source", "exit", "quit"})


@dataclass(frozen=True)
class Dialect:
    name: str
    backslash_escapes: bool
    hash_comments: bool
    ident_quotes: str  # characters that quote identifiers
    dollar_quotes: bool = False  # $$ ... $$ and $tag$ ... $tag$ are strings, E'...' escapes with \\
    ends: str = "blocks"  # how a `;` ends a statement: "blocks" (routine bodies) or "sqlite"

    @property
    def mysql(self) -> bool:
        return self.name == "mysql"


MYSQL = Dialect("mysql", backslash_escapes=True, hash_comments=True, ident_quotes="`")
SQLITE = Dialect("sqlite", backslash_escapes=False, hash_comments=False, ident_quotes='`"[', ends="sqlite")


@dataclass(frozen=True)
class Tok:
    kind: str  # word, number, string, ident (quoted identifier), punct, meta (\x), open (unclosed)
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def name(self) -> str:
        """An identifier without its quotes (`a b` -> a b)."""
        if self.kind == "ident":
            inner = self.text[1:-1]
            close = "]" if self.text[0] == "[" else self.text[0]
            return inner.replace(close * 2, close)
        return self.text


@cache
def _pattern(dialect: Dialect) -> re.Pattern[str]:
    if dialect.backslash_escapes:
        single, double = r"'(?:\\.|''|[^'\\])*'", r'"(?:\\.|""|[^"\\])*"'
    else:
        single, double = r"'(?:''|[^'])*'", r'"(?:""|[^"])*"'
    line_comment = r"--(?=\s|$)[^\n]*|\#[^\n]*" if dialect.hash_comments else r"--[^\n]*"
    idents = [r"`(?:``|[^`])*`"] if "`" in dialect.ident_quotes else []
    if '"' in dialect.ident_quotes:
        idents.append(double)
    if "[" in dialect.ident_quotes:
        idents.append(r"\[[^\]]*\]")
    strings = [single] if '"' in dialect.ident_quotes else [single, double]
    unclosed = ["['\"`].*", r"/\*.*"] + ([r"\[.*"] if "[" in dialect.ident_quotes else [])
    if dialect.dollar_quotes:
        strings = [r"[eE]'(?:\\.|''|[^'\\])*'", _DOLLAR_QUOTED, *strings]
        unclosed.append(_DOLLAR_OPEN)
    parts = [
        r"(?P<ws>\s+)",
        rf"(?P<comment>{line_comment}|/\*.*?\*/)",
        rf"(?P<string>{'|'.join(strings)})",
        rf"(?P<ident>{'|'.join(idents)})",
        rf"(?P<open>{'|'.join(unclosed)})",
        r"(?P<meta>\\[A-Za-z?.]+|\\.?)",
        r"(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)",
        r"(?P<word>[A-Za-z_$@\x80-\uffff][\w$@\x80-\uffff]*)",
        r"(?P<punct>.)",
    ]
    return re.compile("|".join(parts), re.S)


# $tag$ ... $tag$ (the tag is optional; a tag is an identifier without `$`, so `$1` is no quote).
_DOLLAR_QUOTED = r"\$(?P<tag>(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?)\$.*?\$(?P=tag)\$"
_DOLLAR_OPEN = r"\$(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$.*"

# MySQL runs the inside of /*! ... */ and /*M! ... */ (an optional version number first).
_EXECUTABLE_COMMENT = re.compile(r"/\*M?!\d{0,6}")


def scan(text: str, dialect: Dialect) -> list[Tok]:
    """Every token of `text` except whitespace and comments (MySQL's executable comments are
    code: `/*!50003 DROP TABLE t */` is a DROP for the guard)."""
    return list(_tokens(text, dialect, 0))


def first_token(text: str, dialect: Dialect, start: int = 0, stop: int | None = None) -> Tok | None:
    """The first code token of text[start:stop] (as `scan` would list it first), without
    reading the rest: a statement of a megabyte costs what its first words cost."""
    end = len(text) if stop is None else stop
    return next(_tokens(text, dialect, 0, start, end), None)


def _tokens(text: str, dialect: Dialect, offset: int, start: int = 0, stop: int | None = None) -> Iterator[Tok]:
    end = len(text) if stop is None else stop
    for match in _pattern(dialect).finditer(text, start, end):
        kind = match.lastgroup or "punct"
        if kind == "comment" and dialect.mysql:
            executable = _EXECUTABLE_COMMENT.match(match.group())
            if executable:
                inner = match.group()[executable.end() : -2]
                yield from _tokens(inner, dialect, offset + match.start() + executable.end())
            continue
        if kind not in ("ws", "comment"):
            yield Tok(kind, match.group(), offset + match.start(), offset + match.end())


@dataclass(frozen=True)
class End:
    """Where the statement that starts at `begin` in `text` ends.

    `cut` is where its terminator starts and `stop` where the input after it starts; a trailing
    redirect starts at `redirect` (an index into `text`) when there is one. The properties give
    the pieces as strings: `statement` is stripped and keeps the redirect."""

    text: str
    begin: int
    cut: int
    stop: int
    terminator: str
    redirect: int | None = None

    @property
    def statement(self) -> str:
        return self.text[self.begin : self.cut].strip()

    @property
    def rest(self) -> str:
        return self.text[self.stop :]

    @property
    def redirect_at(self) -> int | None:
        """Where the redirect starts in `statement`."""
        if self.redirect is None:
            return None
        raw = self.text[self.begin : self.cut]
        return self.redirect - self.begin - (len(raw) - len(raw.lstrip()))


def split_statement(text: str, dialect: Dialect, delimiter: str = DEFAULT_DELIMITER) -> tuple[str, str, str] | None:
    """(statement, rest, terminator) for the first complete statement of `text`, else None.

    The terminator is the delimiter, "\\G", "\\g" or "\\c" ("\\n" or "" for a line command);
    "" when `text` holds nothing but whitespace and comments (nothing to wait for). None
    means the statement needs more lines.
    """
    end = find_end(text, dialect, delimiter)
    return None if end is None else (end.statement, end.rest, end.terminator)


def find_end(text: str, dialect: Dialect, delimiter: str = DEFAULT_DELIMITER, start: int = 0) -> End | None:
    """The end of the statement that starts at `start`, or None while it needs more lines.

    A `\\>`, `\\>>` or `\\|` also ends the statement at the end of its line (psql's `\\g FILE`):
    its target never runs on into the next line, and Enter after it runs the statement (the
    newline is then the terminator, or "" at the end of the text)."""
    first = _first_code(text, dialect, start)
    if first is not None and first.lastgroup == "word" and first.group().lower() in LINE_COMMANDS:
        return _line_command_end(text, dialect, delimiter, start, first)
    return _statement_end(text, dialect, delimiter, start)


def _first_code(text: str, dialect: Dialect, start: int) -> re.Match[str] | None:
    for match in _pattern(dialect).finditer(text, start):
        if match.lastgroup not in ("ws", "comment"):
            return match
    return None


def _statement_end(text: str, dialect: Dialect, delimiter: str, start: int) -> End | None:
    if dialect.mysql and delimiter == DEFAULT_DELIMITER:
        plain = plain_end(text, dialect, start)
        if plain is not None:
            return plain
    return token_end(text, dialect, delimiter, start)


def token_end(text: str, dialect: Dialect, delimiter: str, start: int) -> End | None:
    """The end of the statement, read token by token (every case; `plain_end` is the fast
    reading of the common one and must agree with this wherever it answers)."""
    redirect: int | None = None  # where a redirect starts in `text`
    line_end = len(text)  # the end of the redirect's line
    blocks = _Blocks() if dialect.ends == "blocks" and delimiter == DEFAULT_DELIMITER else None
    for match in _pattern(dialect).finditer(text, start):
        kind, token = match.lastgroup, match.group()
        if redirect is not None and (match.end() > line_end or kind == "open"):
            break
        if kind == "open":
            return None
        if kind in ("ws", "comment"):
            continue
        if kind == "meta" and token in TERMINATORS:
            return End(text, start, match.start(), match.end(), token, redirect)
        if kind == "meta" and token in REDIRECTS and redirect is None:
            redirect = match.start()
            found = text.find("\n", match.end())
            line_end = len(text) if found < 0 else found
            continue
        at = _delimiter_at(text, match, kind or "", delimiter)
        if at is not None:
            if _complete(text, dialect, start, at, delimiter, blocks):
                return End(text, start, at, at + len(delimiter), delimiter, redirect)
            continue  # a `;` inside a compound statement's body
        if blocks is not None:
            blocks.feed(kind or "", token.lower())
    if redirect is not None:
        return End(text, start, line_end, line_end + 1, text[line_end : line_end + 1], redirect)
    if _first_code(text, dialect, start) is None:  # only whitespace and comments: nothing to run
        return End(text, start, start, len(text), "")
    return None


# What a plain MySQL statement holds before its `;`, read as _pattern(MYSQL) reads it, in one
# match: a dump's extended INSERT of a megabyte is one call into the regex engine, not a
# million tokens. It stops at the `;` that ends the statement, or early at anything it does not
# expect (a backslash outside quotes, an unclosed quote or comment): the token-by-token reading
# decides then.
_PLAIN_BODY = re.compile(
    r"""(?:[^'"`;\\\#/-]++"""
    r"""|'(?:[^'\\]++|\\.|'')*+'|"(?:[^"\\]++|\\.|"")*+"|`(?:[^`]++|``)*+`"""
    r"""|--(?=\s|$)[^\n]*+|\#[^\n]*+|/\*.*?\*/|-|/(?!\*))*+""",
    re.S,
)
_HEAD_WORDS = 24  # as many first words as _Blocks reads to tell a compound statement


def plain_end(text: str, dialect: Dialect, start: int) -> End | None:
    """The end of a MySQL statement that is not compound, found fast; None when the
    token-by-token reading must decide (a compound statement, a meta word, unclosed text)."""
    head: list[str] = []
    for match in _pattern(dialect).finditer(text, start):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            continue
        if kind in ("meta", "open"):
            return None
        if match.group() == ";" or len(head) == _HEAD_WORDS:
            break
        head.append(match.group().lower())
    if _is_compound(head):
        return None
    body = _PLAIN_BODY.match(text, start)
    at = body.end() if body is not None else start
    if text.startswith(DEFAULT_DELIMITER, at):
        return End(text, start, at, at + 1, DEFAULT_DELIMITER)
    return None


def _delimiter_at(text: str, match: re.Match[str], kind: str, delimiter: str) -> int | None:
    """Where the delimiter starts, if it starts inside this code token (the mysql client finds
    it anywhere outside quotes and comments: `DELIMITER $$` ends `END$$`)."""
    if kind in ("string", "ident", "meta"):
        return None
    if delimiter == DEFAULT_DELIMITER:
        return match.start() if match.group() == ";" else None
    found = text.find(delimiter, match.start(), match.end() + len(delimiter) - 1)
    return found if found >= 0 else None


def _complete(text: str, dialect: Dialect, start: int, at: int, delimiter: str, blocks: _Blocks | None) -> bool:
    """Whether the delimiter at `at` ends the statement (not a `;` inside a compound body)."""
    if delimiter != DEFAULT_DELIMITER:
        return True
    if blocks is not None:
        return blocks.ends_at_semicolon()
    if dialect.ends == "sqlite":
        return _sqlite_complete(text[start : at + 1])
    return True


def _sqlite_complete(text: str) -> bool:
    """sqlite3's own judgement; bytes of a file that are not UTF-8 (read as stand-ins, see
    source.py) count as any other character there."""
    import sqlite3

    try:
        return sqlite3.complete_statement(text)
    except UnicodeEncodeError:
        return sqlite3.complete_statement(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


class _Blocks:
    """BEGIN ... END nesting of a MySQL/MariaDB compound statement, token by token.

    A body's `;` ends the statement only once every block is closed. BEGIN and CASE always
    open a block; IF, LOOP, WHILE, REPEAT and FOR only where a statement starts (so the IF()
    function and FOR UPDATE do not); END closes the innermost block (END IF, END LOOP... too).
    Whether the statement is compound at all is decided from its words before the first `;`.
    """

    def __init__(self) -> None:
        self.head: list[str] = []  # the statement's first words, until its first `;`
        self.compound: bool | None = None
        self.stack: list[str] = []
        self.at_start = True  # the next word starts a statement
        self.label = False  # the last word started a statement (a `:` after it makes it a label)
        self.pending_end = False

    def ends_at_semicolon(self) -> bool:
        self._settle_end(None)
        if self.compound is None:
            self.compound = _is_compound(self.head)
        if not self.compound or not self.stack:
            return True
        self.at_start, self.label = True, False
        return False

    def feed(self, kind: str, word: str) -> None:
        if self.compound is None and len(self.head) < 24:
            self.head.append(word)
        if self._settle_end(word if kind == "word" else None):
            return
        if kind != "word":
            self.at_start = word == ":" and self.label
            self.label = False
            return
        starts = self.at_start
        self.label = starts
        if word == "end":
            self.pending_end, self.at_start = True, False
            return
        if word in ("begin", "case") or (starts and word in ("if", "loop", "while", "repeat", "for")):
            self.stack.append(word)
        self.at_start = word in ("begin", "then", "else", "do", "loop", "repeat", "atomic", "row")

    def _settle_end(self, word: str | None) -> bool:
        """After END: END IF / END LOOP ... close that block (True: the word is used up);
        a bare END closes the innermost one."""
        if not self.pending_end:
            return False
        self.pending_end = False
        if self.stack:
            self.stack.pop()
        return word in ("if", "loop", "while", "repeat", "for", "case")


_ROUTINES = frozenset({"procedure", "function", "trigger", "event"})
_NOT_ROUTINES = frozenset(
    {"table", "view", "index", "database", "schema", "user", "role", "server", "sequence", "tablespace", "(", "as"}
)


def _is_compound(head: list[str]) -> bool:
    """CREATE [OR REPLACE] [DEFINER=...] PROCEDURE|FUNCTION|TRIGGER|EVENT, BEGIN NOT ATOMIC,
    `label: BEGIN`, and MariaDB's IF / CASE / LOOP / WHILE / REPEAT / FOR blocks."""
    if not head:
        return False
    first = head[0]
    if first in ("if", "case", "loop", "while", "repeat", "for"):
        return True
    if first == "begin":
        return len(head) > 1 and head[1] == "not"
    if len(head) > 2 and head[1] == ":":
        return head[2] in ("begin", "loop", "while", "repeat", "for")
    if first == "create":
        for word in head[1:]:
            if word in _ROUTINES:
                return True
            if word in _NOT_ROUTINES:
                return False
    return False


def _line_command_end(text: str, dialect: Dialect, delimiter: str, start: int, first: re.Match[str]) -> End:
    """A client command ends at the end of its line; all but DELIMITER also at the delimiter
    (`use shop; SELECT 1;`). DELIMITER's argument may itself contain `;`."""
    newline = text.find("\n", first.end())
    line_end = len(text) if newline < 0 else newline
    terminator = "" if newline < 0 else "\n"
    if first.group().lower() != "delimiter":
        for match in _pattern(dialect).finditer(text, first.end(), line_end):
            at = _delimiter_at(text, match, match.lastgroup or "", delimiter)
            if at is not None:
                return End(text, start, at, at + len(delimiter), delimiter)
    return End(text, start, line_end, line_end + len(terminator), terminator)


def top_level(toks: list[Tok], *wanted: str, start: int = 0) -> Iterator[tuple[int, Tok]]:
    """The words outside every parenthesis (a subquery's WHERE is not the statement's), each
    with its index, from the token at `start` on (parentheses before it still count); only
    those in `wanted` (lowercase) when any are given."""
    depth = 0
    for index, tok in enumerate(toks):
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and index >= start and tok.kind == "word" and (not wanted or tok.lower in wanted):
            yield index, tok


def words(text: str, dialect: Dialect) -> list[Tok]:
    """Tokens that carry meaning for classification and completion (unclosed text dropped)."""
    return [t for t in scan(text, dialect) if t.kind != "open"]


def name_at(text: str, dialect: Dialect, position: int) -> list[str]:
    """The (possibly qualified) name at word `position`, unquoted: `db`.`t` -> ["db", "t"]."""
    toks = words(text, dialect)
    names: list[list[str]] = []
    index = 0
    while index < len(toks):
        parts = [toks[index].name]
        while index + 2 < len(toks) and toks[index + 1].text == ".":
            parts.append(toks[index + 2].name)
            index += 2
        names.append(parts)
        index += 1
    if len(names) <= position or toks[0].kind == "punct":
        raise UsageError("a name is missing", "e.g. use shop, \\d users")
    return names[position]


def delimiter_argument(text: str) -> str:
    """The new delimiter of a `DELIMITER X` line, as the mysql client reads it: the first word
    (quotes taken off), the rest of the line ignored."""
    argument = text.split(None, 1)[1].strip() if len(text.split(None, 1)) > 1 else ""
    if argument[:1] in ("'", '"', "`") and argument[0] in argument[1:]:
        new = argument[1 : argument.index(argument[0], 1)]
    else:
        new = argument.split(None, 1)[0] if argument else ""
    if not new:
        raise UsageError("DELIMITER needs the new delimiter", "e.g. DELIMITER //, and DELIMITER ; to go back")
    if "\\" in new:
        raise UsageError("a delimiter cannot contain a backslash")
    return new
