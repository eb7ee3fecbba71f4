"""memcache mode (pymemcache): `connect memcache://host:port`, then the text protocol's verbs.

    get k [k2 ...]      gets k [k2 ...]     set k v [ttl [flags]]    add / replace (same)
    append k v          prepend k v         delete k                 incr k [n] / decr k [n]
    touch k ttl         cas k v CAS [ttl]   stats [items|slabs|settings|sizes|conns]
    flush_all [delay]   version             help

Values are shown as text (binary ones as 0x hex). A verb whose condition fails (`add` of an
existing key, `cas` after a change, `delete` of a missing key) prints memcached's own word
(NOT_STORED, EXISTS, NOT_FOUND) and counts as failed, so scripts can test it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import NotFound, UsageError
from opsh.shell.handles import ConnectRequest, Handle
from opsh.shell.result import Result

if TYPE_CHECKING:
    from prompt_toolkit.completion import CompleteEvent, Completer
    from prompt_toolkit.document import Document
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.session import Session

DEFAULT_PORT = 11211
KEY_MEMORY = 10_000  # key names remembered for completion


@dataclass(frozen=True)
class Verb:
    usage: str
    summary: str
    least: int
    most: int
    run: Callable[[MemcacheHandle, Session, list[str]], Result]


class FlagSerde:
    """Values stay bytes, and reads keep the item's flags (pymemcache's default drops them)."""

    def serialize(self, key: Any, value: Any) -> tuple[bytes, int]:
        if isinstance(value, bytes):
            return value, 0
        return str(value).encode("utf-8", "surrogateescape"), 0

    def deserialize(self, key: Any, value: bytes, flags: int) -> tuple[bytes, int]:
        return value, flags


class MemcacheHandle(Handle):
    kind = "memcache"

    def __init__(self, request: ConnectRequest, client: Any) -> None:
        super().__init__(request.name, request.url, readonly=request.readonly, tag=request.tag)
        self.client = client
        self.address = f"{request.host}:{request.port(DEFAULT_PORT)}"
        self.keys: dict[str, None] = {}  # insertion-ordered set of keys seen

    def ping(self) -> None:
        self.client.version()

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001,S110 - closing must not fail
            pass

    def cancel(self) -> None:
        """After Ctrl-C a reply may be half read: drop the socket; the next verb reconnects."""
        self.close()

    def toolbar(self) -> str:
        return self.address

    def lexer(self) -> Lexer | None:
        return _VerbLexer()

    def completer(self, session: Session) -> Completer | None:
        return _VerbCompleter(self)

    def execute(self, session: Session, statement: str) -> Result:
        from opsh.shell.syntax.words import split_args

        words = split_args(statement.strip())
        if not words:
            return Result.empty()
        name = words[0].lower()
        verb = VERBS.get(name)
        if verb is None:
            raise UsageError(f"unknown memcache verb: {words[0]}", "type `help` for the verbs")
        args = words[1:]
        if not verb.least <= len(args) <= verb.most:
            raise UsageError(f"usage: {name} {verb.usage}")
        if self.readonly and name in _WRITES:
            from opsh.shell.errors import ReadOnly

            raise ReadOnly(f"{name} writes, and {self.name} is read-only")
        return verb.run(self, session, args)

    def remember(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.keys[key] = None
        while len(self.keys) > KEY_MEMORY:
            self.keys.pop(next(iter(self.keys)))

    def forget(self, key: str) -> None:
        self.keys.pop(key, None)


# ---------------------------------------------------------------- values


def value_text(data: bytes) -> str:
    """Text when the bytes are UTF-8, else 0x-hex (the shell's rule for binary cells)."""
    from opsh.shell.render import cell

    return cell(data)


def _number(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{what} must be a whole number, got {text!r}") from None
    if value < 0:
        raise UsageError(f"{what} must not be negative")
    return value


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _outcome(word: str, ok: bool, why: str = "") -> Result:
    """memcached's reply word; a condition that did not hold fails the line (exit status 1)."""
    return Result.of_text(word, status=why, failed=not ok)


# ---------------------------------------------------------------- verbs


def _get(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    if len(args) > 1:
        return _gets(handle, session, args, with_cas=False)
    found = handle.client.get(args[0])
    if found is None:
        return _value_result(None, status=f"not found: {args[0]}")
    handle.remember(args)
    return _value_result(found[0])


def _value_result(value: bytes | None, status: str = "") -> Result:
    """One value: its text on a terminal, `(nil)` for a miss, JSON null with --format json."""
    text = None if value is None else value_text(value)

    def present(fmt: str, sink: Any) -> str | None:
        if fmt == "json":
            return None
        if text is None:
            return "(nil)" if fmt == "table" and sink.is_terminal else ""
        return text

    return Result.doc(text, status=status, present=present)


def _gets(handle: MemcacheHandle, session: Session, args: list[str], with_cas: bool = True) -> Result:
    """Several keys as a table (key, value, [cas,] flags), in the order asked; misses left out."""
    client = handle.client
    found = client.gets_many(args) if with_cas else {k: (v, None) for k, v in client.get_many(args).items()}
    rows = []
    for key in dict.fromkeys(args):
        if key in found:
            (value, flags), cas = found[key]
            rows.append([key, value_text(value), int(cas), flags] if with_cas else [key, value_text(value), flags])
    handle.remember(k for k in args if k in found)
    headers = ["key", "value", "cas", "flags"] if with_cas else ["key", "value", "flags"]
    return Result.table(headers, rows, status=f"{len(rows)} of {len(set(args))} found")


def _store(verb: str) -> Callable[[MemcacheHandle, Session, list[str]], Result]:
    def run(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
        key, value = args[0], _encode(args[1])
        ttl = _number(args[2], "ttl") if len(args) > 2 else 0
        flags = _number(args[3], "flags") if len(args) > 3 else None
        method = getattr(handle.client, verb)
        stored = method(key, value, expire=ttl, noreply=False, flags=flags)
        handle.remember([key])
        why = {"add": "the key exists", "replace": "no such key"}.get(verb, "")
        return _outcome("STORED" if stored else "NOT_STORED", bool(stored), "" if stored else why)

    return run


def _concat(verb: str) -> Callable[[MemcacheHandle, Session, list[str]], Result]:
    def run(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
        stored = getattr(handle.client, verb)(args[0], _encode(args[1]), noreply=False)
        return _outcome("STORED" if stored else "NOT_STORED", bool(stored), "" if stored else "no such key")

    return run


def _delete(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    deleted = handle.client.delete(args[0], noreply=False)
    handle.forget(args[0])
    return _outcome("DELETED" if deleted else "NOT_FOUND", deleted)


def _counter(verb: str) -> Callable[[MemcacheHandle, Session, list[str]], Result]:
    def run(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
        amount = _number(args[1], "amount") if len(args) > 1 else 1
        value = getattr(handle.client, verb)(args[0], amount, noreply=False)
        if value is None:
            return _outcome("NOT_FOUND", False)
        return Result.doc(value, present=lambda fmt, sink: None if fmt == "json" else str(value))

    return run


def _touch(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    touched = handle.client.touch(args[0], _number(args[1], "ttl"), noreply=False)
    return _outcome("TOUCHED" if touched else "NOT_FOUND", touched)


def _cas(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    key, value, token = args[0], _encode(args[1]), args[2]
    _number(token, "CAS")
    ttl = _number(args[3], "ttl") if len(args) > 3 else 0
    stored = handle.client.cas(key, value, token, expire=ttl, noreply=False)
    if stored is None:
        return _outcome("NOT_FOUND", False)
    return _outcome("STORED" if stored else "EXISTS", stored, "" if stored else "changed since that gets")


_STATS_GROUPS = ("items", "slabs", "settings", "sizes", "conns")


def _stats(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    if args and args[0] not in _STATS_GROUPS:
        raise UsageError(f"stats {args[0]}: unknown group", f"one of: {', '.join(_STATS_GROUPS)}")
    stats = handle.client.stats(*args)
    pairs = [(value_text(k) if isinstance(k, bytes) else str(k), _stat_value(v)) for k, v in stats.items()]
    if args and args[0] in ("items", "slabs", "conns"):
        return _per_class(pairs, "class" if args[0] != "conns" else "conn")
    return Result.mapping(pairs)


def _stat_value(value: Any) -> Any:
    return value_text(value) if isinstance(value, bytes) else value


def _per_class(pairs: list[tuple[str, Any]], label: str) -> Result:
    """`items:1:number 5` lines as one row per slab class (or connection), one column per stat."""
    rows: dict[str, dict[str, Any]] = {}
    columns: dict[str, None] = {}
    totals = []
    for name, value in pairs:
        parts = name.split(":")
        if parts[0] == "items":
            parts = parts[1:]
        if len(parts) >= 2 and parts[0].isdigit():
            rows.setdefault(parts[0], {})[":".join(parts[1:])] = value
            columns[":".join(parts[1:])] = None
        else:
            totals.append(f"{name}={value}")
    headers = [label, *columns]
    table = [[cls, *(stats.get(c) for c in columns)] for cls, stats in sorted(rows.items(), key=lambda i: int(i[0]))]
    return Result.table(headers, table, status=", ".join(totals))


def _flush_all(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    delay = _number(args[0], "delay") if args else 0
    when = f" in {delay}s" if delay else ""
    session.confirm(f"flush_all: invalidate every item on {handle.address}{when}?")
    handle.client.flush_all(delay=delay, noreply=False)
    handle.keys.clear()
    return Result.of_text("OK")


def _version(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    return Result.of_text(value_text(handle.client.version()))


def _help(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    if args:
        verb = VERBS.get(args[0].lower())
        if verb is None:
            raise NotFound(f"no memcache verb {args[0]!r}")
        return Result.of_text(f"{args[0].lower()} {verb.usage}\n\n{verb.summary}")
    width = max(len(f"{n} {v.usage}") for n, v in VERBS.items())
    lines = ["memcache mode: memcached's text protocol verbs (`\\q` back to local, `\\cmd` for opsh).", ""]
    lines += [f"  {f'{n} {v.usage}'.ljust(width)}  {v.summary}" for n, v in VERBS.items()]
    return Result.of_text("\n".join(lines))


VERBS: dict[str, Verb] = {
    "get": Verb("KEY [KEY ...]", "the value of a key (several keys: a table)", 1, 1000, _get),
    "gets": Verb("KEY [KEY ...]", "values with their CAS tokens and flags", 1, 1000, _gets),
    "set": Verb("KEY VALUE [TTL [FLAGS]]", "store a value (TTL in seconds, 0 = none)", 2, 4, _store("set")),
    "add": Verb("KEY VALUE [TTL [FLAGS]]", "store only if the key does not exist", 2, 4, _store("add")),
    "replace": Verb("KEY VALUE [TTL [FLAGS]]", "store only if the key exists", 2, 4, _store("replace")),
    "append": Verb("KEY VALUE", "add to the end of a value", 2, 2, _concat("append")),
    "prepend": Verb("KEY VALUE", "add to the start of a value", 2, 2, _concat("prepend")),
    "cas": Verb("KEY VALUE CAS [TTL]", "store only if unchanged since `gets` gave CAS", 3, 4, _cas),
    "delete": Verb("KEY", "remove a key", 1, 1, _delete),
    "incr": Verb("KEY [N]", "add N (default 1) to a number", 1, 2, _counter("incr")),
    "decr": Verb("KEY [N]", "subtract N (default 1) from a number, stopping at 0", 1, 2, _counter("decr")),
    "touch": Verb("KEY TTL", "set a new time to live", 2, 2, _touch),
    "stats": Verb("[items|slabs|settings|sizes|conns]", "server statistics", 0, 1, _stats),
    "flush_all": Verb("[DELAY]", "invalidate every item (asks first)", 0, 1, _flush_all),
    "version": Verb("", "the server's version", 0, 0, _version),
    "help": Verb("[VERB]", "this list, or one verb's usage", 0, 1, _help),
}
_WRITES = frozenset(
    ("set", "add", "replace", "append", "prepend", "cas", "delete", "incr", "decr", "touch", "flush_all")
)
_KEYED = frozenset(VERBS) - {"stats", "flush_all", "version", "help"}


# ---------------------------------------------------------------- completion and colours


class _VerbCompleter:
    """Verbs with their usage as meta; key names seen in this session after a keyed verb."""

    def __init__(self, handle: MemcacheHandle) -> None:
        self.handle = handle

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Any]:
        from prompt_toolkit.completion import Completion

        from opsh.shell.syntax.words import split_partial

        words, prefix, typed = split_partial(self.handle.current_statement(document.text_before_cursor))
        if not words:
            for name, verb in VERBS.items():
                if name.startswith(prefix.lower()):
                    yield Completion(name, -typed, display_meta=verb.usage or verb.summary)
        elif words[0].lower() == "stats" and len(words) == 1:
            for group in _STATS_GROUPS:
                if group.startswith(prefix):
                    yield Completion(group, -typed)
        elif words[0].lower() in _KEYED and (len(words) == 1 or words[0].lower() in ("get", "gets")):
            for key in sorted(k for k in self.handle.keys if k.startswith(prefix))[:200]:
                yield Completion(key, -typed, display_meta="key")


class _VerbLexer:
    def lex_document(self, document: Document) -> Callable[[int], list[tuple[str, str]]]:
        def line(number: int) -> list[tuple[str, str]]:
            text = document.lines[number] if number < len(document.lines) else ""
            head, sep, rest = text.lstrip().partition(" ")
            indent = text[: len(text) - len(text.lstrip())]
            style = "class:cmd" if head.lower() in VERBS else "class:cmd.unknown"
            return [("", indent), (style, head), ("", sep + rest)] if head else [("", text)]

        return line


# ---------------------------------------------------------------- connecting


def connect_memcache(session: Session, request: ConnectRequest) -> Handle:
    """`connect memcache://host:port`: checks the server answers `version` before the mode opens."""
    from pymemcache.client.base import Client

    if request.options:
        raise UsageError(f"unknown option(s) for memcache://: {', '.join(sorted(request.options))}")
    client = Client(
        (request.host, request.port(DEFAULT_PORT)),
        serde=FlagSerde(),
        connect_timeout=session.timeout,
        timeout=session.timeout,
        no_delay=True,
        default_noreply=False,
        allow_unicode_keys=True,
    )
    handle = MemcacheHandle(request, client)
    handle.ping()
    return handle


CONNECTORS = {"memcache": connect_memcache, "memcached": connect_memcache}
