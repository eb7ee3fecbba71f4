"""Variables in SQL text, quoted where the user asks, as psql does.

`${name}` is pasted as raw text (psql's `:name`): right for a table name the script controls,
wrong for a value someone typed, since `x' or '1'='1` then becomes SQL. `:'name'` pastes the
value as one string literal and `:"name"` as one quoted identifier, escaped for the dialect, so
no value can end the literal and add SQL. Both are read only outside strings and comments.
"""

from __future__ import annotations

from opsh.commands.sql.syntax import Dialect, scan
from opsh.shell.lineparse import Lookup, expand_one, expand_text


def expand_sql(text: str, dialect: Dialect, lookup: Lookup) -> str:
    """`text` with `:'name'` / `:"name"` quoted and `${name}` pasted."""
    tokens = scan(text, dialect)
    out: list[str] = []
    pos = 0
    for colon, quoted in zip(tokens, tokens[1:], strict=False):
        if colon.text != ":" or quoted.start != colon.end or quoted.start < pos:
            continue
        form = quoted.text[:1]
        if form not in ("'", '"') or len(quoted.text) < 3 or quoted.text[-1] != form:
            continue
        value = expand_one(quoted.text[1:-1], lookup)
        out.append(expand_text(text[pos : colon.start], lookup))
        out.append(literal(value, dialect) if form == "'" else identifier(value, dialect))
        pos = quoted.end
    out.append(expand_text(text[pos:], lookup))
    return "".join(out)


def literal(value: str, dialect: Dialect) -> str:
    if dialect.backslash_escapes:
        value = value.replace("\\", "\\\\")
    return "'" + value.replace("'", "''") + "'"


def identifier(value: str, dialect: Dialect) -> str:
    """The dialect's first identifier quote: backticks for MySQL and SQLite (SQLite reads a
    double-quoted name that matches no column as a string, a backticked one as an error, which
    is what a wrong name should be), double quotes for PostgreSQL."""
    quote = dialect.ident_quotes[0]
    return quote + value.replace(quote, quote * 2) + quote
