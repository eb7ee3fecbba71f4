"""Where one SQL statement ends, and the code words of a statement (no strings, no comments).

SQL mode sends lines until a `;` (or the mysql client's `\\G` / `\\g`) that is outside quotes,
backticks and comments ends the statement, so a `;` inside `'a;b'` or `-- note;` never splits.
The two dialects differ only in details: MySQL escapes with backslashes inside strings and has
`#` comments; SQLite does neither and quotes identifiers with double quotes or brackets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# A backslash command that ends a statement: \G (vertical output), \g (like ;), \c (discard).
TERMINATORS = ("\\G", "\\g", "\\c")


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


def split_statement(text: str, dialect: Dialect) -> tuple[str, str, str] | None:
    """(statement, rest, terminator) for the first complete statement of `text`, else None.

    The terminator is ";", "\\G", "\\g" or "\\c"; "" when `text` holds nothing but whitespace
    and comments (nothing to wait for). None means the statement needs more lines.
    """
    for match in _pattern(dialect).finditer(text):
        kind = match.lastgroup
        if kind == "open":
            return None
        token = match.group()
        if token == ";" or (kind == "meta" and token in TERMINATORS):
            return text[: match.start()].strip(), text[match.end() :], token
    if not scan(text, dialect):
        return "", "", ""
    return None


def words(text: str, dialect: Dialect) -> list[Tok]:
    """Tokens that carry meaning for classification and completion (unclosed text dropped)."""
    return [t for t in scan(text, dialect) if t.kind != "open"]
