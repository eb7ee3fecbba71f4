"""Completion and highlighting in SQL mode.

Completion offers keywords, functions, databases, tables and columns by context (the statement
around the cursor says what fits): a table after FROM / JOIN / UPDATE / INTO, a column of the
statement's tables after SELECT / WHERE / SET / ON (or `alias.`), a database after USE.
Candidates come from the handle's current schema snapshot only, so completion never waits for
the server, except that the Tab which starts the first load waits for it up to half a second
(else that Tab would offer nothing and only the second would work).

Highlighting is pygments' MySQL / SQL lexer in the shell's colours: the prompt's style does not
carry pygments' token styles, so the token classes are mapped to the colours the local line
uses (keywords like commands, strings, comments).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer, PygmentsLexer

from opsh.commands.sql import schema as words_of
from opsh.commands.sql.schema import Schema
from opsh.commands.sql.syntax import Dialect, Tok, split_statement, words
from opsh.shell import formats

if TYPE_CHECKING:
    from opsh.commands.sql.handle import SqlHandle

TABLE_WORDS = frozenset({"from", "join", "update", "into", "table", "truncate", "straight_join"})
COLUMN_WORDS = frozenset(
    {
        "select",
        "where",
        "set",
        "on",
        "and",
        "or",
        "by",
        "having",
        "when",
        "then",
        "else",
        "case",
        "distinct",
        "not",
        "like",
        "between",
        "in",
        "is",
        "using",
        "returning",
    }
)
DATABASE_WORDS = frozenset({"use", "database", "schema"})
OPERATORS = frozenset({"=", "<", ">", "!", "+", "-", "*", "/", "%"})
# Words that end a table reference instead of naming its alias.
NOT_ALIAS = frozenset(
    {
        "where",
        "join",
        "left",
        "right",
        "inner",
        "outer",
        "cross",
        "natural",
        "straight_join",
        "on",
        "using",
        "set",
        "group",
        "order",
        "limit",
        "having",
        "union",
        "values",
        "value",
        "select",
        "partition",
        "window",
        "for",
        "lock",
        "force",
        "ignore",
        "use",
        "as",
        "default",
        "into",
        "from",
        "returning",
    }
)
FIRST_TAB_WAIT = 0.5  # seconds a Tab waits for the first schema load (the toolbar says it is loading)
IDENTIFIER = re.compile(r"[A-Za-z_][\w$]*\Z")
PREFIX = re.compile(r"""(?:(?P<qual>[\w$]+|`[^`]+`|"[^"]+")\.)?(?P<word>[\w$]*|`[^`]*|"[^"]*)\Z""")


class SqlCompleter(Completer):
    """prompt_toolkit's side: reads the handle's snapshot at each keystroke."""

    def __init__(self, handle: SqlHandle) -> None:
        self.handle = handle

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        if not document.current_line_before_cursor.strip() and not complete_event.completion_requested:
            return  # Enter opened a continuation line: no menu until something is typed (or Tab)
        if complete_event.completion_requested and self.handle.schema.state == "loading":
            # The first Tab starts the first load: wait for it a little rather than offer
            # nothing (completion runs on its own thread, typing is not held up).
            self.handle.schemas.wait(FIRST_TAB_WAIT)
        before = self.handle.current_statement(document.text_before_cursor)
        start, found = candidates(self.handle.schema, self.handle.dialect, before, document.text_after_cursor)
        for text, meta in found:
            yield Completion(text, start_position=-start, display_meta=meta)


def candidates(schema: Schema, dialect: Dialect, before: str, after: str = "") -> tuple[int, list[tuple[str, str]]]:
    """(length of the typed prefix to replace, [(candidate, meta)]) for a cursor after `before`
    (the current statement's text up to the cursor) and before `after`."""
    after = _statement_rest(after, dialect)
    match = PREFIX.search(before)
    prefix = match.group("word") if match else ""
    qualifier = _unquote(match.group("qual")) if match and match.group("qual") else None
    head = before[: len(before) - len(match.group(0))] if match else before
    if head.lstrip().startswith("\\"):
        return len(prefix), _meta_candidates(schema, head.lstrip(), prefix)
    toks = words(head, dialect)
    every = words(head + (match.group(0) if match else "") + after, dialect)
    refs = table_references(every)
    context = _context(toks)
    if qualifier is not None:
        return len(prefix), _filter(_qualified(schema, qualifier, refs, context), prefix, dialect)
    found = list(_by_context(context, schema, dialect, refs, prefix))
    return len(prefix), _filter(found, prefix, dialect)


def _qualified(schema: Schema, qualifier: str, refs: dict[str, str], context: str) -> list[tuple[str, str]]:
    """After `name.`: the tables of database `name` where a table goes (or where `name` is no
    table or alias of the statement), else the columns of table or alias `name`."""
    table = refs.get(qualifier.lower(), qualifier)
    columns = [(c, f"column of {table}") for c in schema.columns_of(table)]
    if context == "table" or not columns:
        tables = schema.tables_in(qualifier)
        if tables:
            return [(t, f"table in {qualifier}") for t in tables]
    return columns


def _by_context(
    context: str, schema: Schema, dialect: Dialect, refs: dict[str, str], prefix: str
) -> Iterable[tuple[str, str]]:
    if context == "verb":
        return _keywords(words_of.verbs(dialect.name), prefix)
    if context == "table":
        qualifiers = [(s, "schema") for s in schema.schemas] or [(d, "database") for d in schema.databases]
        tables = [t for t in sorted(schema.tables) if "." not in t]  # `schema.` completes the others
        return [(t, "view" if t in schema.views else "table") for t in tables] + qualifiers
    if context == "type":
        return [(t, "type") for t in schema.types]
    if context == "database":
        return [(d, "database") for d in schema.databases]
    if context == "show":
        return _keywords(words_of.SHOW_WORDS, prefix)
    keywords = _keywords(words_of.keywords(dialect.name), prefix)
    if context == "keyword":
        return keywords
    return [*_columns(schema, refs), *_functions(schema, dialect, prefix), *keywords]


def _columns(schema: Schema, refs: dict[str, str]) -> list[tuple[str, str]]:
    tables = list(dict.fromkeys(refs.values()))
    if not tables:
        # Nothing named yet (SELECT typed before FROM): every column, if the schema is small.
        if sum(len(c) for c in schema.tables.values()) > 5000:
            return []
        tables = sorted(schema.tables)
    out: list[tuple[str, str]] = []
    for table in tables:
        out += [(c, f"column of {table}") for c in schema.columns_of(table)]
    return out


def _functions(schema: Schema, dialect: Dialect, prefix: str) -> list[tuple[str, str]]:
    upper = not prefix or not prefix[0].islower()
    builtin = schema.functions or words_of.functions(dialect.name)
    names = dict.fromkeys(f.upper() if upper else f.lower() for f in builtin if f[:1].isalpha())
    return [(r, "routine") for r in schema.routines] + [(f, "function") for f in names]


def _keywords(keywords: Iterable[str], prefix: str) -> list[tuple[str, str]]:
    lower = bool(prefix) and prefix[0].islower()
    return [(k.lower() if lower else k, "keyword") for k in keywords]


def _meta_candidates(schema: Schema, head: str, prefix: str) -> list[tuple[str, str]]:
    command = head.split()[0] if head.split() else ""
    if command in ("\\d", "\\dt") and len(head.split()) == 1:
        return _filter([(t, "table") for t in sorted(schema.tables)], prefix, None)
    if command == "\\u" and len(head.split()) == 1:
        return _filter([(d, "database") for d in schema.databases], prefix, None)
    if command == "\\timing" and len(head.split()) == 1:
        return _filter([("on", ""), ("off", "")], prefix, None)
    if command == "\\T" and len(head.split()) == 1:
        return _filter([(style, "table style") for style in formats.table_styles()], prefix, None)
    return []


def _context(toks: list[Tok]) -> str:
    """What the word at the cursor should be, from the nearest telling token before it."""
    if not toks:
        return "verb"
    for index in range(len(toks) - 1, -1, -1):
        tok = toks[index]
        if tok.kind == "punct":
            if tok.text == ":" and index == len(toks) - 1 and index > 0 and toks[index - 1].text == ":":
                return "type"  # `value::` (PostgreSQL's cast)
            if tok.text == "(" or tok.text in OPERATORS:
                return "column"
            continue
        if tok.kind != "word":
            continue
        word = tok.lower
        if word in TABLE_WORDS or (word in ("describe", "desc") and index == 0):
            tail = toks[index + 1 :]
            return "table" if not tail or tail[-1].text == "," else "keyword"
        if word in COLUMN_WORDS:
            return "column"
        if word in DATABASE_WORDS:
            return "database"
        if word == "show":
            return "show"
    return "keyword"


def table_references(toks: list[Tok]) -> dict[str, str]:
    """{name or alias (lower case): table} for the tables a statement names."""
    refs: dict[str, str] = {}
    index = 0
    while index < len(toks):
        tok = toks[index]
        index += 1
        starts = tok.kind == "word" and (tok.lower in TABLE_WORDS or (tok.lower in ("describe", "desc") and index == 1))
        while starts:
            table, index = _table_name(toks, index)
            if table is None:
                break
            refs[table.lower()] = table
            if index < len(toks) and toks[index].lower == "as":
                index += 1
            if index < len(toks) and toks[index].kind in ("word", "ident") and toks[index].lower not in NOT_ALIAS:
                refs[toks[index].name.lower()] = table
                index += 1
            if not (index < len(toks) and toks[index].text == ","):
                break
            index += 1
    return refs


def _table_name(toks: list[Tok], index: int) -> tuple[str | None, int]:
    if index >= len(toks) or toks[index].kind not in ("word", "ident") or toks[index].lower in NOT_ALIAS:
        return None, index
    name = toks[index].name
    index += 1
    if index + 1 < len(toks) and toks[index].text == "." and toks[index + 1].kind in ("word", "ident"):
        name = f"{name}.{toks[index + 1].name}"  # db.table (Schema.columns_of falls back to the table part)
        index += 2
    return name, index


def _filter(found: list[tuple[str, str]], prefix: str, dialect: Dialect | None) -> list[tuple[str, str]]:
    quoted = prefix[:1] in ("`", '"')
    bare = prefix.lstrip('`"').lower()
    out: dict[str, str] = {}
    for text, meta in found:
        if not text.lower().startswith(bare):
            continue
        shown = _quote(text, dialect, force=quoted) if meta not in ("keyword", "function") else text
        out.setdefault(shown, meta)
    return list(out.items())


def _quote(name: str, dialect: Dialect | None, force: bool = False) -> str:
    if not force and IDENTIFIER.match(name):
        return name
    quote = "`" if dialect is None or dialect.name == "mysql" else '"'
    return quote + name.replace(quote, quote * 2) + quote


def _unquote(name: str) -> str:
    return name[1:-1] if name[:1] in ("`", '"') else name


def _statement_rest(after: str, dialect: Dialect) -> str:
    split = split_statement(after, dialect)
    return after if split is None or not split[2] else split[0]


# ---------------------------------------------------------------- highlighting

# Longest prefix first: the first match decides.
_STYLES = (
    ("class:pygments.keyword", "ansigreen bold"),
    ("class:pygments.name.builtin", "ansicyan"),
    ("class:pygments.name.function", "ansicyan"),
    ("class:pygments.name.variable", "class:variable"),
    ("class:pygments.name.quoted", "ansiyellow"),
    ("class:pygments.literal.string.symbol", "ansiyellow"),
    ("class:pygments.literal.string", "class:string"),
    ("class:pygments.literal.number", "ansimagenta"),
    ("class:pygments.comment", "class:comment"),
)


def _style(pygments_class: str) -> str:
    for prefix, style in _STYLES:
        if pygments_class.startswith(prefix):
            return style
    return ""


class SqlLexer(Lexer):
    def __init__(self, dialect: str) -> None:
        from pygments.lexers import MySqlLexer, PostgresLexer
        from pygments.lexers import SqlLexer as GenericSqlLexer

        lexers = {"mysql": MySqlLexer, "postgres": PostgresLexer}
        self.inner = PygmentsLexer(lexers.get(dialect, GenericSqlLexer))

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        get_line = self.inner.lex_document(document)

        def line(number: int) -> StyleAndTextTuples:
            return [(_style(style), text) for style, text, *_ in get_line(number)]

        return line
