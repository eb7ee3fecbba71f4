"""Completion in PostgreSQL mode: SQL mode's completer (keywords, schemas, tables and views,
columns by table and alias, functions, types after `::`, all from the catalog snapshot) plus
psql's meta commands' arguments: `\\c` databases, `\\d` and friends relations, `\\df`
functions, `\\x` its settings. Highlighting is SQL mode's lexer in its PostgreSQL flavour."""

from __future__ import annotations

from collections.abc import Iterator

from prompt_toolkit.completion import CompleteEvent, Completion
from prompt_toolkit.document import Document

from opsh.commands.sql.complete import SqlCompleter

RELATION_WORDS = frozenset({"\\d", "\\d+", "\\dt", "\\dt+", "\\di", "\\di+", "\\dv", "\\dv+", "\\ds"})


class PgCompleter(SqlCompleter):
    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        before = self.handle.current_statement(document.text_before_cursor)
        line = before.lstrip()
        if line.startswith("\\") and " " in line and "\n" not in line:
            word, _, prefix = line.partition(" ")
            if " " not in prefix.strip():
                for text, meta in self._meta(word, prefix.strip()):
                    yield Completion(text, start_position=-len(prefix.strip()), display_meta=meta)
                return
        yield from super().get_completions(document, complete_event)

    def _meta(self, word: str, prefix: str) -> list[tuple[str, str]]:
        schema = self.handle.schema
        found: list[tuple[str, str]] = []
        if word == "\\c":
            found = [(d, "database") for d in schema.databases]
        elif word in RELATION_WORDS:
            found = [(t, "view" if t in schema.views else "table") for t in sorted(schema.tables) if "." not in t]
            found += [(f"{s}.", "schema") for s in schema.schemas]
        elif word in ("\\dn", "\\dn+"):
            found = [(s, "schema") for s in schema.schemas]
        elif word in ("\\df", "\\df+"):
            found = [(r, "routine") for r in schema.routines]
        elif word == "\\x":
            found = [(v, "") for v in ("on", "off", "auto")]
        elif word == "\\timing":
            found = [(v, "") for v in ("on", "off")]
        return [(text, meta) for text, meta in found if text.startswith(prefix)]
