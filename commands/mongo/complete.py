"""Tab completion and highlighting in mongo mode.

Completion: statement words, collections after `db.`, methods, operators. Names come from the
server (cached a few seconds); any failure simply offers nothing, so a slow or lost connection
never breaks typing. Highlighting: pygments' JavaScript lexer, since a chain is JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.lexers import Lexer, PygmentsLexer

from opsh.commands.mongo import methods
from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from opsh.commands.mongo.handle import MongoHandle

WORDS = {
    "show": "show dbs | collections | users",
    "use": "switch database",
    "it": "next batch of the last cursor",
    "db": "the current database",
    "help": "mongo mode syntax",
    "exit": "back to local mode",
}
SHOW_WORDS = ("dbs", "databases", "collections", "tables", "users")
OPERATORS = (
    # query
    *("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type", "$regex", "$options"),
    *("$and", "$or", "$nor", "$not", "$all", "$elemMatch", "$size", "$expr"),
    # update
    *("$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$push", "$pull", "$pullAll", "$addToSet"),
    *("$pop", "$each", "$currentDate", "$setOnInsert"),
    # aggregation
    *("$match", "$group", "$project", "$sort", "$limit", "$skip", "$unwind", "$lookup", "$count", "$facet"),
    *("$addFields", "$replaceRoot", "$sum", "$avg", "$first", "$last", "$out", "$merge", "$sample", "$bucket"),
)

_SHOW = re.compile(r"^\s*show\s+(\w*)$")
_USE = re.compile(r"^\s*use\s+(\S*)$")
_FIRST_WORD = re.compile(r"^\s*(\w*)$")
_DB_MEMBER = re.compile(r"^\s*db\.(\w*)$")
_COLL_METHOD = re.compile(r"^\s*db\.([\w.$-]+?)\.(\w*)$|^\s*db\.getCollection\(\s*['\"]([^'\"]+)['\"]\s*\)\.(\w*)$")
_CURSOR_METHOD = re.compile(r"\)\.(\w*)$")
_OPERATOR = re.compile(r"(\$\w*)$")


class MongoCompleter(Completer):
    def __init__(self, handle: MongoHandle) -> None:
        self.handle = handle

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = self.handle.current_statement(document.text_before_cursor)
        try:
            found = list(self.candidates(text))
        except Exception:  # noqa: BLE001 - completion must never break typing
            swallowed("completing a mongo line")
            return
        for word, prefix, meta in found:
            yield Completion(word, start_position=-len(prefix), display_meta=meta)

    def candidates(self, text: str) -> Iterable[tuple[str, str, str]]:
        """(candidate, the prefix it replaces, meta) for the statement typed so far."""
        if match := _SHOW.match(text):
            return _starting(SHOW_WORDS, match.group(1), "show")
        if match := _USE.match(text):
            return _starting(self._databases(), match.group(1), "database")
        if match := _FIRST_WORD.match(text):
            return [(w, match.group(1), meta) for w, meta in WORDS.items() if w.startswith(match.group(1))]
        if match := _DB_MEMBER.match(text):
            prefix = match.group(1)
            found = _starting(self._collections(), prefix, "collection")
            found += _starting(methods.DATABASE_METHODS, prefix, "db method")
            found += _starting(("getCollection",), prefix, "db method")
            return found
        if match := _COLL_METHOD.match(text):
            prefix = match.group(2) if match.group(2) is not None else match.group(4)
            return _starting(methods.COLLECTION_METHODS, prefix, "method")
        if match := _CURSOR_METHOD.search(text):
            return _starting(methods.CURSOR_METHODS, match.group(1), "cursor")
        if match := _OPERATOR.search(text):
            return _starting(OPERATORS, match.group(1), "operator")
        return []

    def _collections(self) -> list[str]:
        handle = self.handle
        return handle.cached_names(handle.database, lambda: handle.client[handle.database].list_collection_names())

    def _databases(self) -> list[str]:
        handle = self.handle
        return handle.cached_names("\0databases", handle.client.list_database_names)


def _starting(words: Iterable[str], prefix: str, meta: str) -> list[tuple[str, str, str]]:
    return [(w, prefix, meta) for w in words if w.startswith(prefix)]


def mongo_lexer() -> Lexer:
    from pygments.lexers.javascript import JavascriptLexer

    return PygmentsLexer(JavascriptLexer)
