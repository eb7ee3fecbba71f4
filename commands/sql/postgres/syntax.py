"""Where a PostgreSQL statement ends: SQL mode's splitter with PostgreSQL's quoting, plus the two
things psql reads beyond a `;`.

The dialect: strings are '...' (standard-conforming, `''` escapes), E'...' (backslash escapes)
and dollar-quoted ($$ ... $$, $tag$ ... $tag$, where a `;` is text: DO blocks and function
bodies stay whole), identifiers "quoted", comments `--` and `/* */`. A routine with a SQL-standard
body (`BEGIN ATOMIC ...; END`) is kept whole by the shared BEGIN ... END counting.

Beyond the `;`: `COPY ... FROM stdin;` takes the lines after it, up to a line `\\.`, as its data
(as psql does, and as a pg_dump file writes it), and `\\copy ...` takes its whole line.
"""

from __future__ import annotations

import re

from opsh.commands.sql.syntax import Dialect, End, Tok, find_end, top_level, words

POSTGRES = Dialect(
    "postgres", backslash_escapes=False, hash_comments=False, ident_quotes='"', dollar_quotes=True, ends="blocks"
)
END_OF_DATA = "\\."
# psql's meta commands this mode runs itself (the shared ones too: \T, \W, \w, \G, \g, \c).
META_WORDS = (
    "\\?",
    "\\l",
    "\\l+",
    "\\list",
    "\\c",
    "\\conninfo",
    "\\d",
    "\\d+",
    "\\dt",
    "\\dt+",
    "\\di",
    "\\di+",
    "\\dv",
    "\\dv+",
    "\\ds",
    "\\df",
    "\\df+",
    "\\dn",
    "\\dn+",
    "\\du",
    "\\dg",
    "\\x",
    "\\timing",
    "\\copy",
    "\\i",
    "\\ir",
    "\\include",
    "\\.",
    "\\e",
    "\\edit",
    "\\password",
    "\\restrict",
    "\\unrestrict",
    "\\T",
    "\\W",
    "\\w",
)
WHOLE_LINE = frozenset({"\\copy"})
_DATA_END = re.compile(r"^\\\.[ \t]*\r?$", re.M)
_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.S)


def skip_comments(text: str, start: int) -> int:
    """Where the code after `start` begins (whitespace and comments skipped)."""
    found = _LEADING.match(text, start)
    return found.end() if found else start


def is_copy_from_stdin(toks: list[Tok]) -> bool:
    """COPY name [(cols)] FROM STDIN [...]: the statement's data follows it."""
    return _copy_direction(toks) == ("from", "stdin")


def is_copy_to_stdout(toks: list[Tok]) -> bool:
    return _copy_direction(toks) == ("to", "stdout")


def _copy_direction(toks: list[Tok]) -> tuple[str, str] | None:
    if not toks or toks[0].lower != "copy":
        return None
    for index, tok in top_level(toks, "from", "to", start=1):
        if index + 1 < len(toks):
            return tok.lower, toks[index + 1].lower
    return None


def with_data(end: End) -> End | None:
    """`end` extended over the data of a COPY ... FROM stdin (through its `\\.` line); None while
    that line has not come yet; `end` itself for any other statement."""
    if not is_copy_from_stdin(words(end.text[end.begin : end.cut], POSTGRES)):
        return end
    newline = end.text.find("\n", end.stop)
    if newline < 0:
        return None
    found = _DATA_END.search(end.text, newline + 1)
    if found is None:
        return None
    stop = found.end() + 1 if found.end() < len(end.text) else found.end()
    return End(end.text, end.begin, found.end(), stop, end.terminator)


def split_copy_data(statement: str) -> tuple[str, str | None]:
    """(the COPY statement, its data or None) of a statement `with_data` extended."""
    end = find_end(statement, POSTGRES)
    if end is None or end.terminator != ";" or not is_copy_from_stdin(words(end.statement, POSTGRES)):
        return statement, None
    newline = statement.find("\n", end.stop)
    data = "" if newline < 0 else statement[newline + 1 :]
    return end.statement, data.removesuffix(END_OF_DATA)


def whole_line(text: str, start: int) -> End:
    """A meta command that takes its whole line (`\\copy`), a trailing `;` dropped."""
    newline = text.find("\n", start)
    line_end = len(text) if newline < 0 else newline
    cut = line_end
    while cut > start and text[cut - 1] in " \t;\r":
        cut -= 1
    terminator = "\n" if newline >= 0 else ""
    return End(text, start, cut, line_end + len(terminator), terminator)
