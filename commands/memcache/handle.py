"""A memcached connection as an opsh mode, and what each verb asks of the server.

pymemcache's Client with a serializer that keeps values as bytes and hands back the item's
flags; replies become Results in render.py. After Ctrl-C the socket is dropped (a reply may
be half read); a lost connection goes through the shell's one reconnect path (one
`cannot reach memcache at ...` line, not pymemcache's exception names), and the next verb
reconnects by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from opsh.commands.memcache import guard
from opsh.commands.memcache.render import gets_table, number_result, outcome, stats_result, value_result, value_text
from opsh.commands.memcache.syntax import STATS_GROUPS, encode, number, parse
from opsh.commands.shared.deadline import Deadline, no_answer
from opsh.shell.errors import ConnectionLost, UsageError, swallowed
from opsh.shell.handles import ConnectRequest, Handle, peer_closed
from opsh.shell.result import Result

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.session import Session

DEFAULT_PORT = 11211
KEY_MEMORY = 10_000  # key names remembered for completion

Run = Callable[["MemcacheHandle", "Session", list[str]], Result]


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
    server_name = "memcache"

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
        except Exception:  # noqa: BLE001 - closing must not fail
            swallowed("closing a memcache connection")

    def cancel(self) -> None:
        """After Ctrl-C a reply may be half read: drop the socket; the next verb reconnects."""
        self.close()

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        from pymemcache.exceptions import MemcacheUnexpectedCloseError

        return (MemcacheUnexpectedCloseError, ConnectionError, TimeoutError)

    def connection_stale(self) -> bool:
        return peer_closed(getattr(self.client, "sock", None))

    def toolbar(self) -> str:
        return self.address

    def lexer(self) -> Lexer | None:
        from opsh.commands.memcache.complete import VerbLexer

        return VerbLexer()

    def completer(self, session: Session) -> Completer | None:
        from opsh.commands.memcache.complete import VerbCompleter

        return VerbCompleter(self)

    def execute(self, session: Session, statement: str) -> Result:
        parsed = parse(statement)
        if parsed is None:
            return Result.empty()
        name, args = parsed
        guard.refuse_writes(self.readonly, name, self.name)
        try:
            return RUNS[name](self, session, args)
        except (ValueError, IndexError, KeyError):
            # pymemcache parses replies with int() and split(): bytes that break the protocol
            # (`VALUE k 0 abc`, a VALUE for a key not asked) fail there. What follows on the
            # connection cannot be trusted to line up, so it is dropped (the next verb reconnects).
            self.close()
            raise ConnectionLost(
                f"protocol error from memcache at {self.address}: a reply that does not follow memcached's protocol",
                "the connection was reset; the next verb reconnects",
            ) from None

    def remember(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.keys[key] = None
        while len(self.keys) > KEY_MEMORY:
            self.keys.pop(next(iter(self.keys)))

    def forget(self, key: str) -> None:
        self.keys.pop(key, None)


# ---------------------------------------------------------------- verbs


def _get(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    if len(args) > 1:
        return _gets(handle, session, args, with_cas=False)
    found = handle.client.get(args[0])
    if found is None:
        return value_result(None, status=f"not found: {args[0]}")
    handle.remember(args)
    return value_result(found[0])


def _gets(handle: MemcacheHandle, session: Session, args: list[str], with_cas: bool = True) -> Result:
    client = handle.client
    found = client.gets_many(args) if with_cas else {k: (v, None) for k, v in client.get_many(args).items()}
    handle.remember(k for k in args if k in found)
    return gets_table(args, found, with_cas)


def _store(verb: str) -> Run:
    def run(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
        key, value = args[0], encode(args[1])
        ttl = number(args[2], "ttl") if len(args) > 2 else 0
        flags = number(args[3], "flags") if len(args) > 3 else None
        method = getattr(handle.client, verb)
        stored = method(key, value, expire=ttl, noreply=False, flags=flags)
        handle.remember([key])
        why = {"add": "the key exists", "replace": "no such key"}.get(verb, "")
        return outcome("STORED" if stored else "NOT_STORED", bool(stored), "" if stored else why)

    return run


def _concat(verb: str) -> Run:
    def run(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
        stored = getattr(handle.client, verb)(args[0], encode(args[1]), noreply=False)
        return outcome("STORED" if stored else "NOT_STORED", bool(stored), "" if stored else "no such key")

    return run


def _delete(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    deleted = handle.client.delete(args[0], noreply=False)
    handle.forget(args[0])
    return outcome("DELETED" if deleted else "NOT_FOUND", deleted)


def _counter(verb: str) -> Run:
    def run(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
        amount = number(args[1], "amount") if len(args) > 1 else 1
        value = getattr(handle.client, verb)(args[0], amount, noreply=False)
        if value is None:
            return outcome("NOT_FOUND", False)
        return number_result(value)

    return run


def _touch(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    touched = handle.client.touch(args[0], number(args[1], "ttl"), noreply=False)
    return outcome("TOUCHED" if touched else "NOT_FOUND", touched)


def _cas(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    key, value, token = args[0], encode(args[1]), args[2]
    number(token, "CAS")
    ttl = number(args[3], "ttl") if len(args) > 3 else 0
    stored = handle.client.cas(key, value, token, expire=ttl, noreply=False)
    if stored is None:
        return outcome("NOT_FOUND", False)
    return outcome("STORED" if stored else "EXISTS", stored, "" if stored else "changed since that gets")


def _stats(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    if args and args[0] not in STATS_GROUPS:
        raise UsageError(f"stats {args[0]}: unknown group", f"one of: {', '.join(STATS_GROUPS)}")
    return stats_result(handle.client.stats(*args), args[0] if args else None)


def _flush_all(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    delay = number(args[0], "delay") if args else 0
    guard.confirm_flush(session, handle.address, delay)
    handle.client.flush_all(delay=delay, noreply=False)
    handle.keys.clear()
    return Result.of_text("OK")


def _version(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    return Result.of_text(value_text(handle.client.version()))


def _help(handle: MemcacheHandle, session: Session, args: list[str]) -> Result:
    from opsh.commands.memcache.help import mode_help

    return mode_help(args)


RUNS: dict[str, Run] = {
    "get": _get,
    "gets": _gets,
    "set": _store("set"),
    "add": _store("add"),
    "replace": _store("replace"),
    "append": _concat("append"),
    "prepend": _concat("prepend"),
    "cas": _cas,
    "delete": _delete,
    "incr": _counter("incr"),
    "decr": _counter("decr"),
    "touch": _touch,
    "stats": _stats,
    "flush_all": _flush_all,
    "version": _version,
    "help": _help,
}


# ---------------------------------------------------------------- connecting


def connect_memcache(session: Session, request: ConnectRequest) -> Handle:
    """`connect memcache://host:port`: checks the server answers `version` before the mode
    opens; connecting and that answer together wait at most `timeout` (a Deadline: a server
    that answers a byte at a time cannot stretch it)."""
    if request.options:
        raise UsageError(f"unknown option(s) for memcache://: {', '.join(sorted(request.options))}")
    client = _client_class()(
        (request.host, request.port(DEFAULT_PORT)),
        serde=FlagSerde(),
        connect_timeout=session.timeout,
        timeout=session.timeout,
        no_delay=True,
        default_noreply=False,
        allow_unicode_keys=True,
    )
    handle = MemcacheHandle(request, client)
    with Deadline(session.timeout) as deadline:
        client.deadline = deadline
        try:
            handle.ping()
        except Exception:
            if not deadline.expired:
                raise
            handle.close()
            raise no_answer("memcache", handle.address, session.timeout, "memcached") from None
        finally:
            client.deadline = None
    return handle


@cache
def _client_class() -> Any:
    """pymemcache's Client, handing each socket it opens to the Deadline of the connect, if one
    runs (`_connect` is private to pymemcache: tests/connect/test_slow_handshakes.py fails if it
    moves)."""
    from pymemcache.client.base import Client

    base: Any = Client

    class Watched(base):  # type: ignore[misc]
        deadline: Deadline | None = None

        def _connect(self) -> None:
            super()._connect()
            if self.deadline is not None:
                self.deadline.watch(self.sock)

    return Watched
