"""Redis mode (redis-py): `connect redis://[user@]host:port/db` or `rediss://`, then raw commands.

Inside the mode `peek KEY`, `pipe FILE` and `help [CMD]` are opsh's own words; from anywhere,
`redis peek|pipe ... [--on NAME]` does the same on a Redis handle.

Inside this package `import redis` is redis-py (imports are absolute). The parts: handle.py
(connection, mode, reconnect), syntax.py (command names, blocking commands), complete.py
(completer and lexer), guard.py (confirmations, readonly through COMMAND INFO), render.py
(replies as Results), help.py (`help` in the mode), docs.py (command docs), resp.py (the typed
reply parser), pipe.py and peek.py (opsh's own words), errors.py (how redis-py's exceptions
read; imported here so that describing one finds it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from opsh.commands.redis.errors import ERRORS as ERRORS
from opsh.commands.shared.many.command import fan_out_line, forced, is_fan_out
from opsh.commands.shared.many.options import many_options
from opsh.commands.shared.many.targets import Backend, completions
from opsh.shell.errors import UsageError
from opsh.shell.handles import ConnectRequest, Handle
from opsh.shell.pick import pick_handle
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, Param, Setting, arg, opt

if TYPE_CHECKING:
    # The driver (redis-py) loads on the first connect, not at startup.
    from opsh.commands.redis.handle import RedisHandle

_ON = opt("--on", kind=Kind.HANDLE, help="the Redis handle (default: the current or only one)")


def redis_handle(session: Session, name: str | None) -> RedisHandle:
    """The handle named `name`, else the current one, else the only open Redis handle."""
    handle = pick_handle(session, name, "Redis", _is_redis, ("redis://host:6379/0",))
    return cast("RedisHandle", handle)


def _is_redis(handle: Handle) -> bool:
    return handle.kind == "redis"


class RedisPeek(Command):
    name = "peek"
    area = "redis"
    summary = "type, TTL, memory, encoding, length and first N elements of a key"
    params = (arg("key", help="the key"), arg("count", Kind.INT, required=False, help="elements to show"), _ON)
    examples = ("redis peek user:42", "redis peek queue:jobs 20 --on cache")

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.redis.peek import peek

        handle = redis_handle(session, args.on)
        handle.timeout = session.timeout
        with handle.connection_guard():
            return peek(handle, session, [args.key] + ([str(args.count)] if args.count else []))

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[str] | None:
        if param.name != "key":
            return None
        handle = redis_handle(session, None)
        return handle.keys.matching(handle.db, prefix)


class RedisPipe(Command):
    name = "pipe"
    area = "redis"
    summary = "send a file of commands (one per line, or RESP) in pipelined batches; report errors, ops/s"
    params = (arg("file", Kind.PATH, help="commands, one per line (redis-cli quoting), or RESP"), _ON)
    examples = ("redis pipe load.txt", "redis pipe dump.resp --on cache")

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.redis.pipe import pipe

        handle = redis_handle(session, args.on)
        handle.timeout = session.timeout
        with handle.connection_guard():
            return pipe(handle, session, [args.file])


class RedisCommand(Command):
    name = "redis"
    area = "redis"
    statement_rest = True
    summary = "a Redis command on a Redis handle, or on many at once; peek a key, pipe a file of commands"
    usage = "redis [--on TARGETS] COMMAND [ARG...] | redis peek|pipe ..."
    subcommands = (RedisPeek, RedisPipe)
    params = (
        arg("command", Kind.REST, required=False, help="a Redis command and its arguments (options before or after)"),
        *many_options("Redis"),
    )
    examples = (
        "connect redis://127.0.0.1:6379/0 as cache",
        "redis peek user:42",
        "redis pipe load.txt --on cache",
        "redis --on cache DBSIZE",
        "redis --on cache[1-3] INFO keyspace   # one table: target, field, value",
        "redis --on @caches --group CONFIG GET maxmemory",
        "redis --on @caches FLUSHALL           # asks once, naming every target",
        "redis --on @failed PING",
    )

    def run(self, session: Session, args: Args) -> Result:
        words = list(args.command)
        if not words:
            raise UsageError("redis: no command given", "e.g. redis --on cache[1-3] INFO keyspace, or redis peek KEY")
        if is_fan_out(session, args.on, args.exclude):
            return fan_out_line(session, _backend(), args, words)
        handle = redis_handle(session, args.on)
        return forced(_run_one(session, handle, words), args.format)

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[str] | None:
        if param.name in ("on", "exclude"):
            return completions(session, _backend(), prefix)
        return None

    @classmethod
    def sends(cls, handle: Handle, line: str) -> str | None:
        """`HGETALL user:1` typed in the local mode while a Redis handle is open."""
        from opsh.commands.redis.docs import builtin_catalog

        if not _is_redis(handle) or line.split(None, 1)[0].upper() not in builtin_catalog().commands:
            return None
        return f"redis --on {handle.name} {line.strip()}"


def _backend() -> Backend:
    """The Redis hook of the fan-out: redis handles, redis:// (and rediss, unix) connections,
    and a command run as the mode runs it (read-only flags and confirmations included)."""
    return Backend("redis", frozenset(CONNECTORS), _is_redis, _run_one)


def _run_one(session: Session, handle: Handle, words: list[str]) -> Result:
    redis = cast("RedisHandle", handle)
    redis.timeout = session.timeout
    with redis.connection_guard():
        return redis.dispatch(session, list(words))


def connect(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.redis.handle import connect_redis

    return connect_redis(session, request)


COMMANDS = (RedisCommand,)
CONNECTORS = {"redis": connect, "rediss": connect, "redis+unix": connect, "unix": connect}
SETTINGS = (
    Setting(
        "raw",
        Kind.CHOICE,
        "auto",
        "Redis replies as redis-cli --raw: auto (when output is not a terminal), on, off",
        ("auto", "on", "off"),
    ),
)
