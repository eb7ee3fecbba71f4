"""Where one SQL statement ends, and the code words of a statement (no strings, no comments).

SQL mode sends lines until a `;` (or the mysql client's `\\G` / `\\g`) that is outside quotes,
backticks and comments ends the statement, so a `;` inside `'a;b'` or `-- note;` never splits;
a `\\> file` ends it too, at the end of its line.
The two dialects differ only in details: MySQL escapes with backslashes inside strings and has
`#` comments; SQLite does neither and quotes identifiers with double quotes or brackets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from opsh.shell.errors import UsageError

# A backslash command that ends a statement: \G (vertical output), \g (like ;), \c (discard).
TERMINATORS = ("\\G", "\\g", "\\c")
# Backslash words that send the result elsewhere (`\\>>` is `\\>` then `>`).
REDIRECTS = ("\\>", "\\|")


@dataclass(frozen=True)
class Dialect:
    name: str
    backslash_escapes: bool
    hash_comments: bool
    ident_quotes: str  # characters that quote identifiers


MYSQL = Dialect("mysql", backslash_escapes=True, hash_comments=True, ident_quotes="`")
SQLITE = Dialect("sqlite", backslash_escapes=False, hash_comments=False, ident_quotes='`"[')


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
    idents = [r"`(?:``|[^`])*`"]
    if '"' in dialect.ident_quotes:
        idents.append(double)
    if "[" in dialect.ident_quotes:
        idents.append(r"\[[^\]]*\]")
    strings = [single] if '"' in dialect.ident_quotes else [single, double]
    parts = [
        r"(?P<ws>\s+)",
        rf"(?P<comment>{line_comment}|/\*.*?\*/)",
        rf"(?P<string>{'|'.join(strings)})",
        rf"(?P<ident>{'|'.join(idents)})",
        r"(?P<open>['\"`].*|/\*.*" + (r"|\[.*" if "[" in dialect.ident_quotes else "") + ")",
        r"(?P<meta>\\[A-Za-z?]+|\\.?)",
        r"(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)",
        r"(?P<word>[A-Za-z_$@\x80-\uffff][\w$@\x80-\uffff]*)",
        r"(?P<punct>.)",
    ]
    return re.compile("|".join(parts), re.S)


def scan(text: str, dialect: Dialect) -> list[Tok]:
    """Every token of `text` except whitespace and comments."""
    out = []
    for match in _pattern(dialect).finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            out.append(Tok(kind, match.group(), match.start(), match.end()))
    return out


@dataclass(frozen=True)
class End:
    """Where the first statement of a text ends: `statement` is stripped and keeps a trailing
    redirect, which starts at `redirect` (an index into `statement`) when there is one."""

    statement: str
    rest: str
    terminator: str
    redirect: int | None = None


def split_statement(text: str, dialect: Dialect) -> tuple[str, str, str] | None:
    """(statement, rest, terminator) for the first complete statement of `text`, else None.

    The terminator is ";", "\\G", "\\g" or "\\c"; "" when `text` holds nothing but whitespace
    and comments (nothing to wait for). None means the statement needs more lines.
    """
    end = find_end(text, dialect)
    return None if end is None else (end.statement, end.rest, end.terminator)


def find_end(text: str, dialect: Dialect) -> End | None:
    """The first statement's end, or None while it needs more lines.

    A `\\>`, `\\>>` or `\\|` also ends the statement at the end of its line (psql's `\\g FILE`):
    its target never runs on into the next line, and Enter after it runs the statement (the
    newline is then the terminator, or "" at the end of the text)."""
    redirect: int | None = None  # where a redirect starts in `text`
    line_end = len(text)  # the end of the redirect's line
    for match in _pattern(dialect).finditer(text):
        kind, token = match.lastgroup, match.group()
        if redirect is not None and (match.end() > line_end or kind == "open"):
            break
        if kind == "open":
            return None
        if token == ";" or (kind == "meta" and token in TERMINATORS):
            return _cut(text, match.start(), match.end(), token, redirect)
        if kind == "meta" and token in REDIRECTS and redirect is None:
            redirect = match.start()
            found = text.find("\n", match.end())
            line_end = len(text) if found < 0 else found
    if redirect is not None:
        return _cut(text, line_end, line_end + 1, text[line_end : line_end + 1], redirect)
    if not scan(text, dialect):
        return End("", "", "")
    return None


def _cut(text: str, start: int, end: int, terminator: str, redirect: int | None) -> End:
    raw = text[:start]
    lead = len(raw) - len(raw.lstrip())
    at = None if redirect is None else redirect - lead
    return End(raw.strip(), text[end:], terminator, at)


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
