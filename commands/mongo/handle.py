"""The MongoDB handle: a pymongo client plus the mongosh-style mode it gives the prompt.

Lines are `show dbs`, `show collections`, `use DB`, `it`, or a method chain on `db`. Documents
come back as Result documents that prefer JSON (relaxed Extended JSON, valid for jq) while the
`format` setting is left at its default; `--format table` on the line or `set format table`
flattens them into a table with mongosh's notation in the cells.

Paging: at a terminal a find() shows `mongo_batch` documents (20, like mongosh) and `it` shows
the next batch; `.toArray()`, scripts, `-c` and piped input get the whole result at once.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.mongo.evaluate import UNDEFINED, CollectionRef, CursorValue, DbRef, Evaluation, Evaluator
from opsh.commands.mongo.help import mode_help
from opsh.commands.mongo.render import MONGOSH, batch_status, printed_result, value_result
from opsh.commands.mongo.syntax import Line, next_statement, parse_statement
from opsh.shell.errors import AuthError, ConnectError, NotFound, UsageError, swallowed
from opsh.shell.fileread import check_regular
from opsh.shell.handles import ConnectRequest, Handle
from opsh.shell.result import Result, Size
from opsh.shell.statement import Statement

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.session import Session

DEFAULT_PORT = 27017
URL_EXAMPLE = "e.g. mongodb://user@host:27017/db?authSource=admin"
# How long a command looks for the server before saying it cannot reach it (pymongo's default
# is 30 s, then a topology dump): a few seconds, or the `timeout` setting if it is shorter.
SELECTION_SECONDS = 3.0
_DB_NAME = re.compile(r'^[^/\\. "$*<>:|?]{1,63}$')
NAMES_TTL = 10.0

@dataclass
class Pending:
    """The rest of the last cursor, for `it`: the cursor and the one document read ahead."""

    cursor: Any
    ahead: Any
    shown: int


class MongoHandle(Handle):
    kind = "mongo"
    server_name = "mongodb"

    def __init__(self, name: str, endpoint: str, client: Any, database: str, **kw: Any) -> None:
        super().__init__(name, endpoint, **kw)
        self.address = endpoint.rsplit("/", 1)[0]
        self.client = client
        self.database = database
        self.pending: Pending | None = None
        self.active: Any = None  # the cursor being read, closed by cancel()
        self._names: dict[str, tuple[float, list[str]]] = {}

    # ------------------------------------------------------------ connection

    def ping(self) -> None:
        self.client.admin.command("ping")

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing must not fail
            swallowed("closing a MongoDB client")

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        from pymongo.errors import ConnectionFailure

        return (ConnectionFailure,)

    def drop(self) -> list[str]:
        """pymongo reconnects by itself; what is gone is the cursor `it` would have read on."""
        had_cursor = self.pending is not None
        self.pending = None
        self.active = None
        return ["the cursor of the last query is gone (`it` has nothing to show; run the query again)"] if had_cursor else []

    def cancel(self) -> None:
        """After Ctrl-C: close the cursor that was being read (kills it on the server)."""
        for cursor in (self.active, self.pending.cursor if self.pending else None):
            if cursor is not None:
                try:
                    cursor.close()
                except Exception:  # noqa: BLE001 - the connection may be what Ctrl-C interrupted
                    swallowed("closing a MongoDB cursor after Ctrl-C")
        self.active = None
        self.pending = None

    def cached_names(self, key: str, fetch: Callable[[], Iterable[str]]) -> list[str]:
        """Collection and database names for completion, asked again at most every NAMES_TTL
        seconds (completion runs at every keystroke)."""
        cached = self._names.get(key)
        if cached is not None and time.monotonic() - cached[0] < NAMES_TTL:
            return cached[1]
        names = sorted(fetch())
        self._names[key] = (time.monotonic(), names)
        return names

    # ------------------------------------------------------------ mode

    def prompt_label(self) -> str:
        return f"mongo:{self.name}/{self.database}"

    def toolbar(self) -> str:
        more = " | it: more" if self.pending else ""
        return f"db {self.database}{more}"

    def lexer(self) -> Lexer | None:
        from opsh.commands.mongo.complete import mongo_lexer

        return mongo_lexer()

    def completer(self, session: Session) -> Completer | None:
        from opsh.commands.mongo.complete import MongoCompleter

        return MongoCompleter(self)

    def next_statement(self, text: str) -> Statement | None:
        return next_statement(text)

    def execute(self, session: Session, statement: str) -> Result:
        if not statement.strip():
            return Result.empty()
        parsed = parse_statement(statement, session.area("mongo-variables", dict))
        with _assume_yes(session, parsed.yes):
            return self._run(session, parsed)

    # ------------------------------------------------------------ statements

    def _run(self, session: Session, st: Line) -> Result:
        if st.word:
            return self._word(session, st)
        evaluation = Evaluator(session, self.client, self.database, self.readonly, st).run()
        fmt = self._output_format(session, st)
        # A transcript renders what was printed a second time: then a cursor's documents are kept.
        keep = bool(getattr(session.engine, "capture", False))
        parts = [
            printed_result(p.style, list(p.values) if keep else p.values, p.separate, fmt, st.fmt)
            for p in evaluation.printed
        ]
        parts.append(self._final(session, st, evaluation))
        for earlier, later in zip(parts, parts[1:], strict=False):
            earlier.then = _constant(later)
        return parts[0]

    def _final(self, session: Session, st: Line, evaluation: Evaluation) -> Result:
        value = evaluation.value
        if isinstance(value, CursorValue):
            return self._first_batch(session, st, value)
        if value is UNDEFINED:
            return Result.empty(status=evaluation.status)
        if isinstance(value, DbRef):
            return Result.of_text(value.name)
        if isinstance(value, CollectionRef):
            return Result.of_text(f"{value.database}.{value.name}")
        return self._value(session, st, value, evaluation.status)

    def _word(self, session: Session, st: Line) -> Result:
        if st.word == "show":
            return self._show(session, st)
        if st.word == "use":
            if not _DB_NAME.match(st.argument):
                raise UsageError(f"bad database name: {st.argument!r}")
            self.database = st.argument
            self.pending = None
            return Result.empty(status=f"switched to db {self.database}")
        if st.word == "it":
            return self._next_batch(session, st)
        if st.word == "db":
            return Result.of_text(self.database)
        if st.word == "help":
            return mode_help()
        session.use("local")  # exit / quit: leave the mode, as leaving mongosh
        return Result.empty(status="local mode")

    def _show(self, session: Session, st: Line) -> Result:
        what = st.argument
        if what in ("dbs", "databases"):
            rows = [
                [d["name"], Size(d.get("sizeOnDisk") or 0), d.get("empty", False)]
                for d in sorted(self.client.list_databases(), key=lambda d: d["name"])
            ]
            return Result.table(["name", "size_on_disk", "empty"], rows, force_format=st.fmt)
        if what in ("collections", "tables"):
            names = sorted(self.client[self.database].list_collection_names())
            self._names[self.database] = (time.monotonic(), names)
            return Result.table(["collection"], [[n] for n in names], force_format=st.fmt)
        if what == "users":
            users = self.client[self.database].command("usersInfo").get("users", [])
            return self._value(session, st, users, f"{len(users)} users")
        raise UsageError(f"show {what}: unknown", "show dbs | show collections | show users")

    # ------------------------------------------------------------ output

    def _output_format(self, session: Session, st: Line) -> str:
        from opsh.shell.dispatch import effective_format

        return st.fmt or effective_format(session, MONGOSH)

    def _value(self, session: Session, st: Line, value: Any, status: str = "") -> Result:
        return value_result(value, self._output_format(session, st), status, st.fmt)

    def _first_batch(self, session: Session, st: Line, cursor: CursorValue) -> Result:
        self.pending = None
        if cursor.whole or not session.io.interactive:
            return self._documents(session, st, self._read(cursor.cursor, None), more=False, shown_before=0)
        batch = int(session.settings.get("mongo_batch"))
        docs = self._read(cursor.cursor, batch + 1)
        more = len(docs) > batch
        if more:
            self.pending = Pending(cursor.cursor, docs[batch], batch)
        return self._documents(session, st, docs[:batch], more, 0)

    def _next_batch(self, session: Session, st: Line) -> Result:
        pending = self.pending
        if pending is None:
            raise NotFound("no cursor to iterate", "run a find() or aggregate() first")
        batch = int(session.settings.get("mongo_batch"))
        docs = [pending.ahead, *self._read(pending.cursor, batch)]  # a lost connection: drop() says so
        self.pending = None
        more = len(docs) > batch
        if more:
            self.pending = Pending(pending.cursor, docs[batch], pending.shown + batch)
        return self._documents(session, st, docs[:batch], more, pending.shown)

    def _read(self, cursor: Any, limit: int | None) -> list[Any]:
        self.active = cursor
        try:
            return list(cursor if limit is None else itertools.islice(cursor, limit))
        finally:
            self.active = None

    def _documents(self, session: Session, st: Line, docs: list[Any], more: bool, shown_before: int) -> Result:
        return self._value(session, st, docs, batch_status(len(docs), more, shown_before))


def _constant(result: Result) -> Callable[[], Result]:
    return lambda: result


@contextlib.contextmanager
def _assume_yes(session: Session, yes: bool) -> Iterator[None]:
    before = session.io.assume_yes
    session.io.assume_yes = before or yes
    try:
        yield
    finally:
        session.io.assume_yes = before


# ---------------------------------------------------------------- connecting

def connect_mongo(session: Session, request: ConnectRequest) -> MongoHandle:
    """Open a client and check it with a ping (which also authenticates when a user is given)."""
    import pymongo
    from pymongo import errors

    database = request.path.split("/", 1)[0] or "test"
    timeout_ms = int(session.timeout * 1000)
    options: dict[str, Any] = {
        "serverSelectionTimeoutMS": int(min(session.timeout, SELECTION_SECONDS) * 1000),
        "connectTimeoutMS": timeout_ms,
        "uuidRepresentation": "standard",
        "appname": "opsh",
    }
    if request.user:
        options["password"] = request.get_password()
    _check_options(request.options)
    _check_files(request.options)
    port = request.port(DEFAULT_PORT)
    endpoint = f"{request.host}:{port}/{database}"
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            client = pymongo.MongoClient(request.url, **options)
    except (errors.ConfigurationError, errors.InvalidURI, ValueError, TypeError) as exc:
        raise UsageError(f"bad mongodb URL: {exc}", URL_EXAMPLE) from None
    # pymongo only warns about a URL it does not like; a mistake should not pass silently.
    complaints = [w for w in warned if issubclass(w.category, UserWarning) and "pymongo" in w.filename]
    if complaints:
        client.close()
        raise UsageError(f"bad mongodb URL: {str(complaints[0].message).split('. Refer')[0]}", URL_EXAMPLE)
    try:
        client.admin.command("ping")
    except errors.ServerSelectionTimeoutError as exc:
        client.close()
        raise ConnectError(f"cannot reach mongodb at {request.host}:{port}", _reason(exc)) from None
    except errors.OperationFailure as exc:
        client.close()
        if exc.code == 18:
            raise AuthError(f"authentication failed for {request.user} on {endpoint}") from None
        raise
    return MongoHandle(request.name, endpoint, client, database, readonly=request.readonly, tag=request.tag)


def _check_options(given: dict[str, str]) -> None:
    """An option pymongo does not know is a typo to report, not a warning to print."""
    import difflib

    from pymongo import common

    known = {*common.URI_OPTIONS_VALIDATOR_MAP, *common.URI_OPTIONS_ALIAS_MAP}
    for name in given:
        if name.lower() not in known:
            close = difflib.get_close_matches(name.lower(), sorted(known), n=1)
            hint = f"did you mean {close[0]}?" if close else URL_EXAMPLE
            raise UsageError(f"bad mongodb URL: unknown option {name!r}", hint)


# URL options that name a file pymongo (OpenSSL) reads as it is given: a fifo there once held
# the connect for good, so each must be a regular file (shell/fileread.py says what it is not).
_FILE_OPTIONS = frozenset(("tlscafile", "tlscertificatekeyfile", "tlscrlfile"))


def _check_files(given: dict[str, str]) -> None:
    for name, value in given.items():
        if name.lower() in _FILE_OPTIONS:
            check_regular(value, f"{name}={value}")


def _reason(exc: Exception) -> str:
    """The first server's error from pymongo's long topology description."""
    text = str(exc).split(", Timeout:")[0]
    text = text.split(" (configured timeouts")[0]
    return text.split(": ", 1)[-1] if ": " in text else text
